package reports

import (
	"context"
	"slices"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// DeliveryStore is what the deliverability report reads; *store.Store
// implements it.
type DeliveryStore interface {
	DeliveryTallies(ctx context.Context, since, until time.Time) ([]store.DeliveryTally, error)
}

// DeliveryReport is deliverability over a period: what the send path
// sent and what came back, in total and by topic, template, recipient
// domain, week and month.
type DeliveryReport struct {
	Period
	Definition map[string]string `json:"definition"`
	Total      DeliveryRow       `json:"total"`
	// Breakdowns are by topic, template and domain (most sent first),
	// week and month (every period, oldest first).
	Breakdowns []DeliveryBreakdown `json:"breakdowns"`
}

// DeliveryBreakdown is one grouping: a series, Rows[i].Label on the x axis.
type DeliveryBreakdown struct {
	By   string        `json:"by"`
	Rows []DeliveryRow `json:"rows"`
}

// Breakdown returns the grouping named by, or false.
func (r DeliveryReport) Breakdown(by string) (DeliveryBreakdown, bool) {
	for _, b := range r.Breakdowns {
		if b.By == by {
			return b, true
		}
	}
	return DeliveryBreakdown{}, false
}

// DeliveryRow is one group's counts and rates; a rate is nil without a
// denominator.
type DeliveryRow struct {
	store.DeliveryTally
	// FailureRate is Failed / (Sent + Failed): the provider refused for good.
	FailureRate *float64 `json:"failure_rate"`
	// BounceRate, SoftBounceRate, ComplaintRate and UnsubscribeRate are per
	// message sent.
	BounceRate      *float64 `json:"bounce_rate"`
	SoftBounceRate  *float64 `json:"soft_bounce_rate"`
	ComplaintRate   *float64 `json:"complaint_rate"`
	UnsubscribeRate *float64 `json:"unsubscribe_rate"`
}

// Breakdowns of the deliverability report besides week and month.
const (
	ByTopic    = "topic"
	ByTemplate = "template"
	ByDomain   = "domain"
)

// Deliverability is the deliverability report of the period.
func Deliverability(ctx context.Context, st DeliveryStore, p Period) (DeliveryReport, error) {
	if err := p.check(); err != nil {
		return DeliveryReport{}, err
	}
	tallies, err := st.DeliveryTallies(ctx, p.Since, p.Until)
	if err != nil {
		return DeliveryReport{}, err
	}
	r := DeliveryReport{Period: p, Total: DeliveryRow{DeliveryTally: store.DeliveryTally{Dimension: "total", Label: "total"}},
		Definition: map[string]string{
			"failure_rate":     "failed / (sent + failed)",
			"bounce_rate":      "hard bounces / sent",
			"soft_bounce_rate": "soft bounces / sent",
			"complaint_rate":   "spam complaints / sent",
			"unsubscribe_rate": "unsubscribes (link or one-click), credited to the customer's last message on that channel and topic / sent",
		}}
	by := map[string][]DeliveryRow{}
	for _, t := range tallies {
		row := deliveryRow(t)
		if t.Dimension == "total" {
			row.Label = "total"
			r.Total = row
			continue
		}
		by[t.Dimension] = append(by[t.Dimension], row)
	}
	for _, dim := range []string{ByTopic, ByTemplate, ByDomain, ByWeek, ByMonth} {
		rows := by[dim]
		switch dim {
		case ByWeek, ByMonth:
			labels := weeks(p)
			if dim == ByMonth {
				labels = months(p)
			}
			rows = fillPeriods(rows, labels, func(r DeliveryRow) string { return r.Label }, func(l string) DeliveryRow {
				return DeliveryRow{DeliveryTally: store.DeliveryTally{Dimension: dim, Label: l}}
			})
		default:
			slices.SortStableFunc(rows, func(a, b DeliveryRow) int { return b.Sent - a.Sent })
		}
		r.Breakdowns = append(r.Breakdowns, DeliveryBreakdown{By: dim, Rows: nonNil(rows)})
	}
	return r, nil
}

func deliveryRow(t store.DeliveryTally) DeliveryRow {
	return DeliveryRow{DeliveryTally: t,
		FailureRate: ratio(t.Failed, t.Sent+t.Failed), BounceRate: ratio(t.Bounced, t.Sent),
		SoftBounceRate: ratio(t.SoftBounced, t.Sent), ComplaintRate: ratio(t.Complained, t.Sent),
		UnsubscribeRate: ratio(t.Unsubscribes, t.Sent)}
}
