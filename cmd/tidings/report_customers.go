package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// periodFlags are --since and --until, read by reports.ParsePeriod. The
// period is months calendar months back unless they say otherwise; note
// adds to what the help says of that default.
type periodFlags struct {
	since, until string
	months       int
	note         string
}

func (f *periodFlags) register(cmd *cobra.Command) {
	def := fmt.Sprintf("%d calendar months back%s", f.months, f.note)
	cmd.Flags().StringVar(&f.since, "since", "", "start of the period: a date (2025-01-01), an RFC 3339 time or an age (90d, 12w) (default: "+def+")")
	cmd.Flags().StringVar(&f.until, "until", "", "end of the period, exclusive, written like --since (default: now)")
}

func (f *periodFlags) period() (reports.Period, error) {
	now := time.Now()
	p, err := reports.ParsePeriod(f.since, f.until, now, reports.MonthsBack(now, f.months))
	return p, reportInputErr(err)
}

func newReportRetentionCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 13}
	var out output
	var offsets []int
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Retention triangle: each monthly first-purchase cohort's share purchasing 1, 2, 3, 6, 12 months later",
		Long: `Print the retention triangle of the customers whose first purchase falls in
the period (default: the last 13 calendar months, so the oldest cohort shows
its 12th month): one row per cohort month, one column per offset, each cell
the share of the cohort that purchased in the month that many months after
its first. A "-" is a month that has not begun. Months are UTC.

The same report is GET /v1/reports/retention. Formulas: docs/reports.md.`,
		Example: `  tidings report retention
  tidings report retention --since 2025-01-01 --offsets 1,2,3 --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			p, err := pf.period()
			if err != nil {
				return err
			}
			r, err := reports.Retention(ctx, st, p, offsets)
			if err != nil {
				return reportInputErr(err)
			}
			head := []string{"cohort", "customers"}
			for _, o := range r.Offsets {
				head = append(head, fmt.Sprintf("+%d", o))
			}
			rows := [][]string{head}
			for _, row := range r.Rows {
				line := []string{row.Cohort, strconv.Itoa(row.Size)}
				for _, rate := range row.Rates {
					line = append(line, csvNum(rate))
				}
				rows = append(rows, line)
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "retention of first-purchase cohorts, %s until %s (UTC): %s\n\n", day(r.Since), day(r.Until), r.Definition)
				for _, line := range rows[1:] {
					for i := 2; i < len(line); i++ {
						if line[i] != "" {
							v, _ := strconv.ParseFloat(line[i], 64)
							line[i] = percent(v)
						}
					}
				}
				tableOf(w, rows)
			})
		}),
	}
	pf.register(cmd)
	out.register(cmd)
	cmd.Flags().IntSliceVar(&offsets, "offsets", nil, "months after the first purchase to show (default 1,2,3,6,12)")
	return cmd
}

func newReportChurnCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 12}
	var out output
	var days int
	cmd := &cobra.Command{
		Use:   "churn",
		Short: "Churn rate per month: customers active at the start with no purchase in N days by the end",
		Long: `Print the churn rate of each month of the period (default: the last 12
calendar months). A customer is active at a moment when they purchased in
the --days (default 90) before it; a month's churned customers were active
at its start and are not at its end, and its rate is churned / active at
the start. Gained customers are active at the end but were not at the start
(new or returning).

The same report is GET /v1/reports/churn. Formulas: docs/reports.md.`,
		Example: `  tidings report churn
  tidings report churn --days 60 --since 2025-01-01 --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			p, err := pf.period()
			if err != nil {
				return err
			}
			if days < 1 {
				return withCode(exitUsage, fmt.Errorf("--days: must be at least 1"))
			}
			r, err := reports.Churn(ctx, st, p, days)
			if err != nil {
				return reportInputErr(err)
			}
			rows := [][]string{{"month", "active_at_start", "churned", "churn_rate", "gained", "active_at_end"}}
			for _, row := range r.Rows {
				rows = append(rows, []string{row.Label, strconv.Itoa(row.ActiveAtStart), strconv.Itoa(row.Churned),
					csvNum(row.Rate), strconv.Itoa(row.Gained), strconv.Itoa(row.ActiveAtEnd)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "churn per month, %s until %s (UTC); %s\n\n", day(r.Since), day(r.Until), r.Definition)
				for i, row := range r.Rows {
					rows[i+1][3] = pct(row.Rate)
				}
				tableOf(w, rows)
			})
		}),
	}
	pf.register(cmd)
	out.register(cmd)
	cmd.Flags().IntVar(&days, "days", reports.DefaultChurnDays, "a customer without a purchase in this many days is no longer active")
	return cmd
}

func newReportLifecycleCmd(a *app) *cobra.Command {
	var out output
	var at string
	cmd := &cobra.Command{
		Use:   "lifecycle",
		Short: "Customers per lifecycle stage: new, prospect, loyal, active, at risk, lapsed",
		Long: `Count the customers in each lifecycle stage now (or --at a moment), by the
rules segments use for the lifecycle field (docs/segments.md), so these
counts are what a segment {lifecycle: STAGE} would hold.

The same report is GET /v1/reports/lifecycle.`,
		Example: `  tidings report lifecycle
  tidings report lifecycle --at 2025-06-01 --json`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			when := time.Now()
			if at != "" {
				t, err := reports.ParseTime(at, when)
				if err != nil {
					return withCode(exitUsage, fmt.Errorf("--at: %w", err))
				}
				when = t
			}
			r, err := reports.Lifecycle(ctx, st.Pool(), when)
			if err != nil {
				return err
			}
			rows := [][]string{{"stage", "customers", "share"}}
			for _, s := range r.Stages {
				rows = append(rows, []string{s.Stage, strconv.FormatInt(s.Customers, 10), csvNum(s.Share)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "%d customers by lifecycle stage at %s\n\n", r.Total, r.At.UTC().Format("2006-01-02 15:04"))
				for i, s := range r.Stages {
					rows[i+1][2] = pct(s.Share)
				}
				tableOf(w, rows)
			})
		}),
	}
	out.register(cmd)
	cmd.Flags().StringVar(&at, "at", "", "count as of this date, RFC 3339 time or age (30d) (default: now)")
	return cmd
}
