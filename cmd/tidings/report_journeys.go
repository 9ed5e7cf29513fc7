package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func newReportJourneyCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 12}
	var out output
	cmd := &cobra.Command{
		Use:   "journey NAME",
		Short: "What a built-in journey earned: runs, conversions, recovered customers and revenue by the step credited",
		Long: `Print a journey's runs started in the period (default: the last 12 calendar
months) and how many converted, and the conversions recorded in the period:
the customers recovered (win-back) or activated (onboarding) and their
revenue, each credited to the step before the goal event (last touch,
within the journey's own goal window).

The same report is GET /v1/reports/journeys/{name}. Formulas: docs/reports.md.`,
		Example: `  tidings report journey winback
  tidings report journey onboarding --since 90d --csv`,
		Args: exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, args []string) error {
			p, err := pf.period()
			if err != nil {
				return err
			}
			r, err := reports.Journey(ctx, st, args[0], p)
			if err != nil {
				return reportInputErr(err)
			}
			rows := [][]string{{"step", "currency", "conversions", "customers", "revenue"}}
			for _, s := range r.Steps {
				rows = append(rows, []string{s.Step, s.Currency, strconv.Itoa(s.Conversions), strconv.Itoa(s.Customers), money(s.Revenue)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "journey %s, %s until %s (UTC)\n\n", r.Journey, day(r.Since), day(r.Until))
				fmt.Fprintf(w, "%d runs for %d customers started; %d converted (%s)\n", r.Runs, r.Customers, r.Converted, pct(r.ConversionRate))
				fmt.Fprintf(w, "%d customers converted in the period", r.Recovered)
				for _, cur := range slices.Sorted(maps.Keys(r.Revenue)) {
					fmt.Fprintf(w, ", %s %s", money(r.Revenue[cur]), orNone(cur))
				}
				fmt.Fprintln(w)
				if len(r.Steps) > 0 {
					fmt.Fprintln(w, "\nrevenue by the step before the goal (last touch):")
					tableOf(w, rows)
				}
			})
		}),
	}
	pf.register(cmd)
	out.register(cmd)
	return cmd
}

func newReportAcquisitionCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 12}
	var out output
	var costs []string
	cmd := &cobra.Command{
		Use:   "acquisition",
		Short: "Signups by source, with CAC and CLV:CAC where the source's cost is given",
		Long: `Print the customers who signed up in the period (default: the last 12
calendar months), each once by the "source" property of their first signup
event ever, how many of them have bought and what they spent (as of the
hourly refresh for those who signed up before it). Give what each source
cost in the period with --cost source=amount, or each source's monthly
spend in the policy file (acquisition: {monthly_spend: {source: amount}}),
to get the CAC (cost / buyers) and the ratio of their historical CLV
(revenue / buyers) to it.

The same report is GET /v1/reports/acquisition?cost=source=amount.`,
		Example: `  tidings report acquisition
  tidings report acquisition --since 2026-01-01 --cost google-ads=1200 --cost referral=300`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			p, err := pf.period()
			if err != nil {
				return err
			}
			c, err := reports.ParseCosts(costs)
			if err != nil {
				return reportInputErr(err)
			}
			spend, err := a.parts.AcquisitionSpend()
			if err != nil {
				return err
			}
			r, err := reports.Acquisition(ctx, st, p, reports.CostsFor(c, spend, p))
			if err != nil {
				return reportInputErr(err)
			}
			rows := [][]string{{"source", "signups", "buyers", "revenue", "cost", "cac", "clv", "clv_to_cac"}}
			for _, s := range r.Sources {
				rows = append(rows, []string{orNone(s.Source), strconv.Itoa(s.Signups), strconv.Itoa(s.Buyers), money(s.Revenue),
					csvMoney(s.Cost), csvMoney(s.CAC), csvMoney(s.CLV), csvNum(s.CLVToCAC)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "signups by source, %s until %s (UTC)\n", day(r.Since), day(r.Until))
				if r.AsOf != nil {
					fmt.Fprintf(w, "buyers and revenue of the signups before %s as of then, kept by the hourly refresh\n", r.AsOf.UTC().Format("2006-01-02 15:04 UTC"))
				}
				fmt.Fprintln(w)
				for i, s := range r.Sources {
					rows[i+1][7] = num(s.CLVToCAC, 2)
				}
				tableOf(w, rows)
				if r.Hint != "" {
					fmt.Fprintln(w, "\nto see CAC per source: "+r.Hint+" (--cost source=amount)")
				}
			})
		}),
	}
	pf.register(cmd)
	out.register(cmd)
	cmd.Flags().StringArrayVar(&costs, "cost", nil, "what a source cost in the period, source=amount (repeat per source)")
	return cmd
}
