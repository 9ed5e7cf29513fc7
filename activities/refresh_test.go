package activities

import (
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestRefreshKeepsTheReportsDailyTallies: the hourly refresh keeps the days
// the NPS, CSAT and deliverability reports sum, through its moment, and a
// second refresh replaces them rather than adding to them.
func TestRefreshKeepsTheReportsDailyTallies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Settings{})
	ctx := t.Context()
	ids, err := f.store.UpsertCustomers(ctx, []store.CustomerInput{{ExternalID: "C-1", Locale: testdb.String("en")}})
	if err != nil {
		t.Fatal(err)
	}
	c := ids[0].ID
	sent := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	testdb.MustExec(t, f.store, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
		VALUES ('survey', 'r1', $1, 'order_delivered', $2)`, c, sent.Add(-time.Hour))
	var msg string
	if err := f.store.Pool().QueryRow(ctx, `INSERT INTO messages (idempotency_key, customer_id, journey, step, channel,
			template, topic, recipient, status, created_at, sent_at)
		VALUES ('survey/'||$1||'/r1/survey', $1::uuid, 'survey', 'survey', 'email', 'survey_request', 'surveys',
			'c1@shop.example', 'sent', $2, $2) RETURNING id::text`, c, sent).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, f.store, `INSERT INTO survey_responses (customer_id, survey, score, message_id, answered_at)
		VALUES ($1, 'nps', 10, $2, $3)`, c, msg, sent.Add(2*time.Hour))

	at := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	for range 2 {
		res, err := f.acts.RefreshReports(ctx, RefreshInput{At: at})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tallies.SurveyRows != 2 || res.Tallies.DeliveryRows != 1 {
			t.Errorf("refresh kept %+v, want 2 survey rows (the invitation, the answer) and 1 delivery row", res.Tallies)
		}
	}
	var invitations, answers, messages int
	var through time.Time
	if err := f.store.Pool().QueryRow(ctx, `
		SELECT (SELECT sum(n) FILTER (WHERE invite AND survey = 'nps') FROM survey_days WHERE day = '2026-03-02'),
			(SELECT sum(n) FILTER (WHERE NOT invite AND score = 10) FROM survey_days WHERE day = '2026-03-02'),
			(SELECT sum(n) FROM delivery_days WHERE day = '2026-03-02' AND status = 'sent' AND domain = 'shop.example'),
			(SELECT through FROM report_tallies WHERE report = 'surveys')`).Scan(&invitations, &answers, &messages, &through); err != nil {
		t.Fatal(err)
	}
	if invitations != 1 || answers != 1 || messages != 1 || !through.Equal(at) {
		t.Errorf("kept %d answered invitations, %d answers of 10, %d sent messages through %s; want 1, 1, 1 through %s",
			invitations, answers, messages, through, at)
	}
}
