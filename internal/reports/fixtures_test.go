package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// world is a test database with helpers that write the rows a report reads,
// the way the journeys and receivers write them.
type world struct {
	t  *testing.T
	st *store.Store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st, _ := testdb.New(t)
	return &world{t: t, st: st}
}

func (w *world) queryRow(sql string, args ...any) string {
	w.t.Helper()
	var out string
	if err := w.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&out); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// customer adds a customer with a locale and, unless tier is "", a value
// tier; it returns the customer's ID.
func (w *world) customer(external, locale, tier string) string {
	w.t.Helper()
	id := w.queryRow(`INSERT INTO customers (external_id, locale) VALUES ($1, $2) RETURNING id::text`, external, locale)
	if tier != "" {
		testdb.MustExec(w.t, w.st, `INSERT INTO customer_scores (customer_id, recency, frequency, monetary, value_tier)
			VALUES ($1, 1, 1, 1, $2)`, id, tier)
	}
	return id
}

// surveyRun records a survey journey run started by trigger and its sent
// survey message; it returns the message's ID.
func (w *world) surveyRun(customer, run, trigger string, sent time.Time) string {
	w.t.Helper()
	testdb.MustExec(w.t, w.st, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
		VALUES ('survey', $1, $2, $3, $4)`, run, customer, trigger, sent.Add(-24*time.Hour))
	return w.surveyMessage(customer, run, "survey", sent)
}

// surveyMessage records a sent message of a survey run (survey or reminder).
func (w *world) surveyMessage(customer, run, step string, sent time.Time) string {
	w.t.Helper()
	return w.queryRow(`INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic,
			status, created_at, sent_at)
		VALUES ($1, $2, 'survey', $3, 'email', 'survey_request', 'surveys', 'sent', $4, $4) RETURNING id::text`,
		"survey/"+customer+"/"+run+"/"+step, customer, step, sent)
}

// answer records a survey answer to a message.
func (w *world) answer(customer, kind string, score int, comment, message string, at time.Time) {
	w.t.Helper()
	testdb.MustExec(w.t, w.st, `INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, customer, kind, score, comment, message, at)
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err != nil {
		panic(err)
	}
	return t
}

// purchases records purchase events of a customer ("2025-01-10" or with
// a time), amount each, the way the events API stores them: the customer's
// order count, spend and first and last purchase follow.
func (w *world) purchases(customer string, amount float64, days ...string) {
	w.t.Helper()
	in := make([]store.EventInput, len(days))
	for i, d := range days {
		in[i] = store.EventInput{EventID: customer + "/" + d, CustomerID: customer, Type: store.PurchaseEvent,
			Properties: map[string]any{"amount": amount}, OccurredAt: day(d), Unrouted: true}
	}
	if _, err := w.st.RecordEvents(context.Background(), in); err != nil {
		w.t.Fatal(err)
	}
}
