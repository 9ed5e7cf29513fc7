package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

// poolSettings are the pool settings README "PostgreSQL" names for
// TIDINGS_DATABASE_URL, with a value each and how the pool shows it.
var poolSettings = []struct {
	param, value string
	got          func(*pgxpool.Config) string
}{
	{"pool_max_conns", "7", func(c *pgxpool.Config) string { return fmt.Sprint(c.MaxConns) }},
	{"pool_min_conns", "2", func(c *pgxpool.Config) string { return fmt.Sprint(c.MinConns) }},
	{"pool_min_idle_conns", "1", func(c *pgxpool.Config) string { return fmt.Sprint(c.MinIdleConns) }},
	{"pool_max_conn_lifetime", "45m0s", func(c *pgxpool.Config) string { return c.MaxConnLifetime.String() }},
	{"pool_max_conn_lifetime_jitter", "1m0s", func(c *pgxpool.Config) string { return c.MaxConnLifetimeJitter.String() }},
	{"pool_max_conn_idle_time", "10m0s", func(c *pgxpool.Config) string { return c.MaxConnIdleTime.String() }},
	{"pool_health_check_period", "30s", func(c *pgxpool.Config) string { return c.HealthCheckPeriod.String() }},
}

// TestPoolSettingsInTheDatabaseURL opens the store, creates a missing
// database and makes a single connection with each pool setting in the URL:
// the pool takes the setting, and no plain connection sends it to the
// server (which refuses unknown parameters).
func TestPoolSettingsInTheDatabaseURL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, ps := range poolSettings {
		t.Run(ps.param, func(t *testing.T) {
			dsn := testdb.Create(t) + "&" + ps.param + "=" + ps.value
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("Open with %s: %v", ps.param, err)
			}
			got := ps.got(s.Pool().Config())
			s.Close()
			if got != ps.value {
				t.Errorf("pool %s = %s, want %s", ps.param, got, ps.value)
			}
			conn, err := store.Connect(ctx, dsn)
			if err != nil {
				t.Fatalf("Connect with %s: %v", ps.param, err)
			}
			conn.Close(ctx)

			missing, _ := testdb.Missing(t)
			missing += "&" + ps.param + "=" + ps.value
			if err := store.EnsureDatabase(ctx, missing); err != nil {
				t.Fatalf("EnsureDatabase with %s: %v", ps.param, err)
			}
			s, err = store.Open(ctx, missing)
			if err != nil {
				t.Fatalf("Open the database EnsureDatabase created: %v", err)
			}
			s.Close()
		})
	}
}

// TestOpenNamesAMissingDatabase: a database that does not exist is
// ErrNoDatabase, named, and not created.
func TestOpenNamesAMissingDatabase(t *testing.T) {
	t.Parallel()
	dsn, name := testdb.Missing(t)
	_, err := store.Open(t.Context(), dsn)
	if !errors.Is(err, store.ErrNoDatabase) || !strings.Contains(err.Error(), `"`+name+`"`) || !strings.Contains(err.Error(), "tidings migrate up") {
		t.Fatalf("Open of a missing database = %v, want ErrNoDatabase naming it and the command that creates it", err)
	}
	if _, err := store.Open(t.Context(), dsn); !errors.Is(err, store.ErrNoDatabase) {
		t.Errorf("second Open = %v: the database was created", err)
	}
}
