package reports

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// MinGroupSize is the number of entries each compared group needs before
// the report draws a conclusion: below it the interval is shown but the
// verdict is "not enough data yet". With 100 per group a 10-point uplift
// from a 10% base is about the smallest difference a 95% interval can tell
// from zero.
const MinGroupSize = 100

// z95 is the standard normal quantile of a two-sided 95% interval.
const z95 = 1.959963984540054

// Verdicts of an uplift or an A/B test.
const (
	VerdictNotEnough = "not enough data yet"
	VerdictBetter    = "treatment converts better"
	VerdictWorse     = "treatment converts worse"
	VerdictNoDiff    = "no difference shown"
)

// CampaignStore is what the campaign report reads; *store.Store implements
// it.
type CampaignStore interface {
	CampaignResults(ctx context.Context, name string) (store.CampaignReport, error)
	KeptCampaignResults(ctx context.Context, names []string) (map[string]store.StoredCampaignReport, error)
}

// CampaignReport is a campaign's results per arm (as the store counts them)
// with their uncertainty: the treatment's uplift over the holdout with a 95%
// interval, and for A/B variants the chance each is the best.
type CampaignReport struct {
	store.CampaignReport
	// Uplift is nil unless the campaign has both treatment and holdout
	// entries.
	Uplift *UpliftEstimate `json:"uplift"`
	// Variants is empty unless the campaign splits its treatment.
	Variants []VariantChance `json:"variants"`
	// AsOf is when the refresh that kept these results counted them; nil
	// when they were counted for this report (no refresh has kept them yet).
	AsOf *time.Time `json:"as_of,omitempty"`
}

// UpliftEstimate is the treatment's conversion rate minus the holdout's, in
// percentage points, with its 95% confidence interval (Newcombe's hybrid
// score interval, built from the two Wilson score intervals: it keeps its
// coverage at small counts and rates near 0, where the Wald interval does
// not).
type UpliftEstimate struct {
	Treatment Proportion `json:"treatment"`
	Holdout   Proportion `json:"holdout"`
	Points    float64    `json:"points"`
	Low       float64    `json:"low"`
	High      float64    `json:"high"`
	Method    string     `json:"method"`
	// Enough is false while either group has fewer than MinGroupSize
	// entries; Verdict then says "not enough data yet".
	Enough    bool   `json:"enough_data"`
	MinGroup  int    `json:"min_group_size"`
	Verdict   string `json:"verdict"`
	Confident bool   `json:"interval_excludes_zero"`
}

// Proportion is conversions out of entries.
type Proportion struct {
	Entered   int     `json:"entered"`
	Converted int     `json:"converted"`
	Rate      float64 `json:"rate"`
}

// VariantChance is an A/B variant's probability of having the highest true
// conversion rate, given its entries and conversions.
type VariantChance struct {
	Variant string `json:"variant"`
	Proportion
	ProbBest float64 `json:"prob_best"`
	// Enough is false while the variant has fewer than MinGroupSize
	// entries.
	Enough bool `json:"enough_data"`
}

// Campaign is the campaign report with its uncertainty. It reads the
// results every refresh keeps (the campaign list's and page's) rather than
// following every entry through the ledger, which takes seconds per
// campaign at a million customers; a campaign no refresh has kept yet is
// counted now.
func Campaign(ctx context.Context, st CampaignStore, name string) (CampaignReport, error) {
	kept, err := st.KeptCampaignResults(ctx, []string{name})
	if err != nil {
		return CampaignReport{}, err
	}
	if k, ok := kept[name]; ok {
		out := WithUncertainty(k.Report)
		out.AsOf = &k.At
		return out, nil
	}
	rep, err := st.CampaignResults(ctx, name)
	if err != nil {
		return CampaignReport{}, err
	}
	return WithUncertainty(rep), nil
}

// WithUncertainty adds the uplift interval and the variants' chances to
// counts already read, for callers that hold a store.CampaignReport.
func WithUncertainty(rep store.CampaignReport) CampaignReport {
	if rep.Arms == nil {
		rep.Arms = []store.CampaignArm{}
	}
	out := CampaignReport{CampaignReport: rep, Variants: []VariantChance{}}
	var t, h Proportion
	var variants []VariantChance
	for _, a := range rep.Arms {
		if a.Holdout {
			h.Entered, h.Converted = h.Entered+a.Entered, h.Converted+a.Converted
			continue
		}
		t.Entered, t.Converted = t.Entered+a.Entered, t.Converted+a.Converted
		// The rollout of an A/B winner is not part of the test.
		if a.Variant != "" && !a.Rollout {
			variants = append(variants, VariantChance{Variant: a.Variant, Proportion: proportion(a.Entered, a.Converted),
				Enough: a.Entered >= MinGroupSize})
		}
	}
	if t.Entered > 0 && h.Entered > 0 {
		out.Uplift = Uplift(t.Converted, t.Entered, h.Converted, h.Entered)
	}
	if len(variants) > 1 {
		k := make([]int, len(variants))
		n := make([]int, len(variants))
		for i, v := range variants {
			k[i], n[i] = v.Converted, v.Entered
		}
		for i, p := range ProbBest(k, n) {
			variants[i].ProbBest = p
		}
		out.Variants = variants
	}
	return out
}

