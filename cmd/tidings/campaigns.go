package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

func newCampaignsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaigns",
		Short: "Validate, dry-run, apply, pause, resume and archive marketer campaigns",
		Long: `A campaign file (YAML) says who gets what, when: an audience (a saved segment
or an inline definition), a trigger (a schedule, an event, or once at a
time), entry rules, a goal, a holdout, and steps (send, wait, branch, tag,
set, webhook). docs/campaigns.md is the reference; examples/campaigns/ has
ready files.

Applying a file stores a new version; runs already under way keep the
version they started with. Results: tidings report campaign NAME.`,
	}
	cmd.AddCommand(
		newCampaignsValidateCmd(a),
		newCampaignsDryRunCmd(a),
		newCampaignsApplyCmd(a),
		newCampaignsListCmd(a),
		newCampaignsShowCmd(a),
		newCampaignsStatusCmd(a, "pause", campaign.StatusPaused,
			"Stop a campaign from sending until it is resumed",
			`Pause a campaign: it sends nothing. Its schedule stops firing, and runs (those
under way and those events start meanwhile) wait at their next send.`),
		newCampaignsStatusCmd(a, "resume", campaign.StatusActive,
			"Let a paused campaign send again, skipping sends that are now stale",
			`Resume a paused campaign. Every run waiting at a send is woken at once, so a
send that fell due during the pause goes out within seconds if it is at most
the campaign's late_after old (default 12h); older ones are skipped and
counted in the report as late_after_pause, so customers are not flooded with
stale messages. Of the schedule firings the pause missed, the latest runs now
if it is at most late_after old; the others are skipped. A run that cannot be
woken (Temporal unreachable) checks again within 10 minutes; running resume
again wakes it too.`),
		newCampaignsStatusCmd(a, "archive", campaign.StatusArchived,
			"Retire a campaign: delete its schedule and end its runs",
			`Archive a campaign: its schedule is deleted, a once campaign that has not
sent yet never will, runs waiting at a send end now and other runs under way
at their next send. Its versions and results stay; applying the file again
brings it back.`),
	)
	return cmd
}

// campaignErr gives a campaign action's refusal the CLI's exit code: a bad
// file, an unknown campaign and an archived one are exit 2.
func campaignErr(err error) error {
	if _, ok := mgmt.Problems(err); ok || errors.Is(err, manage.ErrArchived) {
		return withCode(exitUsage, err)
	}
	return notFoundIsUsage(mgmtErr(err))
}

func newCampaignsValidateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check campaign files without touching the database or Temporal",
		Long: `Check campaign files: the YAML, every field, the cron spec (it must fire) and
time zones (IANA names, not abbreviations), the steps, and every message
against the templates (the template exists, has an SMS body when sent by SMS,
is given every var it reads and none it never reads, and renders in each
locale with those vars). A once time that has passed for every customer is
an error, as apply refuses it; one that has passed for some is a warning.
Saved segments named by the file are checked by dry-run and apply, which read
the database.

Exit status: 0 all valid, 2 problems found (each as file:line:column: path:
what was expected).`,
		Example: `  tidings campaigns validate examples/campaigns/*.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			return withCode(exitUsage, cobra.MinimumNArgs(1)(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Validation reads no database: the management functions over
			// the templates alone.
			m := mgmt.New(mgmt.Deps{Templates: a.parts.Templates}, mgmt.Options{})
			var problems []string
			for _, path := range args {
				f, err := loadFile(path)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				chk, err := m.ValidateCampaign(cmd.Context(), f, mgmt.CheckOptions{})
				if err != nil {
					return err
				}
				if !chk.Valid {
					for _, p := range chk.Problems {
						problems = append(problems, p.Text)
					}
					continue
				}
				fmt.Fprintf(a.stdout, "%s: ok — campaign %s, %s\n", path, chk.Campaign, chk.Summary)
				for _, w := range chk.Warnings {
					fmt.Fprintf(a.stdout, "warning: %s\n", w.Text)
				}
			}
			if len(problems) > 0 {
				return withCode(exitUsage, errors.New(strings.Join(problems, "\n")))
			}
			return nil
		},
	}
}

func newCampaignsDryRunCmd(a *app) *cobra.Command {
	var (
		at      string
		samples int
		next    int
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "dry-run FILE",
		Short: "Show who a campaign would reach and what they would get, sending nothing",
		Long: `Evaluate a campaign file against the database without storing or sending
