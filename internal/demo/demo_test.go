package demo

import (
	"context"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func count(t *testing.T, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestLoadCreatesTheCompanyOnce loads the demo company into an empty
// database, checks it holds the mix the demo promises, and loads it again
// hours later: nothing is added or changed.
func TestLoadCreatesTheCompanyOnce(t *testing.T) {
	t.Parallel()
	st, _ := testdb.New(t)
	ctx := t.Context()
	now := time.Now()
	l, err := Load(ctx, st, 0, DefaultSeed, now)
	if err != nil {
		t.Fatal(err)
	}
	if l.Import.Inserted != DefaultCustomers || l.Import.Rejected != 0 {
		t.Fatalf("first load: %+v, want %d inserted and none rejected", l.Import, DefaultCustomers)
	}
	n := count(t, st, `SELECT count(*) FROM customers`)
	if n != DefaultCustomers {
		t.Fatalf("%d customers stored, want %d", n, DefaultCustomers)
	}
	share := func(what, where string, lo, hi float64) {
		t.Helper()
		k := count(t, st, `SELECT count(*) FROM customers WHERE `+where, now)
		t.Logf("%s: %d", what, k)
		if f := float64(k) / float64(n); f < lo || f > hi {
			t.Errorf("%s: %d of %d (%.0f%%), want %.0f%%–%.0f%%", what, k, n, 100*f, 100*lo, 100*hi)
		}
	}
	share("locale en", `locale = 'en' AND $1::timestamptz IS NOT NULL`, 0.35, 0.65)
	share("locale zh-CN", `locale = 'zh-CN' AND $1::timestamptz IS NOT NULL`, 0.2, 0.45)
	share("locale zh-TW", `locale = 'zh-TW' AND $1::timestamptz IS NOT NULL`, 0.12, 0.35)
	share("lapsed buyers (last order over 60 days ago)", `last_purchase_at < $1::timestamptz - interval '60 days'`, 0.08, 0.25)
	share("recent buyers (ordered within a week)", `last_purchase_at > $1::timestamptz - interval '7 days'`, 0.08, 0.25)
	share("never bought", `orders_count = 0 AND $1::timestamptz IS NOT NULL`, 0.02, 0.12)
	share("with a phone number", `phone IS NOT NULL AND $1::timestamptz IS NOT NULL`, 0.1, 0.5)
	if z := count(t, st, `SELECT count(DISTINCT time_zone) FROM customers`); z < 10 {
		t.Errorf("customers live in %d time zones, want at least 10", z)
	}
	// Birthdays today in the customer's own zone, at an hour the greeting is
	// due (09:00 or later, before the 21:00 quiet hours).
	today := count(t, st, `SELECT count(*) FROM customers
		WHERE to_char(birthday, 'MM-DD') = to_char($1::timestamptz AT TIME ZONE time_zone, 'MM-DD')
		  AND extract(hour FROM $1::timestamptz AT TIME ZONE time_zone) BETWEEN 9 AND 20`, now)
	t.Logf("birthdays today: %d; purchases: %d", today, l.Orders)
	if today < 5 {
		t.Errorf("%d customers have their birthday today during their day, want at least 5", today)
	}
	if got := count(t, st, `SELECT count(*) FROM events WHERE type = 'purchase'`); got != l.Orders || got < DefaultCustomers {
		t.Errorf("%d purchases stored, the load reported %d; want over %d", got, l.Orders, DefaultCustomers)
	}
	if got := count(t, st, `SELECT count(*) FROM customers WHERE first_name ~ '[\u4e00-\u9fff]' AND locale LIKE 'zh%'`); got == 0 {
		t.Error("no Chinese customer has a Chinese name")
	}
	if got := count(t, st, `SELECT count(*) FROM customers WHERE email NOT LIKE '%@example.%'`); got != 0 {
		t.Errorf("%d customers have addresses outside the reserved example domains", got)
	}

	// The example segments are saved, with members; one a user changed
	// keeps the change when the company loads again.
	if got := count(t, st, `SELECT count(*) FROM segments WHERE name IN ('champions', 'winback') AND description <> ''`); got != 2 {
		t.Errorf("%d of the demo's saved segments stored, want champions and winback", got)
	}
	if champions := count(t, st, `SELECT count(*) FROM customer_scores WHERE recency >= 4 AND frequency >= 4 AND monetary >= 4`); champions == 0 {
		t.Error("the champions segment has no members in the demo")
	}
	testdb.MustExec(t, st, `UPDATE segments SET description = 'ours now' WHERE name = 'winback'`)

	events := count(t, st, `SELECT count(*) FROM events`)
	consents := count(t, st, `SELECT count(*) FROM consent_changes`)
	again, err := Load(ctx, st, 0, DefaultSeed, now.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Import.Unchanged != DefaultCustomers || again.NewOrders != 0 || again.Consents != 0 || !again.Anchor.Equal(l.Anchor) {
		t.Errorf("second load: %+v, %d new orders, %d consents, anchor %s; want everything unchanged (anchor %s)",
			again.Import, again.NewOrders, again.Consents, again.Anchor, l.Anchor)
	}
	if got := count(t, st, `SELECT count(*) FROM customers`); got != n {
		t.Errorf("%d customers after loading again, want %d", got, n)
	}
	if got := count(t, st, `SELECT count(*) FROM events`); got != events {
		t.Errorf("%d events after loading again, want %d", got, events)
	}
	if got := count(t, st, `SELECT count(*) FROM consent_changes`); got != consents {
		t.Errorf("%d consent changes after loading again, want %d", got, consents)
	}
	if got := count(t, st, `SELECT count(*) FROM segments WHERE name = 'winback' AND description = 'ours now'`); got != 1 {
		t.Error("loading again replaced a saved segment a user had changed")
	}
}
