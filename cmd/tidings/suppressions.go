package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

func newSuppressionsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "suppressions",
		Short: "List, add, remove and import suppressed addresses",
		Long: `The suppression list holds addresses that must never be messaged on a
channel, whatever their consent: hard bounces, complaints, numbers that
replied STOP, addresses ops put there. Every addition and removal is kept
with who made it. The same list is at /v1/suppressions.`,
	}
	cmd.AddCommand(newSuppressionsListCmd(a), newSuppressionsAddCmd(a), newSuppressionsRemoveCmd(a), newSuppressionsImportCmd(a))
	return cmd
}

func newSuppressionsListCmd(a *app) *cobra.Command {
	var f store.SuppressionFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List suppressions, newest first",
		Example: `  tidings suppressions list --reason complaint
  tidings suppressions list --channel sms --json`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, _ []string) error {
			sps, next, err := s.ListSuppressions(ctx, f)
			if err != nil {
				return badCursorIsUsage(err)
			}
			return printPage(a.stdout, a.stderr, asJSON, "suppressions", sps, next,
				"CHANNEL\tADDRESS\tREASON\tSOURCE\tSINCE\tDETAIL", func(w io.Writer, sp store.Suppression) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", sp.Channel, sp.Address, sp.Reason, orDash(sp.Source),
						sp.CreatedAt.Format(time.DateTime), clip(sp.Detail, 60))
				})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Channel, "channel", "", "email or sms")
	fl.StringVar(&f.Reason, "reason", "", "hard_bounce, soft_bounce, complaint, manual or unsubscribe")
	fl.StringVar(&f.Source, "source", "", "where they came from (ses, sendgrid, dsn, twilio, cli, api, import, ...)")
	fl.StringVar(&f.Address, "address", "", "addresses containing this")
	fl.IntVar(&f.Limit, "limit", 100, "rows per page (at most 1000)")
	fl.StringVar(&f.After, "after", "", "cursor printed by the previous page")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newSuppressionsAddCmd(a *app) *cobra.Command {
	var sp store.Suppression
	cmd := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Suppress an address (email, or a phone number with --channel sms)",
		Example: `  tidings suppressions add old-mailbox@example.com --detail "mailbox closed"
  tidings suppressions add +14155550123 --channel sms --reason unsubscribe`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			sp.Address, sp.Source = args[0], "cli"
			got, added, err := m.Suppress(ctx, a.operator(), sp, a.cfg.DefaultRegion)
			if err != nil {
				return mgmtErr(err)
			}
			if !added {
				fmt.Fprintf(a.stdout, "%s %s was already suppressed (%s, since %s); unchanged\n", got.Channel, got.Address, got.Reason, got.CreatedAt.Format(time.DateTime))
				return nil
			}
			fmt.Fprintf(a.stdout, "%s %s suppressed (%s)\n", got.Channel, got.Address, got.Reason)
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&sp.Channel, "channel", "email", "email or sms")
	fl.StringVar(&sp.Reason, "reason", store.Manual, "hard_bounce, soft_bounce, complaint, manual or unsubscribe")
	fl.StringVar(&sp.Detail, "detail", "", "why, kept with the entry")
	return cmd
}

func newSuppressionsRemoveCmd(a *app) *cobra.Command {
	var channel, note string
	cmd := &cobra.Command{
		Use:     "remove ADDRESS",
		Short:   "Let messages reach an address again (the removal is recorded)",
		Example: `  tidings suppressions remove ann@example.com --note "customer fixed the mailbox, ticket 4411"`,
		Args:    exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			sp, err := m.Unsuppress(ctx, a.operator(), channel, args[0], note)
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, fmt.Errorf("%s %s is not suppressed (see tidings suppressions list)", channel, args[0]))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s %s removed from the suppression list (was %s since %s)\n", sp.Channel, sp.Address, sp.Reason, sp.CreatedAt.Format(time.DateTime))
			return nil
		}),
	}
	cmd.Flags().StringVar(&channel, "channel", "email", "email or sms")
	cmd.Flags().StringVar(&note, "note", "", "why, kept in the address's history")
	return cmd
}

func newSuppressionsImportCmd(a *app) *cobra.Command {
	var channel, reason string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Suppress every address of a CSV file (address[,channel,reason,detail]) or a list, one per line",
		Long: `Reads a CSV file whose header names the columns address (required),
channel, reason and detail, or a plain list of addresses one per line ("-" is
standard input). --channel and --reason apply to rows that do not say. Every
row is checked on its own: rejected rows are reported with their line, the good
ones are imported regardless (exit 3 when some were rejected).`,
		Example: `  tidings suppressions import bounced-last-year.csv
  tidings suppressions import stops.txt --channel sms --reason unsubscribe`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			in, err := a.openInput(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			rows, problems, err := readSuppressions(in, channel, reason, a.cfg.DefaultRegion)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("%s: %w", args[0], err))
			}
			added, err := m.ImportSuppressions(ctx, a.operator(), rows)
			if err != nil {
				return err
			}
			for _, p := range problems {
				fmt.Fprintf(a.stderr, "%s:%s\n", args[0], p)
			}
			fmt.Fprintf(a.stdout, "%d rows read: %d suppressed now, %d already on the list, %d rejected\n",
				len(rows)+len(problems), added, len(rows)-added, len(problems))
			if len(problems) > 0 {
				return withCode(exitRejected, fmt.Errorf("%d rows rejected", len(problems)))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&channel, "channel", "email", "channel of rows that do not name one")
	cmd.Flags().StringVar(&reason, "reason", store.Manual, "reason of rows that do not name one")
	return cmd
}

// readSuppressions reads a CSV with a header naming address, or a list of
// addresses, and returns the valid rows and a "line: problem" per bad one.
func readSuppressions(in io.Reader, channel, reason, region string) ([]store.Suppression, []string, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, nil, err
	}
	cols := map[string]int{"address": 0}
	start := 0
	if len(recs) > 0 && strings.EqualFold(strings.TrimSpace(recs[0][0]), "address") || len(recs) > 0 && len(recs[0]) > 1 {
		cols = map[string]int{}
		for i, h := range recs[0] {
			cols[strings.ToLower(strings.TrimSpace(h))] = i
		}
		if _, ok := cols["address"]; !ok {
			return nil, nil, fmt.Errorf("the header has no address column (got %s)", strings.Join(recs[0], ", "))
		}
		start = 1
	}
	get := func(rec []string, col, def string) string {
		if i, ok := cols[col]; ok && i < len(rec) && strings.TrimSpace(rec[i]) != "" {
			return strings.TrimSpace(rec[i])
		}
		return def
	}
	var rows []store.Suppression
	var problems []string
	for n, rec := range recs[start:] {
		line := n + start + 1
		sp := store.Suppression{Address: get(rec, "address", ""), Channel: get(rec, "channel", channel),
			Reason: get(rec, "reason", reason), Detail: get(rec, "detail", ""), Source: "import"}
		if sp.Address == "" {
			continue
		}
		got, err := validate.Suppression(sp, region)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%d: %v", line, err))
			continue
		}
		rows = append(rows, got)
	}
	return rows, problems, nil
}
