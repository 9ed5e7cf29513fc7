package reports_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestCustomerValueHistoricalAndPredicted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b, c := w.customer("A", "en", "high"), w.customer("B", "en", "low"), w.customer("C", "en", "mid")
	w.customer("D", "en", "low") // never bought: not a buyer
	w.purchases(a, 100, "2024-06-01", "2025-06-01", "2025-12-01")
	w.purchases(b, 50, "2024-09-01")
	w.purchases(c, 40, "2025-11-01", "2025-12-01")
	r, err := reports.Value(t.Context(), w.st, day("2026-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	// On 2026-01-01: 3 buyers, 6 orders, 430 spent. Observed years: A
	// 579 days, B 487, C 61, over 365.25 = 1.58522 + 1.33333 + 0.16701 =
	// 3.08556; frequency 6 / 3.08556 = 1.94454 orders a year; AOV 430/6.
	// A and B bought first over a year ago, B not since: annual churn
	// 1/2, lifetime 2 years; predicted 71.667 × 1.94454 × 2 = 278.72.
	// High (A) never lapsed: lifetime capped at 10; mid (C) is too young
	// for a lifetime.
	want := []string{
		"total n=3 orders=6 revenue=430 share=1 clv=143.33 aov=71.667 freq=1.9445 life=2 pred=278.72",
		"2024-06 n=1 orders=3 revenue=300 share=0.69767 clv=300 aov=100 freq=1.8925 life=10 pred=1892.5",
		"2024-09 n=1 orders=1 revenue=50 share=0.11628 clv=50 aov=50 freq=0.75 life=1 pred=37.5",
		"2025-11 n=1 orders=2 revenue=80 share=0.18605 clv=80 aov=40 freq=11.975 life=- pred=-",
		"high n=1 orders=3 revenue=300 share=0.69767 clv=300 aov=100 freq=1.8925 life=10 pred=1892.5",
		"mid n=1 orders=2 revenue=80 share=0.18605 clv=80 aov=40 freq=11.975 life=- pred=-",
		"low n=1 orders=1 revenue=50 share=0.11628 clv=50 aov=50 freq=0.75 life=1 pred=37.5",
	}
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.5g", *p)
	}
	var got []string
	for _, row := range append(append([]reports.ValueRow{r.Total}, r.ByCohort...), r.ByTier...) {
		got = append(got, fmt.Sprintf("%s n=%d orders=%d revenue=%g share=%s clv=%s aov=%s freq=%s life=%s pred=%s",
			row.Label, row.Customers, row.Orders, row.Revenue, f(row.RevenueShare), f(row.HistoricalCLV),
			f(row.AOV), f(row.Frequency), f(row.LifetimeYears), f(row.PredictedCLV)))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("value:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCustomerValueBySavedSegment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b, c := w.customer("A", "en", "high"), w.customer("B", "zh-TW", "low"), w.customer("C", "en", "mid")
	w.customer("D", "en", "low") // never bought: in "english" but no buyer
	w.purchases(a, 100, "2024-06-01", "2025-06-01", "2025-12-01")
	w.purchases(b, 50, "2024-09-01")
	w.purchases(c, 40, "2025-11-01", "2025-12-01")
	for name, def := range map[string]string{"english": "match: {locale: en}\n", "repeat": "match: {orders_count: {gte: 2}}\n", "nobody": "match: {tags: vip}\n"} {
		if _, _, err := w.st.SaveSegment(t.Context(), store.Segment{Name: name, Format: "yaml", Definition: def}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := reports.Value(t.Context(), w.st, day("2026-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	// english: A and C, 5 orders, 380 of 430 (0.88372), CLV 190, AOV 76,
	// observed 1.58522 + 0.16701 = 1.75223 years: 2.8535 orders a year; A is the
	// one buyer of a year and has not lapsed: lifetime 10, predicted
	// 76 × 2.8535 × 10 = 2168.7. repeat: the same two. nobody: no buyers.
	var got []string
	for _, row := range r.BySegment {
		got = append(got, fmt.Sprintf("%s n=%d orders=%d revenue=%g share=%s clv=%s freq=%s pred=%s", row.Label, row.Customers, row.Orders,
			row.Revenue, f5(row.RevenueShare), f5(row.HistoricalCLV), f5(row.Frequency), f5(row.PredictedCLV)))
	}
	want := []string{
		"english n=2 orders=5 revenue=380 share=0.88372 clv=190 freq=2.8535 pred=2168.7",
		"nobody n=0 orders=0 revenue=0 share=0 clv=- freq=- pred=-",
		"repeat n=2 orders=5 revenue=380 share=0.88372 clv=190 freq=2.8535 pred=2168.7",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("by segment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func f5(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.5g", *p)
}

func TestRFMGrid(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ids := []string{w.customer("A", "en", "high"), w.customer("B", "en", "low"), w.customer("C", "en", "mid"), w.customer("D", "en", "low")}
	w.purchases(ids[0], 100, "2025-06-01", "2025-07-01", "2025-08-01")
	w.purchases(ids[1], 50, "2024-09-01")
	w.purchases(ids[2], 40, "2025-11-01", "2025-12-01")
	for i, s := range [][3]int{{5, 5, 5}, {1, 1, 2}, {5, 2, 3}, {0, 0, 0}} {
		testdb.MustExec(t, w.st, `UPDATE customer_scores SET recency = $2, frequency = $3, monetary = $4 WHERE customer_id = $1`,
			ids[i], s[0], s[1], s[2])
	}
	r, err := reports.RFM(t.Context(), w.st)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Cells {
		got = append(got, fmt.Sprintf("R%dF%d n=%d revenue=%g M=%g", c.Recency, c.Frequency, c.Customers, c.Revenue, c.Monetary))
	}
	if want := "R5F5 n=1 revenue=300 M=5|R5F2 n=1 revenue=80 M=3|R1F1 n=1 revenue=50 M=2|R0F0 n=1 revenue=0 M=0"; strings.Join(got, "|") != want || r.Customers != 4 {
		t.Errorf("grid %s (%d customers), want %s", strings.Join(got, "|"), r.Customers, want)
	}
}
