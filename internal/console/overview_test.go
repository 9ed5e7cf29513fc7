package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestOverviewCountsAndAttention: the overview shows today's and the
// week's messages per channel with skip and failure reasons, journeys in
// flight, live campaigns, and flags what needs attention — an outbox not
// draining, a failure rate above normal, a paused campaign with people
// waiting.
func TestOverviewCountsAndAttention(t *testing.T) {
	e := newConsole(t)
	e.user("ops@example.com", access.Ops)
	e.defaultSchedules("")
	ctx := t.Context()
	c, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{ExternalID: "x", Email: testdb.String("x@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	// n ledger rows created ago, with a status, reason and delivery report.
	// Today's rows are stamped now: the page's "today" starts at midnight in
	// the reader's zone (Asia/Taipei here), which a minute ago may precede.
	ledger := func(n int, ago, channel, status, reason, delivery string) {
		testdb.MustExec(t, e.store, `
			INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, reason, delivery, created_at)
			SELECT 'seed/' || gen_random_uuid(), $1, 'campaign/spring', 'offer', $2, 'spring_sale', 'marketing', $3, $4, $5, now() - $6::interval
			FROM generate_series(1, $7)`, c.ID, channel, status, reason, delivery, ago, n)
	}
	ledger(100, "3 days", "email", "sent", "", "delivered")
	ledger(30, "0 seconds", "email", "sent", "", "")
	ledger(1, "0 seconds", "email", "sent", "", "bounced")
	ledger(10, "0 seconds", "email", "failed", "550 5.1.1 mailbox unavailable", "")
	ledger(3, "0 seconds", "email", "skipped", "opted_out", "")
	ledger(2, "0 seconds", "email", "skipped", "suppressed:hard_bounce", "")
	ledger(4, "0 seconds", "sms", "sent", "", "")
	testdb.MustExec(t, e.store, `INSERT INTO journey_runs (journey, run_id, customer_id, started_at) VALUES ('onboarding', 'r1', $1, now())`, c.ID)
	testdb.MustExec(t, e.store, `INSERT INTO campaigns (name, status, current_version, trigger_kind, paused_at) VALUES ('spring', 'paused', 2, 'schedule', now())`)
	testdb.MustExec(t, e.store, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, entered_at) VALUES ('spring', $1, 1, 2, 'run-1', now())`, c.ID)
	testdb.MustExec(t, e.store, `INSERT INTO events (event_id, customer_id, type, occurred_at, received_at) VALUES ('stuck', $1, 'signup', now(), now() - interval '10 minutes')`, c.ID)

	b := e.browser("en")
	e.signIn(b, "ops@example.com")
	today := e.text(b, "#traffic-today")
	for _, want := range []string{"Email 31 5 10 0 1 0", "skipped, opted out: 3", "skipped, suppressed: 2", "failed, 550 5.1.1 mailbox unavailable: 10", "SMS 4 0 0"} {
		if !strings.Contains(squash(today), want) {
			t.Errorf("today's table lacks %q:\n%s", want, today)
		}
	}
	if week := squash(e.text(b, "#traffic-week")); !strings.Contains(week, "Email 131 5 10") {
		t.Errorf("the week's table: %s", week)
	}
	attention := e.text(b, ".attention")
	for _, want := range []string{"Events not yet routed to their journeys: 1; the oldest has waited 1", "Email is failing more than usual today: 24.4%", "Campaign spring is paused with customers waiting: 1."} {
		if !strings.Contains(attention, want) {
			t.Errorf("needs attention lacks %q:\n%s", want, attention)
		}
	}
	if got := e.text(b, "#journeys-h + table"); !strings.Contains(got, "onboarding") {
		t.Errorf("journeys in flight: %q", got)
	}
	e.shot(b, "overview-en")
	e.run(b, chromedp.Click(`a[data-lang="zh-CN"]`), chromedp.WaitVisible("#traffic-today", chromedp.ByID))
	if got := e.text(b, ".attention"); !strings.Contains(got, "活动 spring 已暂停") {
		t.Errorf("zh-CN attention: %q", got)
	}
	if words := e.englishOn(b, "spring", "mailbox", "unavailable"); len(words) > 0 {
		t.Errorf("zh-CN overview shows English: %q", words)
	}
	e.shot(b, "overview-zh-CN")
}

// squash is text with its runs of white space made single spaces.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