anything: the audience and holdout sizes at the first firing, the first
message rendered through the templates for a few treatment customers (their
variant, the steps before it, the subject and text in their locale), and the
next schedule times.

Exit status: 0 planned, 2 the file is invalid or names a missing segment.`,
		Example: `  tidings campaigns dry-run examples/campaigns/spring-winback.yaml
  tidings campaigns dry-run examples/campaigns/nps-after-delivery.yaml --samples 5 --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			now := time.Now()
			if err := readTimes(timeFlag{"at", at, &now}); err != nil {
				return err
			}
			if samples < 0 || samples > 50 || next < 1 || next > 50 {
				return withCode(exitUsage, fmt.Errorf("--samples %d, --next %d: want 0 to 50 and 1 to 50", samples, next))
			}
			f, err := loadFile(args[0])
			if err != nil {
				return err
			}
			m, err := a.parts.Mgmt(ctx)
			if err != nil {
				return err
			}
			p, err := m.DryRunCampaign(ctx, f, mgmt.DryRunOptions{At: now, Samples: samples, Next: next})
			if err != nil {
				return campaignErr(err)
			}
			if asJSON {
				return writeJSON(a.stdout, p.Plan)
			}
			printPlan(a.stdout, p.Spec, p.Plan)
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "plan as of this time (RFC 3339) instead of now")
	cmd.Flags().IntVar(&samples, "samples", 3, "treatment customers whose first message to render")
	cmd.Flags().IntVar(&next, "next", 3, "upcoming schedule times to list")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

const timeLayout = "Mon 2006-01-02 15:04 MST"

