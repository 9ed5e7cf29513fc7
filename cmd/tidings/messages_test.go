package main

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestMessagesTestRefusesBadSeedsAndVars: a seed that is no address and a
// --var without a value are exit 2 naming them, before anything is sent.
func TestMessagesTestRefusesBadSeedsAndVars(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ada@example.com")}); err != nil {
		t.Fatal(err)
	}
	r := tidings(t, env, "messages", "test", "--customer", "C-1", "--template", "welcome", "--topic", "marketing",
		"--seed", "qa@example.com", "--seed", "not an address")
	if r.code != exitUsage || !strings.Contains(r.stderr, "seeds[1]") {
		t.Errorf("a bad seed: %s", r)
	}
	r = tidings(t, env, "messages", "test", "--customer", "C-1", "--template", "welcome", "--topic", "marketing", "--var", "coupon")
	if r.code != exitUsage || !strings.Contains(r.stderr, `--var "coupon"`) {
		t.Errorf("a var without a value: %s", r)
	}
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d ledger rows after refused tests (%v), want none", n, err)
	}
}
