package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func newReportStagesCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 12}
	var out output
	var by string
	cmd := &cobra.Command{
		Use:   "stages",
		Short: "Lifecycle stages month by month, and the flows between them",
		Long: `Print the customers of each lifecycle stage per month of the period
(default: the last 12 calendar months), as the hourly refresh recorded them
(a month's stage is the one its last refresh gave; schedule refresh-reports,
or tidings segments refresh-scores by hand), with how many moved to another
stage and how many joined; --by flow prints the from → to counts instead.
A month no refresh ran in has no counts ("-").

The same report is GET /v1/reports/lifecycle/history. Formulas: docs/reports.md.`,
		Example: `  tidings report stages
  tidings report stages --by flow --since 90d --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			if by != "month" && by != "flow" {
				return withCode(exitUsage, fmt.Errorf("--by: %q is not month or flow", by))
			}
			p, err := pf.period()
			if err != nil {
				return err
			}
			r, err := reports.LifecycleHistory(ctx, st, p)
			if err != nil {
				return reportInputErr(err)
			}
			rows := [][]string{append(append([]string{"month"}, r.Stages...), "total", "moved", "joined")}
			for _, m := range r.Months {
				row := []string{m.Month}
				for _, n := range append(m.Customers, m.Total, m.Moved, m.Joined) {
					row = append(row, count(n))
				}
				rows = append(rows, row)
			}
			if by == "flow" {
				rows = [][]string{{"month", "from", "to", "customers"}}
				for _, f := range r.Flows {
					rows = append(rows, []string{f.Month, f.From, f.To, strconv.Itoa(f.Customers)})
				}
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "lifecycle stages by month, %s until %s (UTC)\n%s\n\n", day(r.Since), day(r.Until), r.Definition)
				tableOf(w, rows)
			})
		}),
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&by, "by", "month", "the table: month (stage counts) or flow (from → to)")
	out.register(cmd)
	return cmd
}

// count prints a count, "" (a dash in tables) when there is none.
func count(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}
