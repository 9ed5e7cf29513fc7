package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestSurveyAnswerIsUniquePerMessage(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addCustomer(t, s, "C-1")
	m, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "survey/C-1/1", CustomerID: c, Journey: "survey",
		Step: "ask", Channel: "email", Template: "survey_nps", Topic: "surveys"})
	if err != nil {
		t.Fatal(err)
	}
	first, created, err := s.RecordSurveyAnswer(ctx, store.SurveyResponse{CustomerID: c, Survey: store.NPS, Score: 3, MessageID: m.ID})
	if err != nil || !created || first.Score != 3 {
		t.Fatalf("first answer = %+v, %v, %v", first, created, err)
	}
	second, created, err := s.RecordSurveyAnswer(ctx, store.SurveyResponse{CustomerID: c, Survey: store.NPS, Score: 9, MessageID: m.ID})
	if err != nil || created || second.Score != 9 || second.ID != first.ID {
		t.Fatalf("second answer = %+v, created %v, %v; want the same row updated to 9", second, created, err)
	}
	if _, err := s.SetSurveyComment(ctx, m.ID, "quick delivery"); err != nil {
		t.Fatal(err)
	}
	rs, err := s.SurveyResponses(ctx, c)
	if err != nil || len(rs) != 1 || rs[0].Score != 9 || rs[0].Comment != "quick delivery" {
		t.Fatalf("responses = %+v, %v; want one answer, 9, with the comment", rs, err)
	}
}

