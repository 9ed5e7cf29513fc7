package main

import (
	"fmt"
	"strings"

	"github.com/tidingsdev/tidings/workflows"
)

// journeysHelp lists every registered journey with its summary, for the
// help of the commands that run or schedule them.
func journeysHelp() string {
	var b strings.Builder
	for _, j := range workflows.Journeys() {
		fmt.Fprintf(&b, "  %-12s %s\n", j.Name, j.Summary)
	}
	return strings.TrimRight(b.String(), "\n")
}

// sweepKindsHelp is the run: kinds a schedules file may name.
func sweepKindsHelp() string {
	return strings.Join(workflows.SweepKinds(), " | ")
}
