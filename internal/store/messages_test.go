package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func customerID(t *testing.T, s *store.Store, ext, email string) string {
	t.Helper()
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: ext, Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestLedgerReservesOncePerKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	c := customerID(t, s, "L-1", "ann@example.com")
	const id = "0b7e3f4e-1d5a-5c6b-9a8f-2e1d3c4b5a69"
	msg := func(key string) store.Message {
		return store.Message{IdempotencyKey: key, CustomerID: c, Journey: "j", Step: "s", Channel: "email",
			Template: "welcome", Topic: "marketing", Recipient: "ann@example.com"}
	}
	first := msg("k1")
	first.ID = id
	got, created, err := s.ReserveMessages(ctx, []store.Message{first, msg("k2")})
	if err != nil {
		t.Fatal(err)
	}
	if !created[0] || !created[1] || got[0].ID != id || got[0].Status != store.StatusQueued || got[0].Attempts != 1 {
		t.Fatalf("first reservation %+v %v", got, created)
	}

	// A crashed attempt left k1 queued: the retry counts a second attempt.
	// k2 is sent; reserving it again returns the outcome.
	if err := s.CompleteMessages(ctx, []store.Completion{{ID: got[1].ID, Outcome: store.Outcome{Status: store.StatusSent, ProviderMessageID: "p-2"}}}); err != nil {
		t.Fatal(err)
	}
	again, created, err := s.ReserveMessages(ctx, []store.Message{msg("k1"), msg("k2"), msg("k3")})
	if err != nil {
		t.Fatal(err)
	}
	if created[0] || again[0].ID != id || again[0].Attempts != 2 || again[0].Status != store.StatusQueued {
		t.Errorf("queued retry %+v created=%v", again[0], created[0])
	}
	if created[1] || again[1].Status != store.StatusSent || again[1].ProviderMessageID != "p-2" {
		t.Errorf("sent key %+v created=%v", again[1], created[1])
	}
	if !created[2] {
		t.Errorf("new key k3 not created")
	}

	// A final status is never overwritten by a late outcome.
	if err := s.CompleteMessage(ctx, got[1].ID, store.Outcome{Status: store.StatusFailed, Reason: "late"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.MessageByID(ctx, got[1].ID); m.Status != store.StatusSent || m.SentAt == nil {
		t.Errorf("sent row became %+v", m)
	}

	// A skip recorded for a key stays the key's outcome.
	skip := msg("k4")
	skip.Status, skip.Reason = store.StatusSkipped, "opted_out"
	if m, created, err := s.ReserveMessage(ctx, skip); err != nil || !created || m.Attempts != 0 || m.Status != store.StatusSkipped {
		t.Errorf("skip %+v %v %v", m, created, err)
	}
	if m, created, err := s.ReserveMessage(ctx, msg("k4")); err != nil || created || m.Status != store.StatusSkipped || m.Reason != "opted_out" {
		t.Errorf("send after skip %+v %v %v", m, created, err)
	}

	if _, _, err := s.ReserveMessages(ctx, []store.Message{msg("k5"), msg("k5")}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a key twice in one batch: %v", err)
	}
	if err := s.NoteAttemptError(ctx, id, "451 greylisted"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.MessageByID(ctx, id); m.Reason != "451 greylisted" {
		t.Errorf("noted reason %q", m.Reason)
	}
}

func TestSendFacts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	ann := customerID(t, s, "F-1", "Ann@Example.com")
	bob := customerID(t, s, "F-2", "bob@example.com")
	if _, err := s.SetConsent(ctx, store.ConsentChange{CustomerID: ann, Channel: "email", Topic: "marketing", Status: store.Denied}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetConsent(ctx, store.ConsentChange{CustomerID: ann, Channel: "sms", Topic: "marketing", Status: store.Granted}); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, store.Suppression{Channel: "email", Address: "ann@example.com", Reason: store.HardBounce}); err != nil {
		t.Fatal(err)
	}
	for i, topic := range []string{"marketing", "marketing", "care"} {
		m := store.Message{IdempotencyKey: "b" + string(rune('0'+i)), CustomerID: bob, Channel: "email", Topic: topic}
		if _, _, err := s.ReserveMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	facts, err := s.SendFacts(ctx, []store.SendFactsQuery{
		{CustomerID: ann, Channel: "email"},
		{CustomerID: bob, Channel: "email", Since: []time.Time{hourAgo, future}},
		{CustomerID: "6f1f4a52-8d0e-4c43-9f7e-3b1d2c9a7e10", Channel: "email"},
		{CustomerID: bob, Channel: "email", Address: "ANN@example.com"},
	}, []string{"care"})
	if err != nil {
		t.Fatal(err)
	}
	if f := facts[0]; f.ID != ann || f.Email != "Ann@Example.com" || f.Suppressed != store.HardBounce ||
		len(f.Consents) != 1 || f.Consents["marketing"] != store.Denied {
		t.Errorf("ann: %+v", f)
	}
	if f := facts[1]; f.ID != bob || f.Suppressed != "" || len(f.Consents) != 0 || len(f.Recent) != 2 || f.Recent[0] != 2 || f.Recent[1] != 0 {
		t.Errorf("bob: consents %v suppressed %q recent %v (care is exempt from counts)", f.Consents, f.Suppressed, f.Recent)
	}
	if facts[2].ID != "" {
		t.Errorf("unknown customer has facts %+v", facts[2])
	}
	if facts[3].Suppressed != store.HardBounce {
		t.Errorf("an explicit address is checked against the list: %+v", facts[3])
	}
}
