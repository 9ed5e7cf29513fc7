package reports

import (
	"context"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// ValueStore is what the customer value reports read; *store.Store
// implements it.
type ValueStore interface {
	ValueTallies(ctx context.Context, at time.Time) (store.ValueCounts, error)
	RFMCells(ctx context.Context) ([]store.RFMCell, error)
}

// MaxLifetimeYears caps the expected lifetime when hardly anyone lapses, so
// a young customer base does not predict an endless one.
const MaxLifetimeYears = 10

// ValueReport is customer lifetime value, historical and predicted, in
// total, by first-purchase cohort, by value tier and by saved segment; by
// tier it is also the share of revenue each tier brings.
type ValueReport struct {
	At time.Time `json:"at"`
	// AsOf is when the hourly refresh counted the figures, when they are
	// the ones it kept (for an At not before it); nil when counted for At.
	AsOf       *time.Time        `json:"as_of,omitempty"`
	Definition map[string]string `json:"definition"`
	Total      ValueRow          `json:"total"`
	// ByCohort is oldest first; ByTier high, mid, low, unscored.
	ByCohort []ValueRow `json:"by_cohort"`
	ByTier   []ValueRow `json:"by_tier"`
	// BySegment has a row per saved segment, by name, with the buyers the
	// segment holds at At; segments overlap, so their revenue shares need
	// not add up to 1.
	BySegment []ValueRow `json:"by_segment"`
}

// ValueRow is one group of buyers (customers with at least one order).
// Figures without a denominator are nil.
type ValueRow struct {
	Label     string  `json:"label"`
	Customers int     `json:"customers"`
	Orders    int64   `json:"orders"`
	Revenue   float64 `json:"revenue"`
	// RevenueShare is Revenue / the total revenue.
	RevenueShare *float64 `json:"revenue_share"`
	// HistoricalCLV is Revenue / Customers.
	HistoricalCLV *float64 `json:"historical_clv"`
	// AOV is Revenue / Orders; Frequency orders per customer per year.
	AOV       *float64 `json:"aov"`
	Frequency *float64 `json:"frequency"`
	// LifetimeYears is 1 / the annual churn rate (the share of buyers of
	// at least a year with no purchase in the last year), at most
	// MaxLifetimeYears; nil while no buyer is a year old.
	LifetimeYears *float64 `json:"lifetime_years"`
	// PredictedCLV is AOV × Frequency × LifetimeYears.
	PredictedCLV *float64 `json:"predicted_clv"`
}

// Value is the customer value report as of at: as of the last refresh
// (AsOf) when at is not before it, since counting every buyer takes
// seconds.
func Value(ctx context.Context, st ValueStore, at time.Time) (ValueReport, error) {
	counts, err := st.ValueTallies(ctx, at)
	if err != nil {
		return ValueReport{}, err
	}
	tallies, segments := counts.Tallies, counts.Segments
	r := ValueReport{At: at, AsOf: counts.AsOf, Total: ValueRow{Label: "total"}, ByCohort: []ValueRow{}, ByTier: []ValueRow{}, BySegment: []ValueRow{},
		Definition: map[string]string{
			"historical_clv": "revenue / buyers",
			"aov":            "revenue / orders",
			"frequency":      "orders / buyer-years observed (each buyer from the first purchase to now, at least 30 days)",
			"lifetime_years": "1 / annual churn, annual churn = buyers of at least a year with no purchase in the last year / buyers of at least a year; at most 10",
			"predicted_clv":  "aov × frequency × lifetime_years",
			"revenue_share":  "revenue / total revenue",
		}}
	var total float64
	for _, t := range tallies {
		if t.Dimension == "total" {
			total = t.Revenue
		}
	}
	tiers := map[string]ValueRow{}
	for _, t := range tallies {
		row := valueRow(t, total)
		switch t.Dimension {
		case "total":
			r.Total = row
			r.Total.Label = "total"
		case "cohort":
			r.ByCohort = append(r.ByCohort, row)
		case "tier":
			tiers[t.Label] = row
		}
	}
	for _, t := range segments {
		r.BySegment = append(r.BySegment, valueRow(t, total))
	}
	for _, tier := range []string{"high", "mid", "low", "unscored"} {
		if row, ok := tiers[tier]; ok {
			r.ByTier = append(r.ByTier, row)
		}
	}
	return r, nil
}

func valueRow(t store.ValueTally, total float64) ValueRow {
	row := ValueRow{Label: t.Label, Customers: t.Customers, Orders: t.Orders, Revenue: t.Revenue}
	div := func(a, b float64) *float64 {
		if b == 0 {
			return nil
		}
		v := a / b
		return &v
	}
	row.RevenueShare = div(t.Revenue, total)
	row.HistoricalCLV = div(t.Revenue, float64(t.Customers))
	row.AOV = div(t.Revenue, float64(t.Orders))
	row.Frequency = div(float64(t.Orders), t.Years)
	if t.Mature > 0 {
		life := float64(MaxLifetimeYears)
		if t.Lapsed > 0 {
			life = min(life, float64(t.Mature)/float64(t.Lapsed))
		}
		row.LifetimeYears = &life
	}
	if row.AOV != nil && row.Frequency != nil && row.LifetimeYears != nil {
		v := *row.AOV * *row.Frequency * *row.LifetimeYears
		row.PredictedCLV = &v
	}
	return row
}

// RFMReport is the recency × frequency grid of the RFM scores that
// `tidings segments refresh-scores` computes (5 = most recent, most
// orders; 0 = never bought), each cell with its customers, revenue and
// average monetary score: a heat map's Recency rows × Frequency columns.
type RFMReport struct {
	Recency   []int           `json:"recency"`
	Frequency []int           `json:"frequency"`
	Cells     []store.RFMCell `json:"cells"`
	Customers int             `json:"customers"`
}

// RFM is the RFM grid; cells without customers are left out.
func RFM(ctx context.Context, st ValueStore) (RFMReport, error) {
	cells, err := st.RFMCells(ctx)
	if err != nil {
		return RFMReport{}, err
	}
	r := RFMReport{Recency: []int{5, 4, 3, 2, 1, 0}, Frequency: []int{5, 4, 3, 2, 1, 0}, Cells: nonNil(cells)}
	for _, c := range cells {
		r.Customers += c.Customers
	}
	return r, nil
}
