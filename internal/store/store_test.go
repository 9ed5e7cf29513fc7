package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// addCustomer stores a minimal customer and returns its ID.
func addCustomer(t *testing.T, s *store.Store, externalID string) string {
	t.Helper()
	c, outcome, err := s.UpsertCustomer(t.Context(), store.CustomerInput{
		ExternalID: externalID,
		Email:      testdb.String(strings.ToLower(externalID) + "@example.com"),
		TimeZone:   testdb.String("Asia/Shanghai"),
	})
	if err != nil {
		t.Fatalf("upsert customer %s: %v", externalID, err)
	}
	if outcome != store.Inserted {
		t.Fatalf("upsert customer %s: outcome %s, want %s", externalID, outcome, store.Inserted)
	}
	return c.ID
}

func TestOpenNeverPrintsThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Nothing listens on port 1, so the connection fails and the error
	// message is what a user would see in their logs.
	_, err := store.Open(ctx, "postgres://tidings:hunter2-secret@127.0.0.1:1/tidings?connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Errorf("error reveals the password: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error does not say which server it tried: %v", err)
	}
}

func TestOpenRefusesMalformedURL(t *testing.T) {
	_, err := store.Open(t.Context(), "postgres://127.0.0.1:notaport/x")
	if err == nil || !strings.Contains(err.Error(), "parse database url") {
		t.Errorf("Open(malformed) = %v, want a parse error", err)
	}
}
