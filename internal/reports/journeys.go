package reports

import (
	"context"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// JourneyStore is what the journey report reads; *store.Store implements
// it.
type JourneyStore interface {
	JourneyResults(ctx context.Context, journey string, since, until time.Time) (store.JourneyRuns, []store.JourneyConversions, error)
}

// JourneyReport is what a built-in journey earned in a period: for
// win-back the customers recovered and their revenue, for onboarding the
// activations. Each conversion is credited to the step before the goal
// event (last touch) within the journey's own goal window.
type JourneyReport struct {
	Journey string `json:"journey"`
	Period
	// Runs started in the period, their customers, and those runs that
	// converted; ConversionRate = Converted / Runs.
	Runs           int      `json:"runs"`
	Customers      int      `json:"customers"`
	Converted      int      `json:"converted"`
	ConversionRate *float64 `json:"conversion_rate"`
	// Conversions recorded in the period, by step and currency.
	Steps []store.JourneyConversions `json:"steps"`
	// Revenue is the period's conversion revenue per currency.
	Revenue map[string]float64 `json:"revenue"`
	// Recovered counts the customers who converted in the period.
	Recovered int `json:"recovered"`
}

// Journey is the journey report.
func Journey(ctx context.Context, st JourneyStore, journey string, p Period) (JourneyReport, error) {
	if err := p.check(); err != nil {
		return JourneyReport{}, err
	}
	runs, conv, err := st.JourneyResults(ctx, journey, p.Since, p.Until)
	if err != nil {
		return JourneyReport{}, err
	}
	r := JourneyReport{Journey: journey, Period: p, Runs: runs.Runs, Customers: runs.Customers, Converted: runs.Converted,
		ConversionRate: ratio(runs.Converted, runs.Runs), Steps: nonNil(conv), Revenue: map[string]float64{},
		Recovered: runs.Recovered}
	for _, c := range conv {
		r.Revenue[c.Currency] += c.Revenue
	}
	return r, nil
}