func printPlan(w io.Writer, s *campaign.Spec, p manage.Plan) {
	fmt.Fprintf(w, "campaign %s (dry run: nothing stored or sent)\n", p.Campaign)
	fmt.Fprintf(w, "trigger:   %s\n", p.Trigger)
	fmt.Fprintf(w, "audience:  %d customers as of %s (query %s)\n", p.Audience, p.EvaluatedAt.Format(timeLayout), p.Took.Count.Round(time.Millisecond))
	if s.Holdout > 0 {
		fmt.Fprintf(w, "holdout:   %d held out (%d%%: they get nothing and are measured), %d in treatment\n", p.HeldOut, s.Holdout, p.Treatment)
	}
	for i, t := range p.Next {
		label := "           "
		if i == 0 {
			label = "next:      "
		}
		if s.Trigger.Kind == campaign.TriggerOnce && s.Trigger.Local {
			label = map[int]string{0: "first:     ", 1: "last:      "}[i]
		}
		fmt.Fprintf(w, "%s%s\n", label, t.Format(timeLayout))
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning:   %s\n", warn)
	}
	if len(p.Samples) == 0 {
		fmt.Fprintln(w, "\n(no treatment customers to sample)")
	} else {
		fmt.Fprintln(w, "\nfirst messages of treatment customers (their profile and locale, the file's vars; links are samples):")
	}
	for i, smp := range p.Samples {
		fmt.Fprintf(w, "\nsample %d: %s (%s, %s)", i+1, smp.ExternalID, smp.Locale, smp.TimeZone)
		if smp.Variant != "" {
			fmt.Fprintf(w, ", variant %s", smp.Variant)
		}
		fmt.Fprintln(w)
		if !smp.Starts.IsZero() {
			fmt.Fprintf(w, "  starts %s\n", smp.Starts.Format(timeLayout))
		}
		if smp.Step != "" {
			fmt.Fprintf(w, "  step %s: %s %s", smp.Step, smp.Channel, smp.Template)
			if len(smp.After) > 0 {
				fmt.Fprintf(w, ", after %s", strings.Join(smp.After, "; "))
			}
			fmt.Fprintln(w)
		}
		if smp.Problem != "" {
			fmt.Fprintf(w, "  cannot render: %s\n", smp.Problem)
			continue
		}
		r := smp.Rendered
		if r.SMS != "" {
			fmt.Fprintf(w, "  SMS (%s, %d segment(s)):\n%s\n", r.Locale, r.Segments, indent(r.SMS))
			continue
		}
		fmt.Fprintf(w, "  Subject (%s): %s\n\n%s\n", r.Locale, r.Subject, indent(r.Text))
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n")
}

func newCampaignsApplyCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Store a campaign file as its next version and create or update its trigger",
		Long: `Check a campaign file, store it as the campaign's next version and bring its
trigger in step: a Temporal Schedule for a schedule trigger, a runner started
at the time of a once trigger, event routing for an event trigger. Applying
an unchanged file changes nothing. Runs already under way keep the version
they started with; new runs take the new one. A paused campaign stays paused.

Exit status: 0 applied, 2 invalid file (nothing is stored).`,
		Example: `  tidings campaigns apply examples/campaigns/nps-after-delivery.yaml`,
		Args:    exactArgs(1),
		RunE: a.manageFile(func(ctx context.Context, m *mgmt.Service, f mgmt.File) error {
			res, err := m.ApplyCampaign(ctx, a.operator(), f)
			if err != nil {
				return campaignErr(err)
			}
			s := res.Spec
			if asJSON {
				return writeJSON(a.stdout, res.Applied)
			}
			fmt.Fprintf(a.stdout, "campaign %s: version %d %s\n", s.Name, res.Version, res.Outcome)
			printTrigger(a.stdout, s, res.Campaign.Status, res.Trigger, time.Now())
			fmt.Fprintf(a.stdout, "status: %s\n", res.Campaign.Status)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printTrigger(w io.Writer, s *campaign.Spec, status string, t manage.Trigger, now time.Time) {
	switch {
	case t.Kind == campaign.TriggerEvent && t.Outcome == manage.Stopped:
		fmt.Fprintf(w, "trigger: %s — events no longer start runs\n", manage.DescribeTrigger(s.Trigger))
	case t.Kind == campaign.TriggerEvent:
		fmt.Fprintf(w, "trigger: %s — runs start as events arrive\n", manage.DescribeTrigger(s.Trigger))
	case t.ID == "":
		fmt.Fprintf(w, "trigger: %s — %s\n", manage.DescribeTrigger(s.Trigger), t.Outcome)
	default:
		fmt.Fprintf(w, "trigger: %s %s — %s\n", t.ID, t.Outcome, manage.DescribeTrigger(s.Trigger))
	}
	switch {
	case status == campaign.StatusArchived:
	case status == campaign.StatusPaused:
		fmt.Fprintln(w, "    paused: nothing is sent until `tidings campaigns resume`")
	case t.Kind == campaign.TriggerSchedule:
		next, _ := manage.NextFirings(s.Trigger, now, 3)
		for _, at := range next {
			fmt.Fprintf(w, "    next %s\n", at.Format(timeLayout))
		}
	case t.Kind == campaign.TriggerOnce && !t.StartsAt.IsZero():
		fmt.Fprintf(w, "    starts %s\n", t.StartsAt.Format(timeLayout))
	}
}

func newCampaignsListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List campaigns with their status, version and trigger",
		Args:  exactArgs(0),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			cs, err := m.Campaigns(ctx)
			if err != nil {
				return err
			}
			return printList(a.stdout, asJSON, cs, "no campaigns; apply one with `tidings campaigns apply FILE`",
				"NAME\tSTATUS\tVERSION\tTRIGGER\tUPDATED\tDESCRIPTION", func(w io.Writer, c store.Campaign) {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", c.Name, c.Status, c.CurrentVersion, c.TriggerKind,
						c.UpdatedAt.Format("2006-01-02 15:04"), c.Description)
				})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCampaignsShowCmd(a *app) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a campaign's state and the file of its current (or an earlier) version",
		Example: `  tidings campaigns show nps-after-delivery
  tidings campaigns show nps-after-delivery --version 1`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			c, err := m.Campaign(ctx, args[0], version)
			if err != nil {
				return notFoundIsUsage(err)
			}
			v := store.CampaignVersion{Version: c.Version, Source: c.Source, CreatedAt: c.AppliedAt}
			fmt.Fprintf(a.stdout, "# campaign %s: %s, version %d of %d, trigger %s\n", c.Name, c.Status, v.Version, c.CurrentVersion, c.TriggerKind)
			if c.PausedAt != nil {
				fmt.Fprintf(a.stdout, "# last paused %s\n", c.PausedAt.Format(time.RFC3339))
			}
			if c.ResumedAt != nil {
				fmt.Fprintf(a.stdout, "# last resumed %s\n", c.ResumedAt.Format(time.RFC3339))
			}
			fmt.Fprintf(a.stdout, "# version %d applied %s\n", v.Version, v.CreatedAt.Format(time.RFC3339))
			if c.Winner != nil {
				printWinner(a.stdout, "# ", c.Winner)
			}
			fmt.Fprintln(a.stdout, strings.TrimRight(v.Source, "\n"))
			return nil
		}),
	}
	cmd.Flags().IntVar(&version, "version", 0, "an earlier version to print (default: the current one)")
	return cmd
}

