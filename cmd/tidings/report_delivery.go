package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func newReportDeliverabilityCmd(a *app) *cobra.Command {
	pf := periodFlags{months: 3}
	var out output
	var by string
	cmd := &cobra.Command{
		Use:   "deliverability",
		Short: "Sent, failed, bounce, complaint and unsubscribe rates by topic, template, domain, week or month",
		Long: `Print what the send path sent in the period (default: the last 3 calendar
months) and what came back: messages sent, failed and skipped, deliveries,
hard and soft bounces, spam complaints and unsubscribes, with their rates
per message sent, in total and by --by topic (default), template, domain
(the recipient's mail domain; sms for text messages), week or month.

An unsubscribe (the unsubscribe link or a one-click request) is credited to
the customer's last message on that channel and topic before it.

The same report is GET /v1/reports/deliverability. Formulas: docs/reports.md.`,
		Example: `  tidings report deliverability
  tidings report deliverability --by domain --since 30d
  tidings report deliverability --by week --csv`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, st *store.Store, _ []string) error {
			switch by {
			case reports.ByTopic, reports.ByTemplate, reports.ByDomain, reports.ByWeek, reports.ByMonth:
			default:
				return withCode(exitUsage, fmt.Errorf("--by: %q is none of topic, template, domain, week, month", by))
			}
			p, err := pf.period()
			if err != nil {
				return err
			}
			r, err := reports.Deliverability(ctx, st, p)
			if err != nil {
				return reportInputErr(err)
			}
			b, _ := r.Breakdown(by)
			groups := append([]reports.DeliveryRow{r.Total}, b.Rows...)
			rows := [][]string{{by, "sent", "failed", "skipped", "delivered", "hard_bounces", "soft_bounces", "complaints", "unsubscribes",
				"failure_rate", "bounce_rate", "soft_bounce_rate", "complaint_rate", "unsubscribe_rate"}}
			for _, g := range groups {
				rows = append(rows, []string{g.Label, strconv.Itoa(g.Sent), strconv.Itoa(g.Failed), strconv.Itoa(g.Skipped),
					strconv.Itoa(g.Delivered), strconv.Itoa(g.Bounced), strconv.Itoa(g.SoftBounced), strconv.Itoa(g.Complained),
					strconv.Itoa(g.Unsubscribes), csvNum(g.FailureRate), csvNum(g.BounceRate), csvNum(g.SoftBounceRate),
					csvNum(g.ComplaintRate), csvNum(g.UnsubscribeRate)})
			}
			return out.write(a.stdout, r, rows, func(w io.Writer) {
				fmt.Fprintf(w, "deliverability %s until %s (UTC), by %s; rates per message sent, failures per attempt\n\n",
					day(r.Since), day(r.Until), by)
				for i, g := range groups {
					for j, rate := range []*float64{g.FailureRate, g.BounceRate, g.SoftBounceRate, g.ComplaintRate, g.UnsubscribeRate} {
						rows[i+1][9+j] = pctFine(rate)
					}
				}
				rows[0] = append(rows[0][:9], "failed", "bounced", "soft", "complaints", "unsubscribed")
				for i := 9; i < len(rows[0]); i++ {
					rows[0][i] = strings.ToUpper(rows[0][i]) + " %"
				}
				tableOf(w, rows)
			})
		}),
	}
	pf.register(cmd)
	out.register(cmd)
	cmd.Flags().StringVar(&by, "by", reports.ByTopic, "group by topic, template, domain, week or month")
	return cmd
}

// pctFine prints a small rate with two decimals (0.25%), "-" when none.
func pctFine(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
}
