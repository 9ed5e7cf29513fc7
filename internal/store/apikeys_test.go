package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestAPIKeyLifecycle(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	k, secret, err := s.CreateAPIKey(ctx, "shop backend")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, k.Prefix) || len(secret) < 40 {
		t.Fatalf("secret %q does not start with its listed prefix %q or is short", secret, k.Prefix)
	}
	var stored int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE hash = $1 OR prefix = $1`, secret).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("the key itself is stored (%d rows, %v)", stored, err)
	}
	got, err := s.AuthenticateAPIKey(ctx, secret)
	if err != nil || got.ID != k.ID {
		t.Fatalf("authenticate fresh key = %+v, %v", got, err)
	}
	if _, err := s.AuthenticateAPIKey(ctx, secret+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("authenticate altered key = %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeAPIKey(ctx, k.Prefix); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateAPIKey(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("authenticate revoked key = %v, want ErrNotFound", err)
	}
	ks, err := s.APIKeys(ctx)
	if err != nil || len(ks) != 1 || ks[0].RevokedAt == nil || ks[0].LastUsedAt == nil {
		t.Fatalf("list = %+v, %v; want one revoked, used key", ks, err)
	}
	if _, err := s.RevokeAPIKey(ctx, "999"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown key = %v, want ErrNotFound", err)
	}
}
