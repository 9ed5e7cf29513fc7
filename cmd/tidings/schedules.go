package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/schedules"
)

func newSchedulesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "Declare and operate the recurring work (Temporal Schedules)",
		Long: `Recurring work runs from Temporal Schedules, each starting a journey's
sweep (run: ` + sweepKindsHelp() + `).
Declare them in a YAML file and apply it:

  schedules:
    - id: birthday-sweep
      cron: "0 * * * *"          # minute hour day-of-month month day-of-week
      time_zone: UTC             # IANA zone the spec is read in
      run: birthday_sweep        # ` + sweepKindsHelp() + `
    - id: vip-new-year
      calendar: {hour: "10", day_of_month: "1", month: "1"}
      time_zone: Asia/Taipei
      run: care_send
      template: new_year
      topic: care
      audience: vip              # customers tagged vip; omit for everyone
      # segment: vip-zh          # or a saved segment (tidings segments save)
      paused: false
      catchup_window: 6h         # how late a run missed during an outage may start

Cron specs use the subset that means the same to the preview and to Temporal:
exactly five fields, no "?", and never both day-of-month and day-of-week
restricted (cron fires when either matches, Temporal only when both do).`,
	}
	cmd.AddCommand(newSchedulesApplyCmd(a), newSchedulesEnsureCmd(a), newSchedulesListCmd(a), newSchedulesDescribeCmd(a),
		newSchedulesActionCmd(a, "pause", "Stop a schedule from firing until unpaused"),
		newSchedulesActionCmd(a, "unpause", "Let a paused schedule fire again"),
		newSchedulesActionCmd(a, "trigger", "Run a schedule's action once, now"),
		newSchedulesActionCmd(a, "delete", "Delete a schedule (running workflows keep running)"))
	return cmd
}

func newSchedulesApplyCmd(a *app) *cobra.Command {
	var dryRun bool
	var preview int
	cmd := &cobra.Command{
		Use:   "apply FILE.yaml",
		Short: "Create or update the schedules a file declares; unchanged ones are left alone",
		Long: `Create the schedules of FILE that do not exist and update those that differ.
Applying the same file again changes nothing. Every problem in the file is
reported with its line and column before anything reaches Temporal, and the
next fire times of each schedule are shown in its own time zone.

Exit status: 0 applied, 2 invalid file.`,
		Example: `  tidings schedules apply schedules.yaml
  tidings schedules apply schedules.yaml --dry-run --preview 10`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := loadFile(args[0])
			if err != nil {
				return err
			}
			// The file alone first, so its problems need no database.
			if _, err := schedules.Parse(f.Name, f.Text); err != nil {
				return withCode(exitUsage, err)
			}
			m, err := a.parts.Mgmt(ctx)
			if err != nil {
				return err
			}
			res, err := m.ApplySchedules(ctx, a.operator(), f, dryRun, preview)
			if err != nil {
				return mgmtErr(err)
			}
			for _, s := range res {
				state := s.Outcome
				if dryRun {
					state = "valid (dry run)"
				}
				paused := ""
				if s.Paused {
					paused = ", paused"
				}
				fmt.Fprintf(a.stdout, "%s: %s — %s %q in %s%s\n", s.ID, state, s.Run, s.Spec, s.Zone, paused)
				for _, t := range s.Next {
					fmt.Fprintf(a.stdout, "    next %s\n", t.Format("Mon 2006-01-02 15:04 MST"))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and preview only; do not touch Temporal")
	cmd.Flags().IntVar(&preview, "preview", 3, "how many next fire times to show per schedule")
	return cmd
}

func newSchedulesEnsureCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ensure",
		Short: "Create the default schedules that do not exist (the API does this once Temporal answers)",
		Long: `Create the default schedules (the hourly birthday sweep, the daily win-back
sweep, ...) that do not exist yet. Existing ones are never changed, so a
schedule an operator changed or paused stays as it is. tidings api runs the
same once Temporal is reachable; run this after registering a new namespace
or to check what exists.`,
		Example: `  tidings schedules ensure`,
		Args:    exactArgs(0),
		RunE: a.withTemporal(func(ctx context.Context, c client.Client, _ []string) error {
			created, err := schedules.EnsureDefaults(ctx, c.ScheduleClient(), a.cfg.TemporalTaskQueue)
			if err != nil {
				return err
			}
			for _, s := range schedules.Defaults().Schedules {
				state := "exists"
				if slices.Contains(created, s.ID) {
					state = "created"
				}
				fmt.Fprintf(a.stdout, "%s: %s — %s %q in %s\n", s.ID, state, s.Run, s.Spec(), s.Zone())
			}
			return nil
		}),
	}
}

func newSchedulesListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List schedules with their state and next fire time",
		Args:  exactArgs(0),
		RunE: a.withTemporal(func(ctx context.Context, c client.Client, _ []string) error {
			it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
			if err != nil {
				return fmt.Errorf("list schedules: %w", err)
			}
			tw := newTable(a.stdout, "ID\tWORKFLOW\tSTATE\tNEXT")
			for it.HasNext() {
				e, err := it.Next()
				if err != nil {
					return fmt.Errorf("list schedules: %w", err)
				}
				state, next := "active", "-"
				if e.Paused {
					state = "paused"
				}
				if len(e.NextActionTimes) > 0 {
					next = e.NextActionTimes[0].Local().Format("2006-01-02 15:04 MST")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, e.WorkflowType.Name, state, next)
			}
			return tw.Flush()
		}),
	}
}

func newSchedulesDescribeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "describe ID",
		Short: "Show a schedule: spec, zone, state, recent runs and the next fire times",
		Args:  exactArgs(1),
		RunE: a.withTemporal(func(ctx context.Context, c client.Client, args []string) error {
			d, err := c.ScheduleClient().GetHandle(ctx, args[0]).Describe(ctx)
			if err != nil {
				return scheduleErr(args[0], err)
			}
			zone := time.UTC
			if d.Schedule.Spec != nil && d.Schedule.Spec.TimeZoneName != "" {
				if loc, err := time.LoadLocation(d.Schedule.Spec.TimeZoneName); err == nil {
					zone = loc
				}
			}
			w := a.stdout
			fmt.Fprintf(w, "id:         %s\n", args[0])
			if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
				fmt.Fprintf(w, "runs:       %v on task queue %s\n", act.Workflow, act.TaskQueue)
			}
			fmt.Fprintf(w, "time zone:  %s\n", zone)
			if st := d.Schedule.State; st != nil {
				state := "active"
				if st.Paused {
					state = "paused"
				}
				fmt.Fprintf(w, "state:      %s %s\n", state, st.Note)
			}
			fmt.Fprintf(w, "runs so far: %d (%d skipped as overlapping, %d missed)\n", d.Info.NumActions, d.Info.NumActionsSkippedOverlap, d.Info.NumActionsMissedCatchupWindow)
			for _, r := range d.Info.RecentActions {
				fmt.Fprintf(w, "  ran   %s\n", r.ScheduleTime.In(zone).Format("Mon 2006-01-02 15:04 MST"))
			}
			for _, t := range d.Info.NextActionTimes {
				fmt.Fprintf(w, "  next  %s\n", t.In(zone).Format("Mon 2006-01-02 15:04 MST"))
			}
			return nil
		}),
	}
}

// newSchedulesActionCmd builds pause, unpause, trigger and delete, which
// differ only in the call they make.
func newSchedulesActionCmd(a *app, verb, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			if err := m.ScheduleAction(ctx, a.operator(), args[0], verb, note); err != nil {
				return mgmtErr(err)
			}
			fmt.Fprintf(a.stdout, "schedule %s: %s done\n", args[0], verb)
			return nil
		}),
	}
	if verb == "pause" || verb == "unpause" {
		cmd.Flags().StringVar(&note, "note", "", "why, shown by describe (e.g. \"holiday freeze\")")
	}
	return cmd
}

func scheduleErr(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return withCode(exitUsage, fmt.Errorf("no schedule %q (see tidings schedules list)", id))
	}
	return fmt.Errorf("schedule %s: %w", id, err)
}
