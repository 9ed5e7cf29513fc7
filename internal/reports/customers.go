package reports

import (
	"context"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

// CustomerStore is what the retention and churn reports read;
// *store.Store implements it.
type CustomerStore interface {
	RetentionCells(ctx context.Context, since, until time.Time) ([]store.RetentionCell, error)
	ChurnCounts(ctx context.Context, starts, ends []time.Time, days int) ([]store.ChurnCount, error)
}

// defaultOffsets are the months after the first purchase the retention
// triangle shows by default.
var defaultOffsets = []int{1, 2, 3, 6, 12}

// RetentionReport is the retention triangle: one row per monthly cohort
// (customers by the month of their first purchase), one column per offset
// (months later), each cell the share of the cohort that purchased in that
// month. Cells of months not yet begun are nil, which gives the triangle
// its shape; a heat map draws Rows × Offsets.
type RetentionReport struct {
	Period
	Offsets    []int          `json:"offsets"`
	Definition string         `json:"definition"`
	Rows       []RetentionRow `json:"rows"`
}

// RetentionRow is one cohort.
type RetentionRow struct {
	Cohort string `json:"cohort"`
	Size   int    `json:"size"`
	// Retained[i] and Rates[i] are for Offsets[i]; nil when that month
	// has not begun by the end of the period.
	Retained []*int     `json:"retained"`
	Rates    []*float64 `json:"rates"`
}

// Retention is the retention triangle of the cohorts whose first purchase
// falls in the period, for the offsets given (nil: 1, 2, 3, 6 and 12
// months).
func Retention(ctx context.Context, st CustomerStore, p Period, offsets []int) (RetentionReport, error) {
	if err := p.check(); err != nil {
		return RetentionReport{}, err
	}
	if offsets == nil {
		offsets = defaultOffsets
	}
	for _, o := range offsets {
		if o < 1 || o > 120 {
			return RetentionReport{}, inputErrorf("offsets", "%d is not a number of months from 1 to 120", o)
		}
	}
	cells, err := st.RetentionCells(ctx, p.Since, p.Until)
	if err != nil {
		return RetentionReport{}, err
	}
	counts := map[string]map[int]int{}
	for _, c := range cells {
		if counts[c.Cohort] == nil {
			counts[c.Cohort] = map[int]int{}
		}
		counts[c.Cohort][c.Offset] = c.Customers
	}
	r := RetentionReport{Period: p, Offsets: offsets, Rows: []RetentionRow{},
		Definition: "share of the customers whose first purchase was in the cohort month who purchased again in the month N months later"}
	for _, label := range months(p) {
		cohort, _ := time.Parse("2006-01", label)
		row := RetentionRow{Cohort: label, Size: counts[label][0]}
		for _, o := range offsets {
			if !cohort.AddDate(0, o, 0).Before(p.Until) {
				row.Retained, row.Rates = append(row.Retained, nil), append(row.Rates, nil)
				continue
			}
			n := counts[label][o]
			row.Retained, row.Rates = append(row.Retained, &n), append(row.Rates, ratio(n, row.Size))
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// ChurnReport is the churn rate per month: of the customers active at a
// month's start (a purchase within Days before it), the share no longer
// active at its end.
type ChurnReport struct {
	Period
	Days       int        `json:"days"`
	Definition string     `json:"definition"`
	Rows       []ChurnRow `json:"rows"`
}

// ChurnRow is one month (the last one ends at the period's end).
type ChurnRow struct {
	Label string `json:"label"`
	store.ChurnCount
	// Rate is Churned / ActiveAtStart.
	Rate *float64 `json:"rate"`
}

// DefaultChurnDays is how long without a purchase makes a customer churned
// unless the caller says otherwise: the window whose months the refresh
// keeps.
const DefaultChurnDays = store.ChurnKeptDays

// Churn is the monthly churn rate over the period with the given window
// (days; 0 means DefaultChurnDays).
func Churn(ctx context.Context, st CustomerStore, p Period, days int) (ChurnReport, error) {
	if err := p.check(); err != nil {
		return ChurnReport{}, err
	}
	if days == 0 {
		days = DefaultChurnDays
	}
	if days < 1 || days > 3650 {
		return ChurnReport{}, inputErrorf("days", "must be between 1 and 3650")
	}
	labels := months(p)
	starts, ends := make([]time.Time, len(labels)), make([]time.Time, len(labels))
	for i, l := range labels {
		m, _ := time.Parse("2006-01", l)
		starts[i], ends[i] = m, m.AddDate(0, 1, 0)
		if i == 0 && p.Since.After(m) {
			starts[i] = p.Since
		}
		if ends[i].After(p.Until) {
			ends[i] = p.Until
		}
	}
	counts, err := st.ChurnCounts(ctx, starts, ends, days)
	if err != nil {
		return ChurnReport{}, err
	}
	r := ChurnReport{Period: p, Days: days, Rows: []ChurnRow{},
		Definition: fmt.Sprintf("churned: active at the month's start and no purchase in the %d days before its end; rate = churned / active at the start; active = a purchase in the %d days before", days, days)}
	for i, c := range counts {
		r.Rows = append(r.Rows, ChurnRow{Label: labels[i], ChurnCount: c, Rate: ratio(c.Churned, c.ActiveAtStart)})
	}
	return r, nil
}

// LifecycleReport counts the customers in each lifecycle stage at a moment,
// by the stage rules segments use (docs/segments.md).
type LifecycleReport struct {
	At     time.Time    `json:"at"`
	Total  int64        `json:"total"`
	Stages []StageCount `json:"stages"`
}

// StageCount is one stage; Share is of all customers.
type StageCount struct {
	Stage     string   `json:"stage"`
	Customers int64    `json:"customers"`
	Share     *float64 `json:"share"`
}

// lifecycleStages in the order segments try them.
var lifecycleStages = []string{segment.StageNew, segment.StageProspect, segment.StageLoyal,
	segment.StageActive, segment.StageAtRisk, segment.StageLapsed}

// Lifecycle counts the customers of each stage as of at, evaluating the
// segment definition {lifecycle: stage}, so the report and every segment
// agree on who is where.
func Lifecycle(ctx context.Context, db segment.DB, at time.Time) (LifecycleReport, error) {
	r := LifecycleReport{At: at}
	for _, stage := range lifecycleStages {
		def, err := segment.Parse([]byte(`{"match": {"lifecycle": "`+stage+`"}}`), "lifecycle")
		if err != nil {
			return LifecycleReport{}, fmt.Errorf("lifecycle stage %s: %w", stage, err)
		}
		n, err := segment.Count(ctx, db, def, segment.At(at))
		if err != nil {
			return LifecycleReport{}, fmt.Errorf("lifecycle stage %s: %w", stage, err)
		}
		r.Total += n
		r.Stages = append(r.Stages, StageCount{Stage: stage, Customers: n})
	}
	for i := range r.Stages {
		if r.Total > 0 {
			s := float64(r.Stages[i].Customers) / float64(r.Total)
			r.Stages[i].Share = &s
		}
	}
	return r, nil
}
