package main

import (
	"fmt"
	"os"

	"github.com/tidingsdev/tidings/internal/delivery"
)

// topics are the message topics in force: the built-in ones with
// TIDINGS_POLICY_FILE laid over them. A broken file stops the command with
// its line and column.
func (a *app) topics() (map[string]delivery.Topic, error) {
	if a.cfg.PolicyFile == "" {
		return delivery.DefaultTopics(), nil
	}
	data, err := os.ReadFile(a.cfg.PolicyFile)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("TIDINGS_POLICY_FILE: %w", err))
	}
	t, err := delivery.LoadTopics(data, a.cfg.PolicyFile)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return t, nil
}
