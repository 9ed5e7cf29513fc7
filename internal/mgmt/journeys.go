package mgmt

import (
	"context"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// JourneyStore reads journey runs; *store.Store implements it.
type JourneyStore interface {
	CustomerJourneyRuns(ctx context.Context, customerID string, journeys []string) ([]store.JourneyRun, error)
	RunsInFlight(ctx context.Context) (map[string]int, error)
}

// JourneyInfo is one registered journey: what it does, what starts it,
// the parameters an operator may tune with the values in force, and how
// many of its runs are under way.
type JourneyInfo struct {
	Name        string `json:"name"`
	Summary     string `json:"summary"`
	PerCustomer bool   `json:"per_customer"`
	// Workflow is the per-customer runs' workflow type ("" for a sweep).
	Workflow   string         `json:"workflow,omitempty"`
	Starts     []string       `json:"starts"`
	Sweep      string         `json:"sweep,omitempty"`
	Templates  []string       `json:"templates"`
	Parameters []JourneyParam `json:"parameters"`
	InFlight   int            `json:"runs_in_flight"`
}

// JourneyParam is one tunable of a journey.
type JourneyParam struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Doc     string `json:"doc"`
	Default any    `json:"default"`
	// Value is what runs starting now get: the policy file's, else the
	// default.
	Value any `json:"value"`
	// Text is Value as the policy file writes it ("14d", "10:00",
	// "order_delivered=nps"), for people to read.
	Text string `json:"text"`
}

// Journeys lists the journey registry with parameters in force and runs in
// flight (started and not ended, as the runs' bookkeeping records them).
func (s *Service) Journeys(ctx context.Context) ([]JourneyInfo, error) {
	settings := workflows.Settings{}
	if s.settings != nil {
		var err error
		if settings, err = s.settings(); err != nil {
			return nil, err
		}
	}
	inFlight, err := s.store.RunsInFlight(ctx)
	if err != nil {
		return nil, err
	}
	out := []JourneyInfo{}
	for _, j := range workflows.Journeys() {
		values := workflows.Values{}
		info := JourneyInfo{Name: j.Name, Summary: j.Summary, PerCustomer: j.Run != nil, Starts: []string{}, Templates: j.Templates,
			Parameters: []JourneyParam{}, InFlight: inFlight[j.Name]}
		for _, p := range j.Params {
			v, set := settings[j.Name][p.Name]
			if !set {
				v = p.Default
			}
			values[p.Name] = v
			info.Parameters = append(info.Parameters, JourneyParam{Name: p.Name, Kind: string(p.Kind), Doc: p.Doc, Default: paramJSON(p.Default), Value: paramJSON(v), Text: p.Format(v)})
		}
		if j.Run != nil {
			info.Workflow = j.Run.Name
		}
		if j.Starts != nil {
			info.Starts = append(info.Starts, j.Starts(values)...)
		}
		if j.Sweep != nil {
			info.Sweep = j.Sweep.Kind
		}
		if info.Templates == nil {
			info.Templates = []string{}
		}
		out = append(out, info)
	}
	return out, nil
}

// paramJSON writes durations as people write them ("72h0m0s" reads badly
// as nanoseconds).
func paramJSON(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}

// CustomerJourneys lists a customer's journey runs (by Tidings ID or
// external ID), newest first, with their outcomes.
func (s *Service) CustomerJourneys(ctx context.Context, key string) ([]store.JourneyRun, error) {
	c, err := s.FindCustomer(ctx, key, false)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, j := range workflows.Journeys() {
		names = append(names, j.Name)
	}
	runs, err := s.store.CustomerJourneyRuns(ctx, c.ID, names)
	if runs == nil {
		runs = []store.JourneyRun{}
	}
	return runs, err
}
