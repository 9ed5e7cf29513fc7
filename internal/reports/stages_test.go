package reports_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestLifecycleHistoryCountsStagesAndFlowsByMonth(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	joined := w.joinedAt
	joined("P", "2025-06-01") // never buys: prospect throughout
	q := joined("Q", "2025-06-01")
	w.purchases(q, 30, "2025-12-20") // one order
	r := joined("R", "2025-01-01")
	w.purchases(r, 30, "2025-09-01", "2025-10-01", "2025-11-20") // three orders
	joined("S", "2026-02-10")                                    // joins in February, never buys
	// Refreshes on Jan 15, Feb 15, Mar 1 and Mar 25: March keeps the last.
	// Jan 15: P prospect, Q new (first order 26 days before), R loyal
	// (3 orders, last 56 days before); S did not exist yet.
	// Feb 15: Q active (57 days), R loyal (87), S new (5 days).
	// Mar 25: Q at risk (95 days), R at risk (125), S prospect (43 days).
	for _, at := range []string{"2026-01-15", "2026-02-15", "2026-03-01", "2026-03-25"} {
		if _, err := w.st.RecordStages(t.Context(), day(at)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := reports.LifecycleHistory(t.Context(), w.st, reports.Period{Since: day("2026-01-01"), Until: day("2026-05-01")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Stages, []string{"new", "prospect", "loyal", "active", "at_risk", "lapsed"}) || len(rep.Months) != 4 {
		t.Fatalf("stages %v, %d months", rep.Stages, len(rep.Months))
	}
	show := func(ns ...*int) string {
		out := ""
		for _, n := range ns {
			if n == nil {
				out += " -"
			} else {
				out += fmt.Sprint(" ", *n)
			}
		}
		return out
	}
	for i, want := range []string{
		"2026-01: 1 1 1 0 0 0 | 3 0 3",
		"2026-02: 1 1 1 1 0 0 | 4 1 1",
		"2026-03: 0 2 0 0 2 0 | 4 3 0",
		"2026-04: - - - - - - | - - -", // no refresh in April
	} {
		m := rep.Months[i]
		if got := m.Month + ":" + show(m.Customers...) + " |" + show(m.Total, m.Moved, m.Joined); got != want {
			t.Errorf("month %d = %q, want %q", i, got, want)
		}
	}
	var march []string
	for _, f := range rep.Flows {
		if f.Month == "2026-03" {
			march = append(march, fmt.Sprintf("%s>%s %d", f.From, f.To, f.Customers))
		}
	}
	if want := []string{"active>at_risk 1", "loyal>at_risk 1", "new>prospect 1", "prospect>prospect 1"}; !slices.Equal(march, want) {
		t.Errorf("March flows %v, want %v", march, want)
	}
}

// The history reads the flows each recording keeps; they must stay what
// joining every customer's stages to the month before gives, when a month
// is recorded again after the next one and when a customer is erased.
func TestKeptStageFlowsFollowRecordingsAndErasure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	joined := w.joinedAt
	joined("P", "2025-06-01") // prospect throughout
	q := joined("Q", "2025-06-01")
	w.purchases(q, 30, "2025-12-20")
	r := joined("R", "2025-01-01")
	w.purchases(r, 30, "2025-09-01", "2025-10-01", "2025-11-20")
	record := func(at string) {
		t.Helper()
		if _, err := w.st.RecordStages(t.Context(), day(at)); err != nil {
			t.Fatal(err)
		}
	}
	period := reports.Period{Since: day("2026-01-01"), Until: day("2026-04-01")}
	flows := func() []string {
		t.Helper()
		rep, err := reports.LifecycleHistory(t.Context(), w.st, period)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range rep.Flows {
			out = append(out, fmt.Sprintf("%s %s>%s %d", f.Month, f.From, f.To, f.Customers))
		}
		return out
	}
	// What the history would show counted from every stage row now.
	live := func() []string {
		t.Helper()
		rows, err := w.st.Pool().Query(t.Context(), `
			SELECT to_char(cur.month, 'YYYY-MM'), coalesce(prev.stage, ''), cur.stage, count(*)
			FROM customer_stages cur
			LEFT JOIN customer_stages prev ON prev.customer_id = cur.customer_id AND prev.month = (cur.month - interval '1 month')::date
			WHERE cur.month >= '2026-01-01' AND cur.month < '2026-04-01'
			GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var m, from, to string
			var n int
			if err := rows.Scan(&m, &from, &to, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s>%s %d", m, from, to, n))
		}
		return out
	}
	check := func(when string, want []string) {
		t.Helper()
		got := flows()
		if !slices.Equal(got, want) {
			t.Errorf("%s: flows\n%v\nwant\n%v", when, got, want)
		}
		if l := live(); !slices.Equal(got, l) {
			t.Errorf("%s: kept flows\n%v\ncounted now\n%v", when, got, l)
		}
	}

	// Jan 15: P prospect, Q new, R loyal. Mar 25: Q at risk (95 days
	// since the order), R at risk (125). February has no recording yet, so
	// March's customers had no stage the month before.
	record("2026-01-15")
	record("2026-03-25")
	check("January and March", []string{
		"2026-01 >loyal 1", "2026-01 >new 1", "2026-01 >prospect 1",
		"2026-03 >at_risk 2", "2026-03 >prospect 1",
	})
	// February recorded late (Feb 15: Q active at 57 days, R loyal at 87)
	// changes what March's flows come from.
	record("2026-02-15")
	check("February recorded after March", []string{
		"2026-01 >loyal 1", "2026-01 >new 1", "2026-01 >prospect 1",
		"2026-02 loyal>loyal 1", "2026-02 new>active 1", "2026-02 prospect>prospect 1",
		"2026-03 active>at_risk 1", "2026-03 loyal>at_risk 1", "2026-03 prospect>prospect 1",
	})
	// Erasing R takes them out of every month, and the next recording
	// gives their tombstone no stage.
	if err := w.st.EraseCustomer(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	record("2026-03-26")
	check("R erased", []string{
		"2026-01 >new 1", "2026-01 >prospect 1",
		"2026-02 new>active 1", "2026-02 prospect>prospect 1",
		"2026-03 active>at_risk 1", "2026-03 prospect>prospect 1",
	})
}

// joinedAt is a customer who joined on the day at.
func (w *world) joinedAt(external, at string) string {
	id := w.customer(external, "en", "")
	testdb.MustExec(w.t, w.st, `UPDATE customers SET created_at = $2 WHERE id = $1`, id, day(at))
	return id
}
