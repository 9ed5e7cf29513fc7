package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

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

func newJourneysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "journeys",
		Short: "The journeys this build runs: triggers, parameters in force, runs in flight",
	}
	cmd.AddCommand(newJourneysListCmd(a))
	return cmd
}

func newJourneysListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every journey with what starts it, its parameters and its runs in flight",
		Long: `List every registered journey: what starts it (events, or the schedule kind a
schedules file runs it with), the events it hears while it runs, each
parameter with the value in force and where it comes from (the journey's
default, or the journeys: section of TIDINGS_POLICY_FILE), and how many
per-customer runs are in flight (claimed and not finished). A mistake in the
policy file is reported as file:line:column, as the worker reports it.`,
		Example: `  tidings journeys list
  tidings --policy-file policy.yaml journeys list`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			settings, err := a.parts.JourneySettings()
			if err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			inFlight, err := st.RunsInFlight(cmd.Context())
			if err != nil {
				return err
			}
			printJourneys(a.stdout, settings, inFlight)
			return nil
		},
	}
}

// printJourneys writes one block per journey: its name and summary, what
// starts and steers it, its runs in flight, then its parameters.
func printJourneys(w io.Writer, s workflows.Settings, inFlight map[string]int) {
	for i, j := range workflows.Journeys() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", j.Name, j.Summary)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if starts := j.StartsOn(s); len(starts) > 0 {
			fmt.Fprintf(tw, "  started by\t%s\n", strings.Join(starts, ", "))
		}
		if j.Sweep != nil {
			fmt.Fprintf(tw, "  scheduled as\trun: %s\n", j.Sweep.Kind)
		}
		if steers := j.SteersOn(s); len(steers) > 0 {
			fmt.Fprintf(tw, "  hears\t%s\n", strings.Join(steers, ", "))
		}
		if j.Run != nil {
			fmt.Fprintf(tw, "  runs in flight\t%d\n", inFlight[j.Name])
		}
		v := j.Values(s)
		for _, p := range j.Params {
			value, from := p.Format(v[p.Name]), "default"
			if value != p.Format(p.Default) {
				from = "set"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, value, from, p.Doc)
		}
		_ = tw.Flush()
	}
}
