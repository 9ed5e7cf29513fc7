package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

func newReportFunnelCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 12, note: "; journeys only"}
	var out output
	var window string
	cmd := &cobra.Command{
		Use:   "funnel campaign|journey NAME",
		Short: "Entered, each step sent, delivered, opened, clicked and goal reached, per variant and holdout",
		Long: `Print a campaign's or a built-in journey's funnel: the entries, then for
each step the entries it was sent to, delivered, opened by a person,
clicked and whose coupon was redeemed, and the entries that reached the
goal, with the goal's revenue credited to the last step sent before it
within the attribution window (--window, default 7d: last touch) or else
unattributed. A campaign is counted over all its entries, per A/B variant
and for the holdout; a journey over its runs started in the period
(default: the last 12 calendar months), a date sweep without runs
(birthday) over the messages it meant to send, its goal a redeemed coupon.

The funnel is read from what the hourly refresh kept, for any window,
and printed with its time ("as of"); a journey's runs since the refresh,
or earlier than the 12 months it keeps, are counted now. Before the
first refresh the whole funnel is counted now.

The same reports are GET /v1/reports/campaigns/{name}/funnel and
GET /v1/reports/journeys/{name}/funnel. Formulas: docs/reports.md.`,
		Example: `  tidings report funnel campaign spring-sale
  tidings report funnel journey winback --window 14d --csv`,
		Args: exactArgs(2),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, args []string) error {
			w, err := reports.ParseWindow(window)
			if err != nil {
				return reportInputErr(err)
			}
			q := reports.FunnelQuery{Window: w, Kept: true}
			var r reports.FunnelReport
			switch args[0] {
			case "campaign":
				r, err = reports.CampaignFunnel(ctx, st, args[1], q)
			case "journey":
				if _, ok := workflows.Find(args[1]); !ok {
					return withCode(exitUsage, fmt.Errorf("no journey named %q (tidings journeys list)", args[1]))
				}
				if q.Period, err = pf.period(); err != nil {
					return err
				}
				r, err = reports.JourneyFunnel(ctx, st, args[1], q)
			default:
				return withCode(exitUsage, fmt.Errorf("funnel of %q: say campaign or journey", args[0]))
			}
			if err != nil {
				return notFoundIsUsage(reportInputErr(err))
			}
			rows := funnelRows(r)
			return out.write(a.stdout, r, rows, func(w io.Writer) { printFunnel(w, r, rows) })
		}),
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&window, "window", "", "attribution window: days (7d), weeks (2w) or hours (36h) (default 7d)")
	out.register(cmd)
	return cmd
}

// funnelRows is the funnel as one table: per arm its entries, each step's
// stages and credited conversions, and its conversions.
func funnelRows(r reports.FunnelReport) [][]string {
	rows := [][]string{{"arm", "stage", "step", "entries", "rate", "conversions", "revenue"}}
	for _, a := range r.Arms {
		arm := a.Arm
		if arm == "" {
			arm = "all"
		}
		rows = append(rows, []string{arm, "entered", "", strconv.Itoa(a.Entered), "", "", ""})
		for _, s := range a.Steps {
			for _, st := range []struct {
				stage string
				n     int
				rate  *float64
			}{{"sent", s.Sent, s.SentRate}, {"delivered", s.Delivered, s.DeliveredRate}, {"opened", s.Opened, s.OpenRate},
				{"clicked", s.Clicked, s.ClickRate}, {"redeemed", s.Redeemed, nil}} {
				row := []string{arm, st.stage, s.Step, strconv.Itoa(st.n), pct(st.rate), "", ""}
				if st.stage == "sent" {
					row[5], row[6] = strconv.Itoa(s.Conversions), revenue(s.Revenue)
				}
				rows = append(rows, row)
			}
		}
		rows = append(rows, []string{arm, "unattributed", "", "", "", strconv.Itoa(a.Unattributed), revenue(a.UnattributedRevenue)},
			[]string{arm, "converted", "", strconv.Itoa(a.Converted), pct(a.ConversionRate), strconv.Itoa(a.Converted), revenue(a.Revenue)})
	}
	return rows
}

// revenue prints amounts by currency: "100.00 USD", several joined.
func revenue(m map[string]float64) string {
	var parts []string
	for _, cur := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, strings.TrimSpace(money(m[cur])+" "+cur))
	}
	return strings.Join(parts, " ")
}

func printFunnel(w io.Writer, r reports.FunnelReport, rows [][]string) {
	fmt.Fprintf(w, "%s %s", r.Kind, r.Name)
	if r.Period != nil {
		fmt.Fprintf(w, ", entries from %s until %s (UTC)", day(r.Period.Since), day(r.Period.Until))
	}
	fmt.Fprintf(w, "\nconversions credited to the last step sent within %s days before them (last touch)\n", strconv.FormatFloat(r.WindowDays, 'f', -1, 64))
	if r.AsOf != nil {
		since := ""
		if r.Kind == "journey" {
			since = "; entries since then counted now"
		}
		fmt.Fprintf(w, "as of %s, kept by the hourly refresh%s\n", r.AsOf.UTC().Format("2006-01-02 15:04 UTC"), since)
	} else {
		fmt.Fprintln(w, "counted now")
	}
	fmt.Fprintln(w)
	if len(r.Arms) == 0 {
		fmt.Fprintln(w, "nobody has entered yet")
		return
	}
	tableOf(w, rows)
}
