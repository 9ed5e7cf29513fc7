package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/store"
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
	cmd.AddCommand(newJourneysListCmd(a), newJourneysRunsCmd(a))
	return cmd
}

func newJourneysRunsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "runs CUSTOMER",
		Short: "List a customer's runs of every journey, newest first, with how each ended",
		Long: `List the runs of every per-customer journey a customer (Tidings ID or external
ID) was or is in, newest first: the journey, what started the run, when it
started and ended, and its outcome (converted, completed, already_run, ...;
empty while it runs). Campaign runs are in tidings report campaign.`,
		Example: `  tidings journeys runs C-1001`,
		Args:    exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, args []string) error {
			c, err := lookupCustomer(ctx, st, args[0])
			if err != nil {
				return err
			}
			var runs []store.JourneyRun
			for _, j := range workflows.PerCustomer() {
				rs, err := st.JourneyRuns(ctx, j.Name, c.ID)
				if err != nil {
					return err
				}
				runs = append(runs, rs...)
			}
			sort.SliceStable(runs, func(i, k int) bool { return runs[i].StartedAt.After(runs[k].StartedAt) })
			printRuns(a.stdout, runs)
			return nil
		}),
	}
}

// printRuns writes one line per run.
func printRuns(w io.Writer, runs []store.JourneyRun) {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no journey runs")
		return
	}
	_ = printRows(w, "JOURNEY\tTRIGGER\tSTARTED\tENDED\tOUTCOME", runs, func(w io.Writer, r store.JourneyRun) {
		ended, outcome := "", r.Outcome
		if r.EndedAt != nil {
			ended = r.EndedAt.UTC().Format(time.RFC3339)
		} else {
			outcome = "(running)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Journey, r.Trigger, r.StartedAt.UTC().Format(time.RFC3339), ended, outcome)
	})
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
		tw := aligned(w)
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
