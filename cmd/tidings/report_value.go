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

func newReportCLVCmd(a *app) *cobra.Command {
	var out output
	var by string
	cmd := &cobra.Command{
		Use:   "clv",
		Short: "Customer lifetime value, historical and predicted, by value tier, first-purchase cohort or saved segment, with each group's share of revenue",
		Long: `Print customer lifetime value over the buyers (customers with an order):
historical CLV (revenue / buyers) and predicted CLV (average order value ×
orders per buyer-year × expected lifetime in years, the lifetime being
1 / the annual churn rate, at most 10 years), in total and by value tier
(high, mid, low from the RFM scores; the share of revenue each brings), by
first-purchase cohort (--by cohort) or by saved segment (--by segment: the
buyers each segment holds; segments overlap). The figures are as of the
hourly refresh, which keeps them ("as of" says when); before any refresh
they are counted now.

The same report is GET /v1/reports/clv. Formulas: docs/reports.md.`,
		Example: `  tidings report clv
  tidings report clv --by cohort --csv
  tidings report clv --by segment`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			if by != "tier" && by != "cohort" && by != "segment" {
				return withCode(exitUsage, fmt.Errorf("--by: %q is not tier, cohort or segment", by))
			}
			r, err := reports.Value(ctx, st, time.Now())
			if err != nil {
				return err
			}
			groups := r.ByTier
			switch by {
			case "cohort":
				groups = r.ByCohort
			case "segment":
				groups = r.BySegment
			}
			rows := [][]string{{by, "buyers", "orders", "revenue", "revenue_share", "historical_clv", "aov", "orders_per_year", "lifetime_years", "predicted_clv"}}
			for _, row := range append([]reports.ValueRow{r.Total}, groups...) {
				rows = append(rows, []string{row.Label, strconv.Itoa(row.Customers), strconv.FormatInt(row.Orders, 10),
					money(row.Revenue), csvNum(row.RevenueShare), csvMoney(row.HistoricalCLV), csvMoney(row.AOV),
					csvNum(row.Frequency), csvNum(row.LifetimeYears), csvMoney(row.PredictedCLV)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				if r.AsOf != nil {
					fmt.Fprintf(w, "customer value of %d buyers as of %s, kept by the hourly refresh\n\n", r.Total.Customers, r.AsOf.UTC().Format("2006-01-02 15:04 UTC"))
				} else {
					fmt.Fprintf(w, "customer value of %d buyers at %s\n\n", r.Total.Customers, r.At.UTC().Format("2006-01-02 15:04"))
				}
				for i, row := range append([]reports.ValueRow{r.Total}, groups...) {
					rows[i+1][4], rows[i+1][7], rows[i+1][8] = pct(row.RevenueShare), num(row.Frequency, 2), num(row.LifetimeYears, 1)
				}
				tableOf(w, rows)
				fmt.Fprintln(w, "\npredicted CLV = AOV × orders per year × lifetime years; lifetime = 1 / annual churn (at most 10)")
			})
		}),
	}
	out.register(cmd)
	cmd.Flags().StringVar(&by, "by", "tier", "group by tier, cohort or segment")
	return cmd
}

func newReportRFMCmd(a *app) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "rfm",
		Short: "RFM grid: customers by recency and frequency score, with their revenue and monetary score",
		Long: `Print the recency × frequency grid of the RFM scores (5 = most recent or
most orders, 0 = never bought; refreshed by "tidings segments
refresh-scores" and nightly): each cell's customers, their revenue and
their average monetary score.

The same report is GET /v1/reports/rfm.`,
		Example: `  tidings report rfm
  tidings report rfm --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			r, err := reports.RFM(ctx, st)
			if err != nil {
				return err
			}
			rows := [][]string{{"recency", "frequency", "customers", "revenue", "monetary"}}
			for _, c := range r.Cells {
				rows = append(rows, []string{strconv.Itoa(c.Recency), strconv.Itoa(c.Frequency), strconv.Itoa(c.Customers),
					money(c.Revenue), strconv.FormatFloat(c.Monetary, 'f', 2, 64)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				if r.Customers == 0 {
					fmt.Fprintln(w, `no scores yet: run "tidings segments refresh-scores"`)
					return
				}
				fmt.Fprintf(w, "%d scored customers by recency (rows) and frequency (columns)\n\n", r.Customers)
				grid := map[[2]int]int{}
				for _, c := range r.Cells {
					grid[[2]int{c.Recency, c.Frequency}] = c.Customers
				}
				table := [][]string{{"r \\ f"}}
				for _, f := range r.Frequency {
					table[0] = append(table[0], strconv.Itoa(f))
				}
				for _, rec := range r.Recency {
					line := []string{strconv.Itoa(rec)}
					for _, f := range r.Frequency {
						line = append(line, strconv.Itoa(grid[[2]int{rec, f}]))
					}
					table = append(table, line)
				}
				tableOf(w, table)
			})
		}),
	}
	out.register(cmd)
	return cmd
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func csvMoney(v *float64) string {
	if v == nil {
		return ""
	}
	return money(*v)
}
