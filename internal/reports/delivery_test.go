package reports_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// deliveryHistory writes the ledger rows and consent changes of three
// customers that TestDeliverabilityByTopicTemplateDomainAndWeek works out
// by hand.
func deliveryHistory(w *world, c1, c2, c3 string) {
	w.t.Helper()
	n := 0
	msg := func(customer, channel, recipient, template, topic, status, delivery, at string) {
		n++
		testdb.MustExec(w.t, w.st, `INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic,
				recipient, status, delivery, created_at)
			VALUES ($1, $2, 'campaign/spring', 'send', $3, $4, $5, $6, $7, $8, $9)`,
			fmt.Sprint("k", n), customer, channel, template, topic, recipient, status, delivery, day(at))
	}
	msg(c1, "email", "A@Shop.example", "spring", "marketing", "sent", "delivered", "2026-03-02 10:00")
	msg(c1, "email", "a@shop.example", "spring", "marketing", "sent", "bounced", "2026-03-03 10:00")
	msg(c2, "email", "b@mail.example", "spring", "marketing", "sent", "complained", "2026-03-03 10:00")
	msg(c2, "email", "b@mail.example", "care", "care", "sent", "soft_bounced", "2026-03-10 10:00")
	msg(c2, "email", "b@mail.example", "care", "care", "failed", "", "2026-03-10 11:00")
	msg(c3, "sms", "+15550001", "care", "care", "sent", "delivered", "2026-03-11 10:00")
	msg(c1, "email", "a@shop.example", "spring", "marketing", "skipped", "", "2026-03-12 10:00")
	msg(c1, "email", "a@shop.example", "spring", "marketing", "sent", "", "2026-02-20 10:00")
	unsub := func(customer, topic, at string) {
		testdb.MustExec(w.t, w.st, `INSERT INTO consent_changes (customer_id, channel, topic, status, source, changed_at)
			VALUES ($1, 'email', $2, 'denied', 'unsubscribe_link', $3)`, customer, topic, day(at))
	}
	// C-1 leaves marketing after the bounced spring mail of 03-03; C-2
	// leaves care after the soft-bounced care mail (the failed one was
	// never sent). A form's denial is not an unsubscribe.
	unsub(c1, "marketing", "2026-03-05 09:00")
	unsub(c2, "care", "2026-03-15 09:00")
	testdb.MustExec(w.t, w.st, `INSERT INTO consent_changes (customer_id, channel, topic, status, source, changed_at)
		VALUES ($1, 'email', 'surveys', 'denied', 'preference_page', '2026-03-06')`, c3)
}

func TestDeliverabilityByTopicTemplateDomainAndWeek(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	deliveryHistory(w, w.customer("C-1", "en", ""), w.customer("C-2", "en", ""), w.customer("C-3", "en", ""))

	r, err := reports.Deliverability(t.Context(), w.st, reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.3g", *p)
	}
	line := func(row reports.DeliveryRow) string {
		return fmt.Sprintf("%s sent=%d failed=%d skipped=%d delivered=%d hard=%d soft=%d complaints=%d unsub=%d rates fail=%s bounce=%s soft=%s complaint=%s unsub=%s",
			row.Label, row.Sent, row.Failed, row.Skipped, row.Delivered, row.Bounced, row.SoftBounced, row.Complained, row.Unsubscribes,
			f(row.FailureRate), f(row.BounceRate), f(row.SoftBounceRate), f(row.ComplaintRate), f(row.UnsubscribeRate))
	}
	// Sent 5 of March's 7 messages (one failed, one skipped): 1 hard
	// bounce, 1 soft, 1 complaint, 2 unsubscribes per 5 sent; 1 failure in 6.
	if got, want := line(r.Total), "total sent=5 failed=1 skipped=1 delivered=2 hard=1 soft=1 complaints=1 unsub=2 rates fail=0.167 bounce=0.2 soft=0.2 complaint=0.2 unsub=0.4"; got != want {
		t.Errorf("total:\n got %s\nwant %s", got, want)
	}
	want := map[string][]string{
		reports.ByTopic: {
			"marketing sent=3 failed=0 skipped=1 delivered=1 hard=1 soft=0 complaints=1 unsub=1 rates fail=0 bounce=0.333 soft=0 complaint=0.333 unsub=0.333",
			"care sent=2 failed=1 skipped=0 delivered=1 hard=0 soft=1 complaints=0 unsub=1 rates fail=0.333 bounce=0 soft=0.5 complaint=0 unsub=0.5",
		},
		reports.ByDomain: {
			"mail.example sent=2 failed=1 skipped=0 delivered=0 hard=0 soft=1 complaints=1 unsub=1 rates fail=0.333 bounce=0 soft=0.5 complaint=0.5 unsub=0.5",
			"shop.example sent=2 failed=0 skipped=1 delivered=1 hard=1 soft=0 complaints=0 unsub=1 rates fail=0 bounce=0.5 soft=0 complaint=0 unsub=0.5",
			"sms sent=1 failed=0 skipped=0 delivered=1 hard=0 soft=0 complaints=0 unsub=0 rates fail=0 bounce=0 soft=0 complaint=0 unsub=0",
		},
	}
	for by, rows := range want {
		b, _ := r.Breakdown(by)
		var got []string
		for _, row := range b.Rows {
			got = append(got, line(row))
		}
		if strings.Join(got, "\n") != strings.Join(rows, "\n") {
			t.Errorf("by %s:\n got %s\nwant %s", by, strings.Join(got, "\n     "), strings.Join(rows, "\n     "))
		}
	}
	weeks, _ := r.Breakdown(reports.ByWeek)
	var sent []string
	for _, row := range weeks.Rows {
		sent = append(sent, fmt.Sprintf("%s:%d/%d", row.Label, row.Sent, row.Unsubscribes))
	}
	if got := strings.Join(sent, " "); got != "2026-W09:0/0 2026-W10:3/1 2026-W11:2/1 2026-W12:0/0 2026-W13:0/0 2026-W14:0/0" {
		t.Errorf("sent/unsubscribes by week: %s", got)
	}
}
