package main

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
)

func TestSuppressionsCommands(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	env["USER"] = "ops-lee"
	r := tidings(t, env, "suppressions", "add", "Old-Mailbox@Example.com", "--detail", "mailbox closed")
	if r.code != 0 || !strings.Contains(r.stdout, "email old-mailbox@example.com suppressed (manual)") {
		t.Errorf("add:\n%s", r)
	}
	if r = tidings(t, env, "suppressions", "add", "old-mailbox@example.com", "--reason", "complaint"); r.code != 0 || !strings.Contains(r.stdout, "already suppressed (manual") {
		t.Errorf("add again:\n%s", r)
	}
	if r = tidings(t, env, "suppressions", "add", "not-an-address"); r.code != 2 || !strings.Contains(r.stderr, "address") {
		t.Errorf("add a non-address: want exit 2 naming the address\n%s", r)
	}
	if r = tidings(t, env, "suppressions", "add", "+1 415 555 0123", "--channel", "sms", "--reason", "hardly"); r.code != 2 || !strings.Contains(r.stderr, "reason") {
		t.Errorf("add with an unknown reason: want exit 2 naming the reason\n%s", r)
	}

	file := writeFile(t, "suppress.csv", "address,channel,reason,detail\nann@example.com,email,hard_bounce,from the old ESP\n+14155550123,sms,unsubscribe,\nbroken,email,manual,\nbob@example.com,,,\n")
	r = tidings(t, env, "suppressions", "import", file)
	if r.code != 3 || !strings.Contains(r.stdout, "4 rows read: 3 suppressed now, 0 already on the list, 1 rejected") || !strings.Contains(r.stderr, "suppress.csv:4:") {
		t.Errorf("import: want exit 3, 3 imported and line 4 reported\n%s", r)
	}
	r = tidings(t, env, "suppressions", "list")
	for _, want := range []string{"ann@example.com", "hard_bounce", "import", "+14155550123", "bob@example.com", "old-mailbox@example.com", "cli"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r)
		}
	}
	if r = tidings(t, env, "suppressions", "remove", "ann@example.com", "--note", "mailbox works again"); r.code != 0 || !strings.Contains(r.stdout, "removed") {
		t.Errorf("remove:\n%s", r)
	}
	if r = tidings(t, env, "suppressions", "remove", "ann@example.com"); r.code != 2 {
		t.Errorf("remove what is not there: want exit 2\n%s", r)
	}
	hist, err := s.SuppressionHistory(t.Context(), "email", "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Action != "removed" || hist[1].Actor != "cli:ops-lee" || hist[1].Detail != "mailbox works again" || hist[0].Source != "import" {
		t.Errorf("history = %+v, want the import and the recorded removal", hist)
	}
	audit, err := s.AuditEntries(t.Context(), store.AuditQuery{Action: "suppression.remove"})
	if err != nil || len(audit) != 1 || audit[0].ActorName != "ops-lee" || audit[0].Target != "email:ann@example.com" {
		t.Errorf("audit of the removal = %+v, %v", audit, err)
	}
	if r = tidings(t, env, "suppressions", "list", "--channel", "sms", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"address": "+14155550123"`) || strings.Contains(r.stdout, "bob@") {
		t.Errorf("list --channel sms --json:\n%s", r)
	}
}

func TestMessagesCommands(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	if r := tidings(t, env, "customers", "import", writeFile(t, "c.csv", "external_id,email\nC-1,ann@example.com\n")); r.code != 0 {
		t.Fatalf("import:\n%s", r)
	}
	c, err := s.CustomerByExternalID(t.Context(), "C-1")
	if err != nil {
		t.Fatal(err)
	}
	rows := []store.Message{
		{ID: "11111111-1111-4111-8111-111111111111", IdempotencyKey: "k1", CustomerID: c.ID, Journey: "campaign/spring", Step: "offer",
			Channel: "email", Template: "winback_offer", Topic: "marketing", Recipient: "ann@example.com", Status: store.StatusSkipped, Reason: "suppressed:hard_bounce"},
		{ID: "22222222-2222-4222-8222-222222222222", IdempotencyKey: "k2", CustomerID: c.ID, Journey: "onboarding", Step: "welcome",
			Channel: "email", Template: "welcome", Topic: "marketing", Recipient: "ann@example.com"},
	}
	if _, _, err := s.ReserveMessages(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreMessageContents(t.Context(), []store.MessageContent{{MessageID: rows[1].ID, Subject: "Welcome to Tidings",
		Text: "Hi Ann,\nwelcome.", HTML: "<p>Hi Ann</p>", Headers: map[string]string{"To": "ann@example.com"}, Links: []string{"https://shop.example/"}}}); err != nil {
		t.Fatal(err)
	}
	r := tidings(t, env, "messages", "list", "--customer", "C-1")
	if r.code != 0 || !strings.Contains(r.stdout, rows[0].ID) || !strings.Contains(r.stdout, rows[1].ID) {
		t.Errorf("list --customer:\n%s", r)
	}
	r = tidings(t, env, "messages", "list", "--campaign", "spring", "--reason", "suppressed")
	if r.code != 0 || !strings.Contains(r.stdout, rows[0].ID) || strings.Contains(r.stdout, rows[1].ID) {
		t.Errorf("list --campaign spring --reason suppressed:\n%s", r)
	}
	r = tidings(t, env, "messages", "list", "--limit", "1")
	if r.code != 0 || !strings.Contains(r.stderr, "more: --after ") {
		t.Fatalf("list --limit 1: want a cursor for the next page\n%s", r)
	}
	cursor := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.stderr), "more: --after"))
	r2 := tidings(t, env, "messages", "list", "--limit", "1", "--after", cursor)
	if r2.code != 0 || strings.Count(r.stdout+r2.stdout, "-4") < 2 || r.stdout == r2.stdout {
		t.Errorf("the second page repeats the first:\n%s\n%s", r, r2)
	}
	if r = tidings(t, env, "messages", "list", "--after", "forged"); r.code != 2 || !strings.Contains(r.stderr, "--after") {
		t.Errorf("list --after forged: want exit 2 naming --after\n%s", r)
	}
	if r = tidings(t, env, "messages", "list", "--since", "yesterday"); r.code != 2 || !strings.Contains(r.stderr, "--since") {
		t.Errorf("list --since yesterday: want exit 2\n%s", r)
	}
	if err := s.NoteAttemptError(t.Context(), rows[1].ID, "451 4.7.1 greylisted"); err != nil {
		t.Fatal(err)
	}
	r = tidings(t, env, "messages", "show", rows[1].ID)
	for _, want := range []string{"onboarding", "Subject: Welcome to Tidings", "To: ann@example.com", "Hi Ann,", "tracked links", "https://shop.example/", "clicks\n  none",
		"attempts\n  1  ", "temporary failure, retried: 451 4.7.1 greylisted"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r)
		}
	}
	if r = tidings(t, env, "messages", "show", "33333333-3333-4333-8333-333333333333"); r.code != 2 {
		t.Errorf("show an unknown ID: want exit 2\n%s", r)
	}
}
