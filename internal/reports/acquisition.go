package reports

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// AcquisitionStore is what the acquisition report reads; *store.Store
// implements it.
type AcquisitionStore interface {
	AcquisitionTallies(ctx context.Context, since, until time.Time) (store.Acquisitions, error)
}

// AcquisitionHint says what to send when no signup carries a source.
const AcquisitionHint = `send signup events with a "source" property (e.g. {"type": "signup", "properties": {"source": "google-ads"}}), and give each source's spend for the period to compute CAC`

// AcquisitionReport is customer acquisition by signup source over a period.
type AcquisitionReport struct {
	Period
	Definition map[string]string `json:"definition"`
	Sources    []SourceRow       `json:"sources"`
	// AsOf is set when some signups were counted by the hourly refresh:
	// the buyers and revenue of those before it are as of then.
	AsOf *time.Time `json:"as_of,omitempty"`
	// Hint is set when the report cannot say much: no signup has a source,
	// or no cost was given.
	Hint string `json:"hint,omitempty"`
}

// SourceRow is one source. CAC and the ratio need a cost for the source.
type SourceRow struct {
	store.AcquisitionTally
	Cost *float64 `json:"cost"`
	// CAC is Cost / Buyers; CLV is Revenue / Buyers (historical);
	// CLVToCAC is CLV / CAC.
	CAC      *float64 `json:"cac"`
	CLV      *float64 `json:"clv"`
	CLVToCAC *float64 `json:"clv_to_cac"`
}

// Acquisition is the acquisition report; costs maps a source to what was
// spent on it in the period (nil: none known).
func Acquisition(ctx context.Context, st AcquisitionStore, p Period, costs map[string]float64) (AcquisitionReport, error) {
	if err := p.check(); err != nil {
		return AcquisitionReport{}, err
	}
	for src, c := range costs {
		if c < 0 {
			return AcquisitionReport{}, inputErrorf("cost", "the cost of %s is negative", src)
		}
	}
	counts, err := st.AcquisitionTallies(ctx, p.Since, p.Until)
	if err != nil {
		return AcquisitionReport{}, err
	}
	r := AcquisitionReport{Period: p, Sources: []SourceRow{}, AsOf: counts.AsOf, Definition: map[string]string{
		"signups":    "customers whose first signup event ever is in the period, by that event's source",
		"cac":        "cost of the source in the period / signups of the period from it who have bought",
		"clv":        "revenue of those buyers / buyers (historical CLV)",
		"clv_to_cac": "clv / cac",
	}}
	sourced := false
	for _, t := range counts.Sources {
		row := SourceRow{AcquisitionTally: t}
		row.CLV = ratioF(t.Revenue, float64(t.Buyers))
		if c, ok := costs[t.Source]; ok && t.Source != "" {
			row.Cost = &c
			row.CAC = ratioF(c, float64(t.Buyers))
			if row.CAC != nil && row.CLV != nil {
				row.CLVToCAC = ratioF(*row.CLV, *row.CAC)
			}
		}
		sourced = sourced || t.Source != ""
		r.Sources = append(r.Sources, row)
	}
	if !sourced || len(costs) == 0 {
		r.Hint = AcquisitionHint
	}
	return r, nil
}

// ratioF is a/b, nil when b is 0.
func ratioF(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}

// ParseCosts reads source costs written source=amount (ads=1200.50), as
// the CLI's --cost and the API's cost parameter give them.
func ParseCosts(specs []string) (map[string]float64, error) {
	costs := map[string]float64{}
	for _, s := range specs {
		src, amount, ok := strings.Cut(s, "=")
		v, err := strconv.ParseFloat(amount, 64)
		if !ok || src == "" || err != nil || v < 0 {
			return nil, inputErrorf("cost", "%q is not source=amount, such as ads=1200", s)
		}
		costs[src] = v
	}
	return costs, nil
}

// SpendPerMonth is what each signup source costs a month, as a policy
// file gives it, so the acquisition report shows CAC without anyone typing
// the costs in:
//
//	acquisition:
//	  monthly_spend: {google-ads: 1200, instagram: 450}
type SpendPerMonth map[string]float64

// averageMonth is a month's average length, by which a monthly spend is
// spread over a period.
const averageMonth = 365.25 * 24 * time.Hour / 12

// Months is p's length in average months (30.44 days).
func (p Period) Months() float64 { return float64(p.Until.Sub(p.Since)) / float64(averageMonth) }

// For is each source's spend over period p, to the cent: its monthly
// spend × p.Months(). Nil without spends.
func (m SpendPerMonth) For(p Period) map[string]float64 {
	if len(m) == 0 {
		return nil
	}
	months := p.Months()
	out := make(map[string]float64, len(m))
	for src, spend := range m {
		out[src] = math.Round(spend*months*100) / 100
	}
	return out
}

// CostsFor is what the acquisition report is computed with: the costs
// given for the period when any are, else the monthly spend spread over it.
func CostsFor(given map[string]float64, spend SpendPerMonth, p Period) map[string]float64 {
	if len(given) > 0 {
		return given
	}
	return spend.For(p)
}

// ParseSpendPerMonth reads the acquisition: section of a policy file
// (TIDINGS_POLICY_FILE); the file's other sections are not its business.
// Every problem is reported at once with its line and column.
func ParseSpendPerMonth(data []byte, filename string) (SpendPerMonth, error) {
	root, err := spec.Decode(data, filename)
	if err != nil || root == nil || root.Kind != yaml.MappingNode {
		return nil, err
	}
	var out SpendPerMonth
	r := spec.Reader{File: filename}
	r.Fields(root, "", nil, func(k, v *yaml.Node, path string) {
		if k.Value != "acquisition" {
			return
		}
		r.Fields(v, path, []string{"monthly_spend"}, func(_, v *yaml.Node, path string) {
			out = SpendPerMonth{}
			r.Fields(v, path, nil, func(src, amount *yaml.Node, path string) {
				text, ok := r.Text(amount, path)
				if !ok {
					return
				}
				f, err := strconv.ParseFloat(text, 64)
				if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
					r.Errorf(amount, path, "%q: expected an amount of 0 or more, such as 1200 or 99.50", text)
					return
				}
				out[src.Value] = f
			})
		})
	})
	if err := r.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
