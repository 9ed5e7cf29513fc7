// Package testdb gives each test its own freshly created, migrated PostgreSQL
// database, so tests never see each other's rows and can run in parallel.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
)

// AdminURL is where test databases are created: TIDINGS_TEST_DATABASE_URL, or
// the local server's maintenance database.
func AdminURL() string {
	if u := os.Getenv("TIDINGS_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// New creates a database named after the test, migrates it, and drops it when
// the test ends. It returns the open store and the database URL.
func New(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := Create(tb)
	s, err := store.Open(ctx, dsn)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return s, dsn
}

// Create makes an empty database and returns its URL; it is dropped when the
// test ends.
func Create(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL at %s (set TIDINGS_TEST_DATABASE_URL): %v", admin, err)
	}
	defer conn.Close(ctx)
	dsn, name := Missing(tb)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	return dsn
}

// Missing returns the URL and name of a database that does not exist; if
// the test creates it (tidings migrate up, store.EnsureDatabase), it is
// dropped when the test ends.
func Missing(tb testing.TB) (dsn, name string) {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = "tidings_test_" + hex.EncodeToString(b[:])
	admin := AdminURL()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("parse %s: %v", admin, err)
	}
	u.Path = "/" + name
	return u.String(), name
}

// String is a helper for the many optional *string fields of store inputs.
func String(s string) *string { return &s }

// MustExec runs SQL in the test database, failing the test on error.
func MustExec(tb testing.TB, s *store.Store, sql string, args ...any) {
	tb.Helper()
	if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("exec %s: %v", sql, err)
	}
}

// MessageByKey is the ledger row of an idempotency key, read with the send
// path's own lookup (Store.MessagesByKey); store.ErrNotFound when there is
// none.
func MessageByKey(ctx context.Context, s *store.Store, key string) (store.Message, error) {
	ms, err := s.MessagesByKey(ctx, []string{key})
	if err != nil {
		return store.Message{}, err
	}
	m, ok := ms[key]
	if !ok {
		return store.Message{}, fmt.Errorf("message %s: %w", key, store.ErrNotFound)
	}
	return m, nil
}

// Conversions lists a journey's conversions, oldest first.
func Conversions(ctx context.Context, s *store.Store, journey string) ([]store.Conversion, error) {
	rows, err := s.Pool().Query(ctx, `
		SELECT journey, run_id, customer_id::text AS customer_id, step, event_id,
			revenue::float8 AS revenue, currency, converted_at
		FROM conversions
		WHERE journey = $1
		ORDER BY converted_at, id`, journey)
	if err != nil {
		return nil, fmt.Errorf("list %s conversions: %w", journey, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[store.Conversion])
}

// CountCustomers counts the stored customers.
func CountCustomers(ctx context.Context, s *store.Store) (int, error) {
	var n int
	err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&n)
	return n, err
}
