// Package activitiestest has a stand-in for the send path for tests of the
// journeys' activities and worker: it keeps the ledger the way the real send
// path does, without templates or providers.
package activitiestest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// LedgerSender writes each message's ledger row like delivery.Service (so
// sweeps' "already sent" checks and the one-message-per-key rule behave as
// in production) and records what it sent.
type LedgerSender struct {
	Store *store.Store
	// Refuse makes messages to this customer fail permanently.
	Refuse string
	// Broken makes every send fail temporarily.
	Broken bool
	// Throttle, when set, makes every send answer like an SMS provider's
	// 429 asking to come back after Throttle.
	Throttle time.Duration

	mu   sync.Mutex
	sent []delivery.Request
}

// Send implements activities.Sender.
func (f *LedgerSender) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	if f.Broken {
		return delivery.Result{}, errors.New("smtp: 451 try again later")
	}
	if f.Throttle > 0 {
		return delivery.Result{}, &sms.Error{HTTPStatus: 429, Code: 20429, Message: "Too Many Requests", Wait: f.Throttle}
	}
	if r.CustomerID == f.Refuse {
		return delivery.Result{Status: delivery.Failed}, &delivery.PermanentError{Type: delivery.TypeRejected, Err: errors.New("550 no such user")}
	}
	m, created, err := f.Store.ReserveMessage(ctx, store.Message{
		ID: delivery.MessageID(r.IdempotencyKey), IdempotencyKey: r.IdempotencyKey, CustomerID: r.CustomerID,
		Journey: r.Journey, Step: r.Step, Channel: r.Channel, Template: r.Template, Topic: r.Topic,
	})
	if err != nil {
		return delivery.Result{}, err
	}
	if !created {
		return delivery.Result{Status: delivery.Sent, MessageID: m.ID, Duplicate: true}, nil
	}
	if err := f.Store.CompleteMessage(ctx, m.ID, store.Outcome{Status: store.StatusSent}); err != nil {
		return delivery.Result{}, err
	}
	f.mu.Lock()
	f.sent = append(f.sent, r)
	f.mu.Unlock()
	return delivery.Result{Status: delivery.Sent, MessageID: m.ID}, nil
}

// Sent returns the messages sent so far, in order.
func (f *LedgerSender) Sent() []delivery.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]delivery.Request(nil), f.sent...)
}

// WaitSent waits up to a minute until a message for customer and step went
// out, failing the test otherwise.
func (f *LedgerSender) WaitSent(t testing.TB, customer, step string) delivery.Request {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, r := range f.Sent() {
			if r.CustomerID == customer && r.Step == step {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s was never sent to %s; sent %+v", step, customer, f.Sent())
	return delivery.Request{}
}
