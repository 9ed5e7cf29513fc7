package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestDeferredStartsAreRecordedWithTheirEventsAndStartedOnce: the starts a
// delivery defers are written with the events it routed (none for an event
// whose delivery failed), one per journey and customer; StartDue hands over
// only those due, keeps a start that failed with its error, removes the
// ones started, and erasure drops what is pending.
func TestDeferredStartsAreRecordedWithTheirEventsAndStartedOnce(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c, d := addCustomer(t, s, "C-1"), addCustomer(t, s, "C-2")
	recordEvents(t, s, c, "o1", "o2")
	recordEvents(t, s, d, "o3")
	due := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	down := errors.New("temporal unreachable")
	_, err := s.DeliverOutbox(ctx, nil, 10, func(_ context.Context, e store.Event) ([]store.JourneyStart, error) {
		if e.EventID == "o3" {
			return nil, down
		}
		return []store.JourneyStart{{Journey: "cross_sell", CustomerID: e.CustomerID, EventID: e.EventID, EventType: e.Type, OccurredAt: e.OccurredAt, DueAt: due}}, nil
	})
	if !errors.Is(err, down) {
		t.Fatalf("deliver: %v, want the failure of o3", err)
	}
	if got := pendingStarts(t, s); got != 1 {
		t.Fatalf("%d starts pending, want 1: o1's (o2 is its goal, o3 was not routed)", got)
	}

	var started []string
	start := func(_ context.Context, js store.JourneyStart) error {
		started = append(started, js.EventID)
		return nil
	}
	if n, err := s.StartDue(ctx, due.Add(-time.Minute), 10, start); err != nil || n != 0 {
		t.Fatalf("before it is due: started %d, %v; want nothing", n, err)
	}
	if _, err := s.StartDue(ctx, due, 10, func(context.Context, store.JourneyStart) error { return down }); !errors.Is(err, down) {
		t.Fatalf("a failed start answered %v", err)
	}
	var attempts int
	var reason string
	if err := s.Pool().QueryRow(ctx, `SELECT attempts, error FROM journey_starts`).Scan(&attempts, &reason); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 || reason != down.Error() {
		t.Errorf("failed start kept with %d attempts, %q; want 1, %q", attempts, reason, down.Error())
	}
	if n, err := s.StartDue(ctx, due, 10, start); err != nil || n != 1 || len(started) != 1 || started[0] != "o1" {
		t.Fatalf("when due: started %d %v, %v; want o1's start", n, started, err)
	}
	if n, err := s.StartDue(ctx, due.Add(time.Hour), 10, start); err != nil || n != 0 {
		t.Fatalf("a start was made twice: %d, %v", n, err)
	}

	recordEvents(t, s, c, "o4")
	if _, err := s.DeliverOutbox(ctx, nil, 10, func(_ context.Context, e store.Event) ([]store.JourneyStart, error) {
		return []store.JourneyStart{{Journey: "cross_sell", CustomerID: e.CustomerID, EventID: e.EventID, EventType: e.Type, OccurredAt: e.OccurredAt, DueAt: due}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseCustomer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := pendingStarts(t, s); got != 1 {
		t.Errorf("%d starts pending after erasing C-1, want only C-2's", got)
	}
}

func pendingStarts(t *testing.T, s *store.Store) int {
	t.Helper()
	n := 0
	pending, err := s.PendingStarts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range pending {
		n += v
	}
	return n
}