func proportion(n, k int) Proportion {
	p := Proportion{Entered: n, Converted: k}
	if n > 0 {
		p.Rate = float64(k) / float64(n)
	}
	return p
}

// Uplift estimates the difference of two conversion rates, k1/n1 − k2/n2,
// in percentage points with Newcombe's 95% hybrid score interval; n1 and n2
// must be positive.
func Uplift(k1, n1, k2, n2 int) *UpliftEstimate {
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	l1, u1 := wilson(k1, n1)
	l2, u2 := wilson(k2, n2)
	d := p1 - p2
	low := d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	high := d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	e := &UpliftEstimate{Treatment: proportion(n1, k1), Holdout: proportion(n2, k2),
		Points: d * 100, Low: low * 100, High: high * 100,
		Method: "Newcombe hybrid score interval (95%)", MinGroup: MinGroupSize,
		Enough: n1 >= MinGroupSize && n2 >= MinGroupSize}
	e.Confident = low > 0 || high < 0
	switch {
	case !e.Enough:
		e.Verdict = VerdictNotEnough
	case low > 0:
		e.Verdict = VerdictBetter
	case high < 0:
		e.Verdict = VerdictWorse
	default:
		e.Verdict = VerdictNoDiff
	}
	return e
}

// wilson is the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (lo, hi float64) {
	p, nf, z2 := float64(k)/float64(n), float64(n), z95*z95
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z95 / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, center-half), min(1, center+half)
}

// probBestDraws is the Monte Carlo sample size for three or more variants:
// the estimate's standard error is at most 0.0035.
const probBestDraws = 20000

// ProbBest is the probability that each variant's true conversion rate is
// the highest, given k[i] conversions out of n[i] entries and a uniform
// prior: each rate's posterior is Beta(1 + k, 1 + n − k). Two variants get
// the exact closed form; more are estimated by Monte Carlo with a fixed
// seed, so the same counts always give the same answer.
func ProbBest(k, n []int) []float64 {
	out := make([]float64, len(k))
	switch len(k) {
	case 0:
		return out
	case 1:
		out[0] = 1
		return out
	case 2:
		b := probGreater(1+float64(k[0]), 1+float64(n[0]-k[0]), 1+k[1], 1+float64(n[1]-k[1]))
		out[0], out[1] = 1-b, b
		return out
	}
	rng := rand.New(rand.NewPCG(20, 26))
	wins := make([]int, len(k))
	for range probBestDraws {
		best, bestAt := -1.0, 0
		for i := range k {
			if x := betaSample(rng, 1+float64(k[i]), 1+float64(n[i]-k[i])); x > best {
				best, bestAt = x, i
			}
		}
		wins[bestAt]++
	}
	for i, w := range wins {
		out[i] = float64(w) / probBestDraws
	}
	return out
}

// probGreater is P(B > A) for A ~ Beta(a1, b1) and B ~ Beta(a2, b2) with a
// whole a2 (Evan Miller's closed form):
// Σ_{i<a2} B(a1+i, b1+b2) / ((b2+i) B(1+i, b2) B(a1, b1)).
func probGreater(a1, b1 float64, a2 int, b2 float64) float64 {
	var sum float64
	for i := range a2 {
		fi := float64(i)
		sum += math.Exp(lbeta(a1+fi, b1+b2) - math.Log(b2+fi) - lbeta(1+fi, b2) - lbeta(a1, b1))
	}
	return min(1, max(0, sum))
}

func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// betaSample draws from Beta(a, b) as X/(X+Y) of two gamma draws.
func betaSample(rng *rand.Rand, a, b float64) float64 {
	x, y := gammaSample(rng, a), gammaSample(rng, b)
	return x / (x + y)
}

// gammaSample draws from Gamma(shape, 1) for shape ≥ 1 (Marsaglia and
// Tsang's method; the posteriors here always have shape ≥ 1).
func gammaSample(rng *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
