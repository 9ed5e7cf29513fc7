package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestCouponsShowAndRedeem(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	ctx := t.Context()
	c, _, err := s.UpsertCustomer(ctx, store.CustomerInput{ExternalID: "C-9", Email: testdb.String("c9@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "birthday/" + c.ID + "/2026", CustomerID: c.ID,
		Journey: "birthday", Step: "greeting", Channel: "email", Template: "birthday", Topic: "marketing"})
	if err != nil {
		t.Fatal(err)
	}
	now, later := time.Now(), time.Now().Add(time.Hour)
	if err := s.IssueCoupons(ctx, []store.Coupon{{Code: "BDAY-ABCDE23456", DiscountPercent: 15, CustomerID: c.ID,
		MessageID: m.ID, Journey: "birthday", Step: "greeting", IssuedAt: &now, ExpiresAt: &later}}); err != nil {
		t.Fatal(err)
	}

	r := tidings(t, env, "coupons", "show", "bday-abcde23456")
	if r.code != 0 || !strings.Contains(r.stdout, "valid") || !strings.Contains(r.stdout, "15% off") || !strings.Contains(r.stdout, c.ID) {
		t.Fatalf("show:\n%s", r)
	}
	r = tidings(t, env, "coupons", "redeem", "BDAY-ABCDE23456", "--order", "5001")
	if r.code != 0 || !strings.Contains(r.stdout, "redeemed for order 5001") {
		t.Fatalf("redeem:\n%s", r)
	}
	r = tidings(t, env, "coupons", "redeem", "BDAY-ABCDE23456", "--order", "5001")
	if r.code != 0 || !strings.Contains(r.stdout, "already redeemed for order 5001") {
		t.Errorf("redeem again for the same order:\n%s", r)
	}
	r = tidings(t, env, "coupons", "redeem", "BDAY-ABCDE23456", "--order", "5002")
	if r.code == 0 || !strings.Contains(r.stderr, "already redeemed") {
		t.Errorf("redeem for another order:\n%s", r)
	}
	if convs, err := testdb.Conversions(ctx, s, "birthday"); err != nil || len(convs) != 1 {
		t.Errorf("conversions %+v, %v; want one", convs, err)
	}
	r = tidings(t, env, "coupons", "show", "NOPE-0000000000")
	if r.code != exitUsage || !strings.Contains(r.stderr, "unknown") {
		t.Errorf("show unknown:\n%s", r)
	}
	r = tidings(t, env, "coupons", "redeem", "BDAY-ABCDE23456")
	if r.code != exitUsage || !strings.Contains(r.stderr, "order_id") {
		t.Errorf("redeem without --order:\n%s", r)
	}
}

func TestCouponsImport(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	file := filepath.Join(t.TempDir(), "codes.csv")
	if err := os.WriteFile(file, []byte("code,value\nAUTUMN-1,5 EUR\nAUTUMN-2,5 EUR\nAUTUMN-1,5 EUR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := tidings(t, env, "coupons", "import", "autumn", file)
	if r.code != exitRejected || !strings.Contains(r.stdout, "3 rows read: 2 imported, 0 already known, 1 rejected; pool autumn has 2 codes, 2 unused") ||
		!strings.Contains(r.stderr, "codes.csv:4: code: AUTUMN-1 repeats line 2") {
		t.Fatalf("import:\n%s", r)
	}
	r = tidings(t, env, "coupons", "import", "autumn", file)
	if !strings.Contains(r.stdout, "0 imported, 2 already known") {
		t.Errorf("import again:\n%s", r)
	}
	if total, unused, err := s.PoolSize(t.Context(), "autumn"); err != nil || total != 2 || unused != 2 {
		t.Errorf("pool %d/%d, %v", total, unused, err)
	}
	r = tidings(t, env, "coupons", "import", "Autumn Sale!", file)
	if r.code != exitUsage || !strings.Contains(r.stderr, "pool") {
		t.Errorf("bad pool name:\n%s", r)
	}
}
