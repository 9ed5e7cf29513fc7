package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestRecordEventStoresTheSameEventOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-1")
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	ev := store.EventInput{EventID: "signup-E-1", CustomerID: id, Type: "signup", Properties: map[string]any{"plan": "free"}, OccurredAt: at}

	first, err := s.RecordEvent(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.CustomerID != id || first.Type != "signup" || !first.OccurredAt.Equal(at) || first.Properties["plan"] != "free" {
		t.Errorf("first record = %+v, want created signup of %s at %s", first, id, at)
	}
	if first.RoutedAt != nil {
		t.Errorf("a new event is already routed at %s", first.RoutedAt)
	}

	// The client retries with different content: the stored event wins.
	retry := ev
	retry.Properties = map[string]any{"plan": "pro"}
	second, err := s.RecordEvent(ctx, retry)
	if err != nil {
		t.Fatal(err)
	}
	if second.Created {
		t.Error("the same event ID was reported created twice")
	}
	if second.ID != first.ID || second.Properties["plan"] != "free" {
		t.Errorf("duplicate returned %+v, want the stored event %d with plan free", second, first.ID)
	}
	if n := countEvents(t, s); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestRecordEventsDedupesWithinABatch(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-2")
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	mk := func(eid string) store.EventInput {
		return store.EventInput{EventID: eid, CustomerID: id, Type: "page_view", OccurredAt: at}
	}
	if _, err := s.RecordEvent(ctx, mk("old")); err != nil {
		t.Fatal(err)
	}

	got, err := s.RecordEvents(ctx, []store.EventInput{mk("a"), mk("b"), mk("a"), mk("old")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("RecordEvents returned %d results for 4 inputs", len(got))
	}
	want := []struct {
		id      string
		created bool
	}{{"a", true}, {"b", true}, {"a", false}, {"old", false}}
	for i, e := range got {
		if e.EventID != want[i].id || e.Created != want[i].created {
			t.Errorf("result %d = %s created=%v, want %s created=%v", i, e.EventID, e.Created, want[i].id, want[i].created)
		}
	}
	if got[0].ID != got[2].ID {
		t.Errorf("the two results for event a point at rows %d and %d", got[0].ID, got[2].ID)
	}
	if n := countEvents(t, s); n != 3 {
		t.Errorf("%d events stored, want 3 (old, a, b)", n)
	}
}

func TestPurchasesKeepTheAggregatesCurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-3")
	other := addCustomer(t, s, "E-3-other")
	day := func(d int) time.Time { return time.Date(2026, 4, d, 12, 0, 0, 0, time.UTC) }
	purchase := func(eid string, amount float64, at time.Time) store.EventInput {
		return store.EventInput{EventID: eid, CustomerID: id, Type: store.PurchaseEvent, Properties: map[string]any{"amount": amount, "currency": "USD"}, OccurredAt: at}
	}

	if _, err := s.RecordEvents(ctx, []store.EventInput{purchase("o-1", 19.99, day(10)), purchase("o-2", 5.01, day(12))}); err != nil {
		t.Fatal(err)
	}
	assertAggregates(t, s, id, 2, 25.00, day(10), day(12))

	// An older order arrives late: it moves first_purchase_at back, not
	// last_purchase_at.
	if _, err := s.RecordEvent(ctx, purchase("o-0", 100, day(2))); err != nil {
		t.Fatal(err)
	}
	assertAggregates(t, s, id, 3, 125.00, day(2), day(12))

	// The same order sent again, alone and inside a batch, counts once.
	if _, err := s.RecordEvent(ctx, purchase("o-2", 5.01, day(12))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvents(ctx, []store.EventInput{purchase("o-3", 10, day(20)), purchase("o-3", 10, day(20)), purchase("o-1", 19.99, day(10))}); err != nil {
		t.Fatal(err)
	}
	assertAggregates(t, s, id, 4, 135.00, day(2), day(20))

	// Other event types touch last_seen_at only; other customers not at all.
	if _, err := s.RecordEvent(ctx, store.EventInput{EventID: "v-1", CustomerID: id, Type: "page_view", OccurredAt: day(25)}); err != nil {
		t.Fatal(err)
	}
	assertAggregates(t, s, id, 4, 135.00, day(2), day(20))
	c, err := s.Customer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.LastSeenAt == nil || !c.LastSeenAt.Equal(day(25)) {
		t.Errorf("last_seen_at = %v, want %s", c.LastSeenAt, day(25))
	}
	assertAggregates(t, s, other, 0, 0, time.Time{}, time.Time{})
}

func TestPurchaseWithoutAmountCountsTheOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-4")
	at := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.RecordEvent(ctx, store.EventInput{EventID: "free-order", CustomerID: id, Type: store.PurchaseEvent, OccurredAt: at}); err != nil {
		t.Fatal(err)
	}
	assertAggregates(t, s, id, 1, 0, at, at)
}

func TestEventBatchForAnUnknownCustomerWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-5")
	at := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	_, err := s.RecordEvents(ctx, []store.EventInput{
		{EventID: "good", CustomerID: id, Type: store.PurchaseEvent, Properties: map[string]any{"amount": 10.0}, OccurredAt: at},
		{EventID: "orphan", CustomerID: "00000000-0000-0000-0000-00000000dead", Type: "signup", OccurredAt: at},
	})
	if err == nil {
		t.Fatal("an event for a customer that does not exist was accepted")
	}
	if n := countEvents(t, s); n != 0 {
		t.Errorf("a refused batch stored %d events", n)
	}
	assertAggregates(t, s, id, 0, 0, time.Time{}, time.Time{})
}

func TestCustomerEventsNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	id := addCustomer(t, s, "E-6")
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var in []store.EventInput
	for i := range 6 {
		typ := "page_view"
		if i%2 == 0 {
			typ = "order_delivered"
		}
		in = append(in, store.EventInput{EventID: fmt.Sprintf("ev-%d", i), CustomerID: id, Type: typ, OccurredAt: base.Add(time.Duration(i) * time.Hour)})
	}
	if _, err := s.RecordEvents(ctx, in); err != nil {
		t.Fatal(err)
	}

	got, err := s.CustomerEvents(ctx, id, "order_delivered", base.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.EventID)
	}
	if fmt.Sprint(ids) != "[ev-4 ev-2]" {
		t.Errorf("deliveries since 01:00 = %v, want [ev-4 ev-2]", ids)
	}
	all, err := s.CustomerEvents(ctx, id, "", base, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].EventID != "ev-5" {
		t.Errorf("latest 3 of any type = %v, want ev-5 first", all)
	}
}

func assertAggregates(t *testing.T, s *store.Store, id string, orders int, spent float64, first, last time.Time) {
	t.Helper()
	c, err := s.Customer(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.OrdersCount != orders || c.TotalSpent != spent {
		t.Errorf("orders_count %d, total_spent %.2f; want %d, %.2f", c.OrdersCount, c.TotalSpent, orders, spent)
	}
	checkTime(t, "first_purchase_at", c.FirstPurchaseAt, first)
	checkTime(t, "last_purchase_at", c.LastPurchaseAt, last)
}

func checkTime(t *testing.T, name string, got *time.Time, want time.Time) {
	t.Helper()
	switch {
	case want.IsZero() && got != nil:
		t.Errorf("%s = %s, want none", name, got)
	case !want.IsZero() && (got == nil || !got.Equal(want)):
		t.Errorf("%s = %v, want %s", name, got, want)
	}
}

func countEvents(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
