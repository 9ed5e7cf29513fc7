package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func recordEvents(t *testing.T, s *store.Store, customerID string, ids ...string) []store.RecordedEvent {
	t.Helper()
	var in []store.EventInput
	for _, id := range ids {
		in = append(in, store.EventInput{EventID: id, CustomerID: customerID, Type: "signup", OccurredAt: time.Now()})
	}
	out, err := s.RecordEvents(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOutboxDeliversInOrderAndStopsAtFirstFailure(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addCustomer(t, s, "C-1")
	recordEvents(t, s, c, "e1", "e2", "e3")

	var seen []string
	down := errors.New("temporal unreachable")
	routed, err := s.DeliverOutbox(ctx, nil, 10, noStarts(func(_ context.Context, e store.Event) error {
		if e.EventID == "e2" {
			return down
		}
		seen = append(seen, e.EventID)
		return nil
	}))
	if !errors.Is(err, down) || len(routed) != 1 || len(seen) != 1 || seen[0] != "e1" {
		t.Fatalf("first drain: routed %v %v, err %v; want e1 routed then the failure", routed, seen, err)
	}
	var attempts int
	var reason string
	if err := s.Pool().QueryRow(ctx, `SELECT route_attempts, route_error FROM events WHERE event_id = 'e2'`).Scan(&attempts, &reason); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 || reason != down.Error() {
		t.Errorf("e2 bookkeeping = %d attempts, %q; want 1, %q", attempts, reason, down.Error())
	}
	if size, _ := s.OutboxSize(ctx); size != 2 {
		t.Errorf("outbox size = %d, want 2", size)
	}

	seen = nil
	routed, err = s.DeliverOutbox(ctx, nil, 10, noStarts(func(_ context.Context, e store.Event) error {
		seen = append(seen, e.EventID)
		return nil
	}))
	if err != nil || len(routed) != 2 || len(seen) != 2 || seen[0] != "e2" || seen[1] != "e3" {
		t.Fatalf("second drain: routed %v %v, %v; want e2, e3", routed, seen, err)
	}
	routed, err = s.DeliverOutbox(ctx, nil, 10, noStarts(func(context.Context, store.Event) error {
		t.Error("an already routed event was delivered again")
		return nil
	}))
	if err != nil || len(routed) != 0 {
		t.Fatalf("third drain: %v, %v", routed, err)
	}
}

func TestOutboxConcurrentDrainersDeliverEachEventOnce(t *testing.T) {
	s, _ := testdb.New(t)
	c := addCustomer(t, s, "C-1")
	var ids []string
	for i := range 40 {
		ids = append(ids, "ev-"+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	recordEvents(t, s, c, ids...)

	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				routed, err := s.DeliverOutbox(context.Background(), nil, 3, noStarts(func(_ context.Context, e store.Event) error {
					mu.Lock()
					count[e.EventID]++
					mu.Unlock()
					time.Sleep(time.Millisecond) // hold the lock long enough for the others to collide
					return nil
				}))
				if err != nil {
					t.Error(err)
					return
				}
				if len(routed) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(count) != len(ids) {
		t.Errorf("%d of %d events delivered", len(count), len(ids))
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
}

func TestOutboxByIDLeavesOthersAlone(t *testing.T) {
	s, _ := testdb.New(t)
	c := addCustomer(t, s, "C-1")
	evs := recordEvents(t, s, c, "a", "b")
	routed, err := s.DeliverOutbox(t.Context(), []int64{evs[1].ID}, 10, noStarts(func(_ context.Context, e store.Event) error {
		if e.EventID != "b" {
			t.Errorf("delivered %s, asked for b", e.EventID)
		}
		return nil
	}))
	if err != nil || len(routed) != 1 || routed[0] != evs[1].ID {
		t.Fatalf("routed %v, %v; want only b", routed, err)
	}
	if size, _ := s.OutboxSize(t.Context()); size != 1 {
		t.Errorf("outbox size = %d, want 1 (a still waiting)", size)
	}
}

func TestOutboxDeliversCustomersConcurrentlyEachInOrder(t *testing.T) {
	s, _ := testdb.New(t)
	var want []string
	for _, ext := range []string{"C-1", "C-2", "C-3", "C-4"} {
		c := addCustomer(t, s, ext)
		recordEvents(t, s, c, ext+"/1", ext+"/2", ext+"/3")
		want = append(want, ext)
	}

	// The first deliveries wait for each other: one customer after another
	// would never get past this gate.
	gate := make(chan struct{})
	var arrived sync.Once
	var mu sync.Mutex
	var first int
	heard := map[string][]string{}
	routed, err := s.DeliverOutbox(t.Context(), nil, 100, noStarts(func(_ context.Context, e store.Event) error {
		mu.Lock()
		first++
		if first == 2 {
			arrived.Do(func() { close(gate) })
		}
		mu.Unlock()
		select {
		case <-gate:
		case <-time.After(10 * time.Second):
			return errors.New("no second customer's event was delivered meanwhile")
		}
		mu.Lock()
		defer mu.Unlock()
		heard[e.CustomerID] = append(heard[e.CustomerID], e.EventID)
		return nil
	}))
	if err != nil || len(routed) != 12 {
		t.Fatalf("routed %d events, %v; want all 12", len(routed), err)
	}
	for i := 1; i < len(routed); i++ {
		if routed[i] <= routed[i-1] {
			t.Fatalf("routed IDs %v are not in stored order", routed)
		}
	}
	if len(heard) != 4 {
		t.Fatalf("heard %d customers, want 4", len(heard))
	}
	for _, evs := range heard {
		ext := evs[0][:3]
		if len(evs) != 3 || evs[0] != ext+"/1" || evs[1] != ext+"/2" || evs[2] != ext+"/3" {
			t.Errorf("a customer's events arrived as %v, want in stored order", evs)
		}
	}
	if size, _ := s.OutboxSize(t.Context()); size != 0 {
		t.Errorf("outbox size = %d after routing everything", size)
	}
}

// noStarts is a delivery that defers no journey start.
func noStarts(fn func(context.Context, store.Event) error) store.DeliverFunc {
	return func(ctx context.Context, e store.Event) ([]store.JourneyStart, error) { return nil, fn(ctx, e) }
}
