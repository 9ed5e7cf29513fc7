package delivery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
)

// TestEveryAttemptIsKeptWithTheRelaysReply: a message greylisted twice and
// then accepted shows three attempts in its record, the two temporary
// failures with the relay's reply; a message refused for good shows one
// permanent failure.
func TestEveryAttemptIsKeptWithTheRelaysReply(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	ann := h.customer(t, "ny-1", "en", "America/New_York", "ann@example.com", "")
	gone := h.customer(t, "ny-2", "en", "America/New_York", "gone@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "America/New_York")))
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Recipient: "ann@example.com", Code: 451, Enhanced: "4.7.1", Message: "greylisted, try later", Times: 2})
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Recipient: "gone@example.com", Code: 550, Enhanced: "5.1.1", Message: "no such mailbox"})

	req := welcome(ann, "welcome/"+ann+"/1")
	for range 2 {
		if _, err := h.svc.Send(ctx, req); err == nil {
			t.Fatal("a 451 reported success")
		}
	}
	res, err := h.svc.Send(ctx, req)
	if err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	rec, err := h.store.MessageRecordByID(ctx, res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempts) != 3 {
		t.Fatalf("attempts = %+v, want 3", rec.Attempts)
	}
	for i, a := range rec.Attempts[:2] {
		if a.Attempt != i+1 || a.Outcome != "retry" || !a.Temporary || !strings.Contains(a.Reply, "451") || !strings.Contains(a.Reply, "greylisted") {
			t.Errorf("attempt %d = %+v, want a temporary failure with the relay's 451 reply", i+1, a)
		}
	}
	last := rec.Attempts[2]
	if last.Attempt != 3 || last.Outcome != store.StatusSent || last.Temporary || last.ProviderMessageID != rec.Message.ProviderMessageID || last.ProviderMessageID == "" {
		t.Errorf("last attempt = %+v, want sent with the Message-ID %q", last, rec.Message.ProviderMessageID)
	}
	if last.At.Before(rec.Attempts[0].At) {
		t.Errorf("attempts out of order: %+v", rec.Attempts)
	}

	refused, _ := h.svc.Send(ctx, welcome(gone, "welcome/"+gone+"/1"))
	rec, err = h.store.MessageRecordByID(ctx, refused.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempts) != 1 || rec.Attempts[0].Outcome != store.StatusFailed || rec.Attempts[0].Temporary || !strings.Contains(rec.Attempts[0].Reply, "5.1.1") {
		t.Errorf("refused message's attempts = %+v, want one permanent failure with the 550 reply", rec.Attempts)
	}
}
