package reports_test

import (
	"fmt"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestWinbackRecoveredCustomersAndRevenue(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ids := []string{w.customer("A", "en", ""), w.customer("B", "en", ""), w.customer("C", "en", ""), w.customer("D", "en", "")}
	// Four win-back runs in March; A converts after the first mail (80),
	// B after the second (20) and C after the first in April (50).
	// D's run converts nothing. An onboarding conversion is another
	// journey's.
	for i, id := range ids {
		testdb.MustExec(t, w.st, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ('winback', $1, $2, 'sweep', $3)`, fmt.Sprint("run-", i), id, day(fmt.Sprintf("2026-03-%02d", 2+i)))
	}
	conv := func(journey, run, customer, step string, revenue float64, at string) {
		testdb.MustExec(t, w.st, `INSERT INTO conversions (journey, run_id, customer_id, step, event_id, revenue, currency, converted_at)
			VALUES ($1, $2, $3, $4, $2, $5, 'USD', $6)`, journey, run, customer, step, revenue, day(at))
	}
	conv("winback", "run-0", ids[0], "first", 80, "2026-03-10")
	conv("winback", "run-1", ids[1], "second", 20, "2026-03-20")
	conv("winback", "run-2", ids[2], "first", 50, "2026-04-02")
	conv("onboarding", "run-9", ids[3], "welcome", 10, "2026-03-05")

	r, err := reports.Journey(t.Context(), w.st, "winback", reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	// March: 4 runs, of which 3 converted (C's in April): 75%; March's
	// conversions recovered A and B for 100 USD, first mail 1 × 80, second
	// 1 × 20.
	if r.Runs != 4 || r.Converted != 3 || *r.ConversionRate != 0.75 || r.Recovered != 2 || r.Revenue["USD"] != 100 ||
		len(r.Steps) != 2 || r.Steps[0].Step != "first" || r.Steps[0].Revenue != 80 || r.Steps[1].Step != "second" {
		t.Errorf("winback report = %+v", r)
	}
}
