package reports_test

import (
	"math"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestUpliftIntervalIsNewcombes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name            string
		k1, n1, k2, n2  int
		points, low, hi float64
		verdict         string
	}{
		// Newcombe (1998), Statistics in Medicine 17:873, table II,
		// method 10: 56/70 − 48/80 = 0.2000, interval 0.0524 to 0.3339.
		// Under 100 entries a group is too small for a verdict.
		{"published example", 56, 70, 48, 80, 20, 5.24, 33.39, reports.VerdictNotEnough},
		// By hand: Wilson 40/200 = [0.15045, 0.26086], 20/200 =
		// [0.06567, 0.14941]; 0.1 − √(0.04955² + 0.04941²) = 0.03003,
		// 0.1 + √(0.06086² + 0.03433²) = 0.16987.
		{"worked by hand", 40, 200, 20, 200, 10, 3.00, 16.99, reports.VerdictBetter},
		{"worse", 20, 200, 40, 200, -10, -16.99, -3.00, reports.VerdictWorse},
		// Wilson 21/200 = [0.06984, 0.15520], 20/200 as above:
		// 0.005 − √(0.03516² + 0.04941²), 0.005 + √(0.05020² + 0.03433²).
		{"no difference", 21, 200, 20, 200, 0.5, -5.57, 6.58, reports.VerdictNoDiff},
		// Wilson 6/50 = [0.05618, 0.23805], 2/50 = [0.01104, 0.13460]:
		// 0.08 − √(0.06382² + 0.09460²), 0.08 + √(0.11805² + 0.02896²).
		{"too few entries", 6, 50, 2, 50, 8, -3.41, 20.15, reports.VerdictNotEnough},
	} {
		e := reports.Uplift(c.k1, c.n1, c.k2, c.n2)
		if !near(e.Points, c.points, 0.001) || !near(e.Low, c.low, 0.01) || !near(e.High, c.hi, 0.01) || e.Verdict != c.verdict {
			t.Errorf("%s: uplift %.3f [%.3f, %.3f] %q, want %.2f [%.2f, %.2f] %q",
				c.name, e.Points, e.Low, e.High, e.Verdict, c.points, c.low, c.hi, c.verdict)
		}
	}
	if e := reports.Uplift(56, 70, 48, 80); !near(e.Low, 5.24, 0.006) || !near(e.High, 33.39, 0.006) {
		t.Errorf("published example to two decimals: [%.4f, %.4f]", e.Low, e.High)
	}
}

func TestProbabilityEachVariantIsBest(t *testing.T) {
	t.Parallel()
	// One conversion out of one against nothing yet: Beta(2,1) against
	// Beta(1,1), P = ∫₀¹ 2x · x dx = 2/3.
	if p := reports.ProbBest([]int{0, 1}, []int{0, 1}); !near(p[0], 1.0/3, 1e-12) || !near(p[1], 2.0/3, 1e-12) {
		t.Errorf("1/1 against 0/0: %v, want [1/3 2/3]", p)
	}
	// Equal counts: each of three is best a third of the time.
	for i, p := range reports.ProbBest([]int{10, 10, 10}, []int{100, 100, 100}) {
		if !near(p, 1.0/3, 0.015) {
			t.Errorf("equal variants: P(%d best) = %.4f, want 1/3", i, p)
		}
	}
	// 30/300 against 40/300: P(B > A) = 0.8971 by numerical integration
	// of Beta(41,261)'s density times Beta(31,271)'s distribution
	// function. A hopeless third variant leaves the first two to the
	// closed form.
	two := reports.ProbBest([]int{30, 40}, []int{300, 300})
	three := reports.ProbBest([]int{30, 40, 0}, []int{300, 300, 1000})
	if !near(three[0], two[0], 0.015) || !near(three[1], two[1], 0.015) || three[2] != 0 || !near(two[1], 0.8971, 0.0005) {
		t.Errorf("Monte Carlo %v against closed form %v", three, two)
	}
	if again := reports.ProbBest([]int{30, 40, 0}, []int{300, 300, 1000}); again[0] != three[0] {
		t.Errorf("the same counts gave %v, then %v", three, again)
	}
}

func TestCampaignReportCarriesItsUncertainty(t *testing.T) {
	t.Parallel()
	rep := reports.WithUncertainty(store.CampaignReport{Campaign: "spring", Arms: []store.CampaignArm{
		{Variant: "calm", Entered: 120, Converted: 12},
		{Variant: "urgent", Entered: 120, Converted: 24},
		{Holdout: true, Entered: 60, Converted: 3},
	}})
	u := rep.Uplift
	// Treatment 36/240 = 15%, holdout 3/60 = 5%: +10 points, but the
	// holdout has fewer than 100 entries.
	if u == nil || u.Treatment.Entered != 240 || u.Treatment.Converted != 36 || !near(u.Points, 10, 1e-9) ||
		u.Verdict != reports.VerdictNotEnough || u.Enough {
		t.Errorf("uplift = %+v", u)
	}
	if len(rep.Variants) != 2 || rep.Variants[0].Variant != "calm" || !rep.Variants[1].Enough ||
		rep.Variants[1].ProbBest < 0.95 || !near(rep.Variants[0].ProbBest+rep.Variants[1].ProbBest, 1, 1e-9) {
		t.Errorf("variants = %+v", rep.Variants)
	}
	if none := reports.WithUncertainty(store.CampaignReport{Arms: []store.CampaignArm{{Entered: 5}}}); none.Uplift != nil || len(none.Variants) != 0 {
		t.Errorf("without a holdout or variants: %+v", none)
	}
}
