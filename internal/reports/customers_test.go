package reports_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// customerWorld's purchase history, worked by hand below:
//
//	A: 2025-01-10, 02-05, 04-20      (first purchase January)
//	B: 2025-01-20                    (January)
//	C: 2025-02-03, 03-15, 03-20      (February)
//	D: 2024-12-15, 2025-01-05        (December 2024)
//	E: never, joined 2025-01-01
func customerWorld(t *testing.T) *world {
	w := newWorld(t)
	w.purchases(w.customer("A", "en", ""), 30, "2025-01-10", "2025-02-05", "2025-04-20")
	w.purchases(w.customer("B", "en", ""), 30, "2025-01-20")
	w.purchases(w.customer("C", "en", ""), 30, "2025-02-03", "2025-03-15", "2025-03-20")
	w.purchases(w.customer("D", "en", ""), 30, "2024-12-15", "2025-01-05")
	e := w.customer("E", "en", "")
	testdb.MustExec(t, w.st, `UPDATE customers SET created_at = '2025-01-01' WHERE id = $1`, e)
	testdb.MustExec(t, w.st, `UPDATE customers SET created_at = '2024-12-01' WHERE id <> $1`, e)
	return w
}

func fmtCell(n *int, r *float64) string {
	switch {
	case n == nil:
		return "·"
	case r == nil:
		return fmt.Sprint(*n)
	}
	return fmt.Sprintf("%d=%.2f", *n, *r)
}

func TestRetentionTriangle(t *testing.T) {
	t.Parallel()
	w := customerWorld(t)
	r, err := reports.Retention(t.Context(), w.st, reports.Period{Since: day("2025-01-01"), Until: day("2025-07-01")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// January's cohort is A and B: A buys again in February (+1) and
	// April (+3); nobody in March (+2); July (+6) has not begun. February's
	// is C, back in March (+1). D's first purchase was in 2024.
	want := []string{
		"2025-01 size 2: 1=0.50 0=0.00 1=0.50 · ·",
		"2025-02 size 1: 1=1.00 0=0.00 0=0.00 · ·",
		"2025-03 size 0: 0 0 0 · ·",
		"2025-04 size 0: 0 0 · · ·",
		"2025-05 size 0: 0 · · · ·",
		"2025-06 size 0: · · · · ·",
	}
	var got []string
	for _, row := range r.Rows {
		cells := make([]string, len(row.Retained))
		for i := range row.Retained {
			cells[i] = fmtCell(row.Retained[i], row.Rates[i])
		}
		got = append(got, fmt.Sprintf("%s size %d: %s", row.Cohort, row.Size, strings.Join(cells, " ")))
	}
	if fmt.Sprint(r.Offsets) != "[1 2 3 6 12]" || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("offsets %v, triangle:\n%s\nwant:\n%s", r.Offsets, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestChurnRatePerMonth(t *testing.T) {
	t.Parallel()
	w := customerWorld(t)
	r, err := reports.Churn(t.Context(), w.st, reports.Period{Since: day("2025-02-01"), Until: day("2025-05-01")}, 30)
	if err != nil {
		t.Fatal(err)
	}
	// Active = a purchase in the 30 days before.
	// February: active on 02-01 (since 01-02): A, B, D; on 03-01 (since
	//   01-30): A, C. Churned B and D: 2/3; gained C.
	// March: A, C at the start; on 04-01 (since 03-02) only C: 1/2.
	// April: C at the start; on 05-01 (since 04-01) only A: 1/1, gained A.
	want := []string{
		"2025-02 start=3 churned=2 end=2 gained=1 rate=0.667",
		"2025-03 start=2 churned=1 end=1 gained=0 rate=0.500",
		"2025-04 start=1 churned=1 end=1 gained=1 rate=1.000",
	}
	var got []string
	for _, row := range r.Rows {
		got = append(got, fmt.Sprintf("%s start=%d churned=%d end=%d gained=%d rate=%.3f",
			row.Label, row.ActiveAtStart, row.Churned, row.ActiveAtEnd, row.Gained, *row.Rate))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("churn:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := reports.Churn(t.Context(), w.st, reports.Period{Since: day("2025-02-01"), Until: day("2025-05-01")}, -1); err == nil {
		t.Error("a negative window was accepted")
	}
}

func TestLifecycleStageCounts(t *testing.T) {
	t.Parallel()
	w := customerWorld(t)
	r, err := reports.Lifecycle(t.Context(), w.st.Pool(), day("2025-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	// On 2025-05-01: A and C bought within 90 days with 3 orders (loyal);
	// B (01-20) and D (01-05) bought 90 to 180 days ago (at risk); E never
	// bought and joined over 30 days ago (prospect).
	var got []string
	for _, s := range r.Stages {
		got = append(got, fmt.Sprintf("%s=%d", s.Stage, s.Customers))
	}
	if r.Total != 5 || strings.Join(got, " ") != "new=0 prospect=1 loyal=2 active=0 at_risk=2 lapsed=0" {
		t.Errorf("total %d, stages %s", r.Total, strings.Join(got, " "))
	}
}
