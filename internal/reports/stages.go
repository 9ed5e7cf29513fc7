package reports

import (
	"context"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// StageStore is what the lifecycle history reads; *store.Store implements
// it.
type StageStore interface {
	StageFlows(ctx context.Context, since, until time.Time) ([]store.StageFlow, error)
}

// LifecycleHistoryReport is the customers of each lifecycle stage month by
// month, as the refresh sweep recorded them (the stage at the month's last
// refresh), and the flows between consecutive months: how many went from
// one stage to another.
type LifecycleHistoryReport struct {
	Period
	Stages []string `json:"stages"`
	// Months lists every month of the period, oldest first.
	Months []StageMonth `json:"months"`
	// Flows are the from → to counts of each month (from "" for customers
	// with no stage the month before), by month, then from and to;
	// customers who stayed have From == To.
	Flows      []store.StageFlow `json:"flows"`
	Definition string            `json:"definition"`
}

// StageMonth is one month: Customers[i] is in Stages[i]. A month no refresh
// recorded has nil counts, not zeros.
type StageMonth struct {
	Month     string `json:"month"`
	Customers []*int `json:"customers"`
	Total     *int   `json:"total"`
	// Moved counts the customers whose stage differs from the one they
	// had the month before, Joined those who had none then.
	Moved  *int `json:"moved"`
	Joined *int `json:"joined"`
}

// LifecycleHistory is the lifecycle stages over the period's months.
func LifecycleHistory(ctx context.Context, st StageStore, p Period) (LifecycleHistoryReport, error) {
	if err := p.check(); err != nil {
		return LifecycleHistoryReport{}, err
	}
	flows, err := st.StageFlows(ctx, p.Since, p.Until)
	if err != nil {
		return LifecycleHistoryReport{}, err
	}
	r := LifecycleHistoryReport{Period: p, Stages: lifecycleStages, Flows: nonNil(flows),
		Definition: "a customer's stage in a month is the one the month's last refresh gave (the rules of the segment field lifecycle); flows compare it with the month before"}
	byMonth := map[string][]store.StageFlow{}
	for _, f := range flows {
		byMonth[f.Month] = append(byMonth[f.Month], f)
	}
	for _, label := range months(p) {
		m := StageMonth{Month: label, Customers: make([]*int, len(lifecycleStages))}
		fs, ok := byMonth[label]
		if ok {
			total, moved, joined := 0, 0, 0
			counts := make([]int, len(lifecycleStages))
			for _, f := range fs {
				for i, s := range lifecycleStages {
					if s == f.To {
						counts[i] += f.Customers
					}
				}
				total += f.Customers
				if f.From != "" && f.From != f.To {
					moved += f.Customers
				}
				if f.From == "" {
					joined += f.Customers
				}
			}
			for i := range counts {
				m.Customers[i] = &counts[i]
			}
			m.Total, m.Moved, m.Joined = &total, &moved, &joined
		}
		r.Months = append(r.Months, m)
	}
	return r, nil
}