// notFoundIsUsage makes an unknown campaign or version bad input (exit 2).
func notFoundIsUsage(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return withCode(exitUsage, fmt.Errorf("%w (see `tidings campaigns list`)", err))
	}
	return err
}

func newCampaignsStatusCmd(a *app, use, status, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Long:  long,
		Args:  exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			res, err := m.SetCampaignStatus(ctx, a.operator(), args[0], use)
			if err != nil {
				return campaignErr(err)
			}
			fmt.Fprintf(a.stdout, "campaign %s: %s\n", res.Campaign.Name, res.Campaign.Status)
			printTrigger(a.stdout, &res.Spec, res.Campaign.Status, res.Trigger, time.Now())
			switch status {
			case campaign.StatusActive:
				late := res.Spec.LateAfter
				if late <= 0 {
					late = campaign.DefaultLateAfter
				}
				fmt.Fprintf(a.stdout, "runs waiting at a send: %d woken; what fell due during the pause goes out now if at most %s late (late_after), older sends are skipped\n",
					res.Woken, spec.FormatDuration(late))
			case campaign.StatusArchived:
				fmt.Fprintf(a.stdout, "runs waiting at a send: %d woken; they end now, other runs at their next send\n", res.Woken)
			}
			if res.NotWoken > 0 {
				fmt.Fprintf(a.stdout, "%d could not be woken now (%s); they check again within %s, or run the command again\n",
					res.NotWoken, res.NotWokenWhy, spec.FormatDuration(workflows.CampaignGatePoll))
			}
			if status == campaign.StatusActive {
				switch n := len(res.Missed); {
				case n > 0 && !res.CaughtUp.IsZero():
					fmt.Fprintf(a.stdout, "missed firings: %d; the latest (%s) runs now, the rest are skipped\n", n, res.CaughtUp.Format(timeLayout))
				case n > 0:
					fmt.Fprintf(a.stdout, "missed firings: %d, all more than late_after ago: skipped\n", n)
				}
			}
			return nil
		}),
	}
}
