package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// warnings keeps the log records at Warn and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// TestRelayDroppingConnectionsLosesNothing: through the whole send path, a
// relay that closes a pooled connection with 421 and drops 2% of
// connections after 400 bytes of DATA. Every one of 300 emails is sent on
// its first attempt, arrives once (counted by Message-ID), and nothing is
// logged as trouble.
func TestRelayDroppingConnectionsLosesNothing(t *testing.T) {
	logs := &warnings{}
	h := newHarness(t, func(o *delivery.Options) { o.Logger = slog.New(logs) })
	ctx := context.Background()
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Shanghai")))
	const n = 300
	var reqs []delivery.Request
	for i := range n {
		id := h.customer(t, fmt.Sprint("drop-", i), "zh-CN", "Asia/Shanghai", fmt.Sprintf("d%d@example.com", i), "")
		reqs = append(reqs, welcome(id, "drop/"+id))
	}
	// Warm the pool, then have the relay close a pooled connection at
	// MAIL FROM and drop some in the middle of DATA.
	if _, errs := h.svc.SendBatch(ctx, reqs[:2]); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Mail, Code: 421, Enhanced: "4.4.2", Message: "Idle timeout", Drop: true, Times: 1})
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Data, Drop: true, DropAfter: 400, Rate: 0.02})
	before := h.sink.Connections()

	results, errs := h.svc.SendBatch(ctx, reqs[2:])
	for i := range results {
		if errs[i] != nil || results[i].Status != delivery.Sent {
			t.Errorf("email %d: %+v, %v", i+2, results[i], errs[i])
		}
	}
	ids := map[string]int{} // Message-ID → copies at the sink
	for _, m := range h.sink.Messages() {
		hdr, err := m.Header()
		if err != nil {
			t.Fatal(err)
		}
		ids[hdr.Get("Message-Id")]++
	}
	for _, r := range reqs {
		row, err := testdb.MessageByKey(ctx, h.store, r.IdempotencyKey)
		if err != nil || row.Status != store.StatusSent || row.Attempts != 1 {
			t.Errorf("ledger row %+v (%v), want sent on attempt 1", row, err)
		}
		if got := ids["<"+row.ProviderMessageID+">"]; got != 1 {
			t.Errorf("message <%s> arrived %d times", row.ProviderMessageID, got)
		}
	}
	if h.sink.Connections() < before+3 {
		t.Errorf("the relay closed only %d connections: the test proves nothing", h.sink.Connections()-before)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.msgs) > 0 {
		t.Errorf("dropped connections were logged as trouble: %q", logs.msgs)
	}
}