func TestEraseCustomerKeepsOnlyAnonymousRecords(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addCustomer(t, s, "C-1")
	if _, err := s.SetConsent(ctx, store.ConsentChange{CustomerID: c, Channel: "email", Topic: "marketing",
		Status: store.Granted, Source: "signup_form", IP: "203.0.113.9"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent(ctx, store.EventInput{EventID: "p1", CustomerID: c, Type: "purchase",
		Properties: map[string]any{"amount": 20.0, "note": "gift for Ann"}, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	m, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "k1", CustomerID: c, Journey: "winback",
		Step: "1", Channel: "email", Template: "t", Topic: "marketing", Recipient: "c-1@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecordSurveyAnswer(ctx, store.SurveyResponse{CustomerID: c, Survey: store.CSAT, Score: 2, MessageID: m.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSurveyComment(ctx, m.ID, "call me on 555-0100"); err != nil {
		t.Fatal(err)
	}
	if err := s.NoteAttemptError(ctx, m.ID, "452 4.2.2 <c-1@example.com>: mailbox full"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordFeedback(ctx, []store.Feedback{{MessageID: m.ID, Kind: store.FeedbackSoft, Provider: "dsn",
		ReceiptID: "dsn-1", Detail: "smtp; 452 4.2.2 <c-1@example.com>: mailbox full", OccurredAt: time.Now()}}, store.SoftBouncePolicy{}); err != nil {
		t.Fatal(err)
	}

	before, err := s.ExportCustomer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if before.Customer.Email != "c-1@example.com" || len(before.Consents) != 1 || len(before.ConsentHistory) != 1 ||
		len(before.Events) != 1 || len(before.Messages) != 1 || len(before.SurveyResponses) != 1 {
		t.Fatalf("export before erasure is incomplete: %+v", before)
	}

	if err := s.EraseCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CustomerByExternalID(ctx, "C-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erased customer still found by external ID: %v", err)
	}
	after, err := s.ExportCustomer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !store.IsErased(after.Customer) || after.Customer.Email != "" || after.Customer.Birthday != nil || len(after.Customer.Attributes) != 0 {
		t.Errorf("profile keeps personal data: %+v", after.Customer)
	}
	if after.Customer.OrdersCount != 1 {
		t.Errorf("aggregates lost: orders_count %d", after.Customer.OrdersCount)
	}
	if len(after.Consents)+len(after.ConsentHistory) != 0 {
		t.Errorf("consent records (with IP) kept: %+v %+v", after.Consents, after.ConsentHistory)
	}
	if len(after.Events) != 1 || len(after.Events[0].Properties) != 0 || after.Events[0].RoutedAt == nil {
		t.Errorf("events not scrubbed or still in the outbox: %+v", after.Events)
	}
	if len(after.SurveyResponses) != 1 || after.SurveyResponses[0].Comment != "" || after.SurveyResponses[0].Score != 2 {
		t.Errorf("survey answers not anonymised: %+v", after.SurveyResponses)
	}
	rec, err := s.MessageRecordByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rec.Attempts {
		if strings.Contains(a.Reply, "c-1@") {
			t.Errorf("attempt keeps the relay's reply naming the address: %+v", a)
		}
	}
	for _, b := range rec.Reports {
		if strings.Contains(b.Address+b.Detail, "c-1@") {
			t.Errorf("bounce report keeps the address: %+v", b)
		}
	}
	if len(rec.Attempts) != 1 || len(rec.Reports) != 1 {
		t.Errorf("erasure dropped the attempt or the bounce (counts stay): %+v %+v", rec.Attempts, rec.Reports)
	}
	msg, err := s.MessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Recipient != "" || msg.CustomerID != "" || msg.Status != store.StatusQueued {
		t.Errorf("ledger row = %+v; want kept, without recipient or customer", msg)
	}
	if err := s.EraseCustomer(ctx, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erase unknown = %v, want ErrNotFound", err)
	}
}

// history gives a customer one row in every table that holds rows about
// customers, through the store's own functions, and returns the ID of their
// journey run that is still open.
func history(t *testing.T, s *store.Store, externalID string) (customerID, openRun string) {
	t.Helper()
	ctx := t.Context()
	c := addCustomer(t, s, externalID)
	now := time.Now().UTC().Truncate(time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.SetConsent(ctx, store.ConsentChange{CustomerID: c, Channel: "email", Topic: "marketing", Status: store.Granted, Source: "signup_form"})
	must(err)
	_, err = s.RecordEvent(ctx, store.EventInput{EventID: "order-" + externalID, CustomerID: c, Type: "purchase",
		Properties: map[string]any{"amount": 12.5}, OccurredAt: now})
	must(err)
	m, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "survey/" + externalID, CustomerID: c, Journey: "survey",
		Step: "survey", Channel: "email", Template: "survey_request", Topic: "surveys", Recipient: strings.ToLower(externalID) + "@example.com"})
	must(err)
	_, _, err = s.RecordSurveyAnswer(ctx, store.SurveyResponse{CustomerID: c, Survey: store.NPS, Score: 9, MessageID: m.ID})
	must(err)
	must(s.IssueCoupons(ctx, []store.Coupon{{Code: "THANKS-" + externalID, CustomerID: c, MessageID: m.ID, Journey: "survey", Step: "survey", IssuedAt: &now}}))
	must(s.NoteAttemptError(ctx, m.ID, "451 4.7.1 greylisted"))
	for _, run := range []string{"done", "open"} {
		ok, err := s.ClaimJourneyRun(ctx, store.JourneyRun{Journey: "winback-" + run, RunID: run + "-" + c, CustomerID: c, StartedAt: now}, 0)
		must(err)
		if !ok {
			t.Fatalf("%s run not claimed", run)
		}
	}
	must(s.FinishJourneyRun(ctx, "winback-done", "done-"+c, "converted", now))
	must(s.RecordConversion(ctx, store.Conversion{Journey: "winback-done", RunID: "done-" + c, CustomerID: c, Step: "offer", Revenue: 12.5, Currency: "USD", ConvertedAt: now}))
	_, _, err = s.ApplyCampaign(ctx, "", "event", store.CampaignVersion{Campaign: "thanks", Source: "name: thanks", Spec: []byte("{}")})
	must(err)
	_, ok, err := s.EnterCampaign(ctx, store.CampaignEntry{Campaign: "thanks", CustomerID: c, Version: 1, RunID: "thanks-" + c, EnteredAt: now}, 0)
	must(err)
	if !ok {
		t.Fatal("campaign entry refused")
	}
	must(s.RecordCampaignSkip(ctx, "thanks", c, 1, "tips", "", "late"))
	if _, err := s.Pool().Exec(ctx, `INSERT INTO customer_stages (month, customer_id, stage) VALUES ('2026-01-01', $1, 'active')`, c); err != nil {
		t.Fatal(err)
	}
	_, err = s.Pool().Exec(ctx, `INSERT INTO journey_starts (journey, customer_id, event_id, event_type, occurred_at, due_at)
		VALUES ('cross_sell', $1, $2, 'purchase', $3, $3)`, c, "order-"+externalID, now)
	must(err)
	_, err = s.Pool().Exec(ctx, `INSERT INTO customer_scores (customer_id, recency, frequency, monetary, value_tier)
		VALUES ($1, 5, 1, 2, 'low')`, c)
	must(err)
	must(s.Suppress(ctx, store.Suppression{Channel: "email", Address: strings.ToLower(externalID) + "@example.com", Reason: store.Complaint}))
	must(s.StoreMessageContents(ctx, []store.MessageContent{{MessageID: m.ID, Headers: map[string]string{"From": "shop@example.com"},
		Subject: "How did we do?", HTML: `<a href="https://example.com/survey">Answer</a>`, Links: []string{"https://example.com/survey"}, Tracked: true}}))
	_, err = s.RecordClick(ctx, store.MessageClick{MessageID: m.ID, Link: 0, URL: "https://example.com/survey", UserAgent: "Mozilla/5.0", FirstAt: now})
	must(err)
	_, err = s.RecordOpen(ctx, store.MessageOpen{MessageID: m.ID, UserAgent: "Mozilla/5.0", FirstAt: now})
	must(err)
	_, err = s.RecordFeedback(ctx, []store.Feedback{{MessageID: m.ID, Kind: store.FeedbackSoft, Provider: "generic",
		ReceiptID: "mailbox-full-" + externalID, Detail: "mailbox full", OccurredAt: now}}, store.SoftBouncePolicy{})
	must(err)
	return c, "open-" + c
}

// customerTables walks the schema for every column that holds a customer's
// ID: one named customer_id, or one with a foreign key to customers.
func customerTables(t *testing.T, s *store.Store) map[string]string {
	return referringTables(t, s, "customers", "customer_id")
}

// messageTables walks the schema for every column that holds a message's
// ID (named message_id, or with a foreign key to messages) in tables that
// do not name the customer themselves: their rows are about the customer
// the message went to.
func messageTables(t *testing.T, s *store.Store, customerTables map[string]string) map[string]string {
	out := referringTables(t, s, "messages", "message_id")
	for table := range customerTables {
		delete(out, table)
	}
	return out
}

// referringTables maps each table with a column named column, or with a
// foreign key to table target, to that column.
func referringTables(t *testing.T, s *store.Store, target, column string) map[string]string {
	t.Helper()
	rows, err := s.Pool().Query(t.Context(), `
		SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = $2
		UNION
		SELECT kcu.table_name::text, kcu.column_name::text
		FROM information_schema.referential_constraints rc
		JOIN information_schema.key_column_usage kcu
		  ON kcu.constraint_schema = rc.constraint_schema AND kcu.constraint_name = rc.constraint_name
		JOIN information_schema.constraint_column_usage ccu
		  ON ccu.constraint_schema = rc.unique_constraint_schema AND ccu.constraint_name = rc.unique_constraint_name
		WHERE kcu.table_schema = current_schema() AND ccu.table_name = $1`, target, column)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = col
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportHoldsEveryTableAboutTheCustomer plants a row in every table
// that refers to customers, for two customers, and checks that the export of
// one lists exactly that customer's rows of each table. A table added to the
// schema without its place in the export fails here.
func TestExportHoldsEveryTableAboutTheCustomer(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c, _ := history(t, s, "C-1")
	history(t, s, "C-2")

	out, err := s.ExportCustomer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		t.Fatal(err)
	}
	// The export names each list after its table, but for these.
	key := map[string]string{"consent_changes": "consent_history"}
	tables := customerTables(t, s)
	if len(tables) < 10 {
		t.Fatalf("schema walk found only %v", tables)
	}
	byMessage := messageTables(t, s, tables)
	if len(byMessage) < 4 {
		t.Fatalf("schema walk found only %v keyed by message", byMessage)
	}
	count := map[string]string{}
	for table, column := range tables {
		count[table] = fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s = $1`, pgx.Identifier{table}.Sanitize(), pgx.Identifier{column}.Sanitize())
	}
	for table, column := range byMessage {
		count[table] = fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s IN (SELECT id FROM messages WHERE customer_id = $1)`,
			pgx.Identifier{table}.Sanitize(), pgx.Identifier{column}.Sanitize())
	}
	for table, q := range count {
		var stored int
		if err := s.Pool().QueryRow(ctx, q, c).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == 0 {
			t.Errorf("table %s refers to customers or messages but this test planted no row in it: add one to history()", table)
			continue
		}
		k := table
		if key[table] != "" {
			k = key[table]
		}
		var listed []json.RawMessage
		if err := json.Unmarshal(parts[k], &listed); err != nil || parts[k] == nil {
			t.Errorf("export has no list %q for table %s (%s)", k, table, parts[k])
			continue
		}
		if len(listed) != stored {
			t.Errorf("export lists %d rows of %s, the table holds %d for the customer", len(listed), table, stored)
		}
	}
	if len(out.Suppressions) != 1 || out.Suppressions[0].Address != "c-1@example.com" || out.Suppressions[0].Reason != store.Complaint {
		t.Errorf("export suppressions = %+v, want the complaint on c-1@example.com", out.Suppressions)
	}
	// The suppression list and its history are kept by address.
	if h := out.SuppressionHistory; len(h) != 1 || h[0].Address != "c-1@example.com" || h[0].Action != "added" {
		t.Errorf("export suppression history = %+v, want the addition of c-1@example.com", h)
	}
	if len(out.MessageClicks) != 1 || out.MessageClicks[0].MessageID != out.Messages[0].ID || out.MessageClicks[0].UserAgent != "Mozilla/5.0" {
		t.Errorf("export clicks = %+v, want the click on message %s", out.MessageClicks, out.Messages[0].ID)
	}
	if len(out.MessageBounces) != 1 || out.MessageBounces[0].Detail != "mailbox full" || out.MessageBounces[0].MessageID != out.Messages[0].ID {
		t.Errorf("export bounces = %+v, want the soft bounce of message %s", out.MessageBounces, out.Messages[0].ID)
	}
	if len(out.MessageContents) != 1 || out.MessageContents[0].Subject != "How did we do?" {
		t.Errorf("export contents = %+v, want the survey request as sent", out.MessageContents)
	}
}

// TestErasureClosesOpenRuns: runs and campaign entries still open when the
// customer is erased end as erased; a finished run keeps its outcome, and a
// journey finishing afterwards does not overwrite the erasure.
func TestErasureClosesOpenRuns(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c, open := history(t, s, "C-1")
	other, otherOpen := history(t, s, "C-2")
	before := time.Now()

	if err := s.EraseCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishJourneyRun(ctx, "winback-open", open, "cancelled", time.Now()); err != nil {
		t.Fatal(err)
	}
	out, err := s.ExportCustomer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.JourneyRuns) != 2 {
		t.Fatalf("journey runs after erasure: %+v", out.JourneyRuns)
	}
	for _, r := range out.JourneyRuns {
		want := "converted"
		if r.RunID == open {
			want = store.OutcomeErased
			if r.EndedAt == nil || r.EndedAt.Before(before.Add(-time.Second)) {
				t.Errorf("open run ended at %v, want the time of erasure", r.EndedAt)
			}
		}
		if r.Outcome != want || r.EndedAt == nil {
			t.Errorf("run %s after erasure: outcome %q, ended %v; want %q", r.RunID, r.Outcome, r.EndedAt, want)
		}
	}
	if len(out.CampaignEntries) != 1 || out.CampaignEntries[0].Outcome != store.OutcomeErased || out.CampaignEntries[0].FinishedAt == nil {
		t.Errorf("campaign entries after erasure: %+v, want the one entry finished as erased", out.CampaignEntries)
	}
	if open, err := s.OpenJourneys(ctx, c, []string{"winback-open"}); err != nil || len(open) != 0 {
		t.Errorf("erased customer still in journeys %v (%v)", open, err)
	}
	if open, err := s.OpenJourneys(ctx, other, []string{"winback-open"}); err != nil || len(open) != 1 {
		t.Errorf("erasing C-1 closed C-2's run %s: open %v (%v)", otherOpen, open, err)
	}
}
