package delivery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestSMSBatchGoesOnPastOneFailure: a batch of SMS meets a provider that
// first throttles (429, Retry-After: 1) and then fails for one number (503).
// The throttle is waited out, every other text goes out once, the failed one
// comes back as temporary with its ledger row kept queued, and its retry
// sends it once.
func TestSMSBatchGoesOnPastOneFailure(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Taipei")))
	const n, broken = 12, 3
	var reqs []delivery.Request
	for i := range n {
		id := h.customer(t, fmt.Sprint("sms-batch-", i), "zh-TW", "Asia/Taipei", "", fmt.Sprintf("+8869123456%02d", i))
		h.consent(t, id, delivery.SMS, delivery.TopicMarketing, store.Granted)
		reqs = append(reqs, delivery.Request{
			CustomerID: id, Journey: "birthday", Step: "greet", Channel: delivery.SMS, Template: "birthday",
			Topic: delivery.TopicMarketing, IdempotencyKey: "sms-batch/" + id,
			Data: map[string]any{"coupon": "BDAY-7K2Q", "discount_percent": 20},
		})
	}
	h.texts.mu.Lock()
	h.texts.throttle = 1
	h.texts.down = map[string]bool{fmt.Sprintf("+8869123456%02d", broken): true}
	h.texts.mu.Unlock()

	results, errs := h.svc.SendBatch(ctx, reqs)
	for i := range n {
		switch {
		case i == broken:
			if _, permanent := delivery.IsPermanent(errs[i]); errs[i] == nil || permanent {
				t.Errorf("the failing number: %+v, %v; want a temporary error", results[i], errs[i])
			}
			row, err := testdb.MessageByKey(ctx, h.store, reqs[i].IdempotencyKey)
			if err != nil || row.Status != store.StatusQueued {
				t.Errorf("the failing number's ledger row %+v (%v), want queued for the retry", row, err)
			}
		case errs[i] != nil || results[i].Status != delivery.Sent:
			t.Errorf("text %d: %+v, %v", i, results[i], errs[i])
		}
	}
	if got := len(h.texts.Sent()); got != n-1 {
		t.Errorf("provider accepted %d texts, want %d", got, n-1)
	}

	h.texts.mu.Lock()
	h.texts.down = nil
	h.texts.mu.Unlock()
	_, errs = h.svc.SendBatch(ctx, reqs) // the activity's retry
	for i, err := range errs {
		if err != nil {
			t.Errorf("retry, text %d: %v", i, err)
		}
	}
	seen := map[string]int{}
	for _, m := range h.texts.Sent() {
		seen[m.To]++
	}
	for i := range n {
		if to := fmt.Sprintf("+8869123456%02d", i); seen[to] != 1 {
			t.Errorf("%s received %d texts, want 1", to, seen[to])
		}
	}
}
