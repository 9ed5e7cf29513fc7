package store_test

import (
	"errors"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestSuppressionList(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)

	if _, err := s.Suppression(ctx, "email", "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty list: err = %v, want ErrNotFound", err)
	}
	if err := s.Suppress(ctx, store.Suppression{Channel: "email", Address: " Ann@Example.COM ", Reason: store.HardBounce, Detail: "550 5.1.1 no such user"}); err != nil {
		t.Fatal(err)
	}
	// Case and surrounding space do not matter when checking.
	sp, err := s.Suppression(ctx, "email", "ann@example.com")
	if err != nil {
		t.Fatalf("check normalised address: %v", err)
	}
	if sp.Address != "ann@example.com" || sp.Reason != store.HardBounce || sp.Detail != "550 5.1.1 no such user" {
		t.Errorf("suppression = %+v, want ann@example.com, hard bounce with the SMTP reply", sp)
	}
	// The same address on another channel is not suppressed.
	if _, err := s.Suppression(ctx, "sms", "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("sms lookup of an email suppression: err = %v, want ErrNotFound", err)
	}

	// A later complaint keeps the first reason: the earliest evidence counts.
	if err := s.Suppress(ctx, store.Suppression{Channel: "email", Address: "ANN@example.com", Reason: store.Complaint}); err != nil {
		t.Fatal(err)
	}
	if sp, _ := s.Suppression(ctx, "email", "Ann@example.com"); sp.Reason != store.HardBounce {
		t.Errorf("after a second suppression the reason is %s, want the first (hard_bounce)", sp.Reason)
	}

	if err := s.Unsuppress(ctx, "email", "ANN@EXAMPLE.COM"); err != nil {
		t.Fatalf("unsuppress: %v", err)
	}
	if _, err := s.Suppression(ctx, "email", "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after unsuppress: err = %v, want ErrNotFound", err)
	}
	if err := s.Unsuppress(ctx, "email", "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unsuppress twice: err = %v, want ErrNotFound", err)
	}
}

func TestSuppressPhoneAndRefuseUnknownReason(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	if err := s.Suppress(ctx, store.Suppression{Channel: "sms", Address: "+14155550123", Reason: store.Unsubscribe, Detail: "STOP"}); err != nil {
		t.Fatal(err)
	}
	if sp, err := s.Suppression(ctx, "sms", "+14155550123"); err != nil || sp.Reason != store.Unsubscribe {
		t.Errorf("sms suppression = %+v, %v; want unsubscribe", sp, err)
	}
	if err := s.Suppress(ctx, store.Suppression{Channel: "email", Address: "bo@example.com", Reason: "felt_like_it"}); err == nil {
		t.Error("an unknown suppression reason was accepted")
	}
	if _, err := s.Suppression(ctx, "email", "bo@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused suppression was stored: err = %v", err)
	}
}
