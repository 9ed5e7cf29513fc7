package store_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// A code redeemed for a campaign's message counts for the arm of the
// customer's entry, and the redemption is a conversion of that step.
func TestCampaignReportCountsRedeemedCoupons(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	now := time.Now()
	for _, ext := range []string{"a1", "a2"} {
		c := campaignCustomer(t, s, ext)
		if _, _, err := s.EnterCampaign(ctx, store.CampaignEntry{Campaign: "spring", CustomerID: c, Version: 1, RunID: ext,
			Variant: "calm", EnteredAt: now}, 0); err != nil {
			t.Fatal(err)
		}
		m, _, err := s.ReserveMessage(ctx, store.Message{ID: uuid.NewString(), IdempotencyKey: "campaign/spring/1/" + c + "/offer/1",
			CustomerID: c, Journey: "campaign/spring", Step: "offer:calm", Channel: "email", Template: "winback_offer", Topic: "marketing"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteMessage(ctx, m.ID, store.Outcome{Status: store.StatusSent}); err != nil {
			t.Fatal(err)
		}
		if err := s.IssueCoupons(ctx, []store.Coupon{{Code: "SPRING-" + strings.ToUpper(ext), CustomerID: c, MessageID: m.ID,
			Journey: "campaign/spring", Step: "offer:calm", IssuedAt: &now}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, created, err := s.RedeemCoupon(ctx, store.Redemption{Code: "SPRING-A1", OrderID: "o-1", Revenue: 20, At: now}); err != nil || !created {
		t.Fatalf("redeem: %v, %v", created, err)
	}
	rep, err := s.CampaignResults(ctx, "spring")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Arms) != 1 || rep.Arms[0].Variant != "calm" || rep.Arms[0].Redeemed != 1 || rep.Arms[0].Sent != 2 {
		t.Fatalf("arms %+v, want calm with 2 sent and 1 redeemed", rep.Arms)
	}
	convs, err := testdb.Conversions(ctx, s, "campaign/spring")
	if err != nil || len(convs) != 1 || convs[0].Step != "offer:calm" || convs[0].Revenue != 20 {
		t.Errorf("conversions %+v, %v; want the redemption credited to offer:calm", convs, err)
	}
}

func poolCodes(prefix string, n int) []store.Coupon {
	cs := make([]store.Coupon, n)
	for i := range cs {
		cs[i] = store.Coupon{Code: fmt.Sprintf("%s-%04d", prefix, i), Value: "10 EUR"}
	}
	return cs
}

// Many sends drawing from one pool at once each get a code of their own, a
// retried send gets its first code again, and an exhausted pool says so.
func TestPoolDrawsAreUniqueUnderConcurrencyAndExhaustionIsNamed(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addCustomer(t, s, "C-pool")
	const codes, senders = 40, 50
	n, err := s.ImportCoupons(ctx, "summer", poolCodes("SUMMER", codes))
	if err != nil || n != codes {
		t.Fatalf("import: %d, %v", n, err)
	}
	if n, err := s.ImportCoupons(ctx, "summer", poolCodes("SUMMER", 2)); err != nil || n != 0 {
		t.Fatalf("re-import: %d new, %v; want 0", n, err)
	}
	type drawn struct {
		msg, code string
		err       error
	}
	out := make(chan drawn, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := uuid.NewString()
			got, err := s.DrawCoupon(ctx, store.CouponDraw{Pool: "summer", MessageID: msg, CustomerID: c, Journey: "campaign/summer", Step: fmt.Sprint(i), At: time.Now()})
			out <- drawn{msg, got.Code, err}
		}()
	}
	wg.Wait()
	close(out)
	seen := map[string]string{}
	exhausted := 0
	for d := range out {
		switch {
		case errors.Is(d.err, store.ErrPoolExhausted):
			exhausted++
			if !strings.Contains(d.err.Error(), `"summer"`) || !strings.Contains(d.err.Error(), "40 codes") {
				t.Errorf("exhaustion %q does not name the pool and its size", d.err)
			}
		case d.err != nil:
			t.Fatalf("draw: %v", d.err)
		default:
			if other, dup := seen[d.code]; dup {
				t.Fatalf("code %s drawn for messages %s and %s", d.code, other, d.msg)
			}
			seen[d.code] = d.msg
		}
	}
	if len(seen) != codes || exhausted != senders-codes {
		t.Fatalf("%d distinct codes drawn, %d refused; want %d and %d", len(seen), exhausted, codes, senders-codes)
	}
	for code, msg := range seen {
		again, err := s.DrawCoupon(ctx, store.CouponDraw{Pool: "summer", MessageID: msg, CustomerID: c, At: time.Now()})
		if err != nil || again.Code != code {
			t.Fatalf("retry of message %s drew %q (%v), want its first code %s", msg, again.Code, err, code)
		}
		break
	}
	total, unused, err := s.PoolSize(ctx, "summer")
	if err != nil || total != codes || unused != 0 {
		t.Errorf("pool size %d/%d (%v), want 40 total, none unused", total, unused, err)
	}
	if _, err := s.DrawCoupon(ctx, store.CouponDraw{Pool: "winter", MessageID: uuid.NewString(), CustomerID: c, At: time.Now()}); !errors.Is(err, store.ErrPoolExhausted) ||
		!strings.Contains(err.Error(), "tidings coupons import winter") {
		t.Errorf("draw from an empty pool: %v, want a refusal saying how to import codes", err)
	}
}
