package store_test

import (
	"errors"
	"testing"
	"time"

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
