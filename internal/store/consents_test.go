package store_test

import (
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestConsentCurrentStateAndHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "K-1")

	if st, err := s.ConsentStatus(ctx, id, "email", "marketing"); err != nil || st != "" {
		t.Fatalf("consent never given: status %q, %v; want empty", st, err)
	}

	changes := []store.ConsentChange{
		{CustomerID: id, Channel: "email", Topic: "marketing", Status: store.Granted, Source: "signup_form", Actor: "customer", IP: "203.0.113.7"},
		{CustomerID: id, Channel: "sms", Topic: "care", Status: store.Granted, Source: "import", Actor: "operator:mei"},
		{CustomerID: id, Channel: "email", Topic: "marketing", Status: store.Denied, Source: "unsubscribe_link", Actor: "customer"},
	}
	for _, ch := range changes {
		got, err := s.SetConsent(ctx, ch)
		if err != nil {
			t.Fatalf("set %+v: %v", ch, err)
		}
		if got.Status != ch.Status || got.Source != ch.Source || got.CustomerID != id {
			t.Errorf("SetConsent returned %+v, want status %s source %s", got, ch.Status, ch.Source)
		}
	}

	if st, _ := s.ConsentStatus(ctx, id, "email", "marketing"); st != store.Denied {
		t.Errorf("email/marketing = %q after unsubscribing, want denied", st)
	}
	if st, _ := s.ConsentStatus(ctx, id, "sms", "care"); st != store.Granted {
		t.Errorf("sms/care = %q, want granted", st)
	}
	if st, _ := s.ConsentStatus(ctx, id, "sms", "marketing"); st != "" {
		t.Errorf("sms/marketing = %q, never set, want empty", st)
	}

	current, err := s.Consents(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(current) != 2 || current[0].Channel != "email" || current[0].Status != store.Denied || current[1].Channel != "sms" {
		t.Errorf("current consents = %+v, want email/marketing denied and sms/care granted", current)
	}

	history, err := s.ConsentHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != len(changes) {
		t.Fatalf("history has %d entries, want %d", len(history), len(changes))
	}
	for i, h := range history {
		w := changes[i]
		if h.Channel != w.Channel || h.Topic != w.Topic || h.Status != w.Status || h.Source != w.Source || h.Actor != w.Actor || h.IP != w.IP {
			t.Errorf("history[%d] = %+v, want %+v", i, h, w)
		}
		if i > 0 && h.ChangedAt.Before(history[i-1].ChangedAt) {
			t.Errorf("history[%d] at %s is before history[%d] at %s", i, h.ChangedAt, i-1, history[i-1].ChangedAt)
		}
	}
	if !current[0].ChangedAt.Equal(history[2].ChangedAt) {
		t.Errorf("current email consent changed at %s, the last history entry at %s", current[0].ChangedAt, history[2].ChangedAt)
	}
}

func TestSetConsentRefusesBadInputWithoutHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "K-2")
	bad := map[string]store.ConsentChange{
		"unknown status":  {CustomerID: id, Channel: "email", Topic: "marketing", Status: "maybe"},
		"unknown channel": {CustomerID: id, Channel: "fax", Topic: "marketing", Status: store.Granted},
		"empty topic":     {CustomerID: id, Channel: "email", Topic: "", Status: store.Granted},
	}
	for name, ch := range bad {
		if _, err := s.SetConsent(ctx, ch); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	history, err := s.ConsentHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 0 {
		t.Errorf("refused changes left %d history entries: %+v", len(history), history)
	}
}
