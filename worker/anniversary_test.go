package worker_test

import (
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// anniversary: a customer whose first order was placed late on March 10 in
// New York is thanked on March 10 local, with the number of years, once
// however often the sweep runs.
func (e *e2e) anniversary(t *testing.T) {
	id := e.customer("first-order", "America/New_York")
	testdb.MustExec(t, e.store, `UPDATE customers SET first_purchase_at = $2, last_purchase_at = $2 WHERE id = $1`,
		id, time.Date(2024, 3, 11, 3, 30, 0, 0, time.UTC)) // 23:30 on March 10 in New York
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC) // 10:00 on March 10 in New York
	for i, wid := range []string{"anniversary-sweep-e2e", "anniversary-sweep-e2e-again"} {
		run := e.start(wid, workflows.AnniversarySweepWorkflow, workflows.BirthdaySweepInput{At: at})
		var res workflows.BirthdaySweepResult
		e.result(run, &res)
		if want := 1 - i; res.Counts.Sent != want {
			t.Errorf("sweep %d sent %d, want %d", i+1, res.Counts.Sent, want)
		}
		if i == 0 {
			e.saveHistory(run, "anniversary_sweep")
		}
	}
	g := e.waitSent(id, "greeting")
	if g.IdempotencyKey != "anniversary/"+id+"/2026" || g.Template != "anniversary" || g.Data["years"] != 2 || g.Data["first_anniversary"] != false {
		t.Errorf("thank-you %+v, want the anniversary template for year 2026 marking 2 years", g)
	}
}
