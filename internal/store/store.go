// Package store is the system of record: customers, consent, suppressions,
// events, the delivery ledger and survey answers, all in PostgreSQL via pgx.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors callers match with errors.Is.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSchemaOutdated means the database has not been migrated to the
	// version this binary expects.
	ErrSchemaOutdated = errors.New("database schema is outdated")
	// ErrSchemaNewer means the database was migrated by a newer binary.
	ErrSchemaNewer = errors.New("database schema is newer than this binary")
	// ErrNoDatabase means the database named in the URL does not exist on
	// the server: only `tidings migrate up` (and `tidings dev`) create it,
	// so a mistyped name is reported instead of becoming an empty database.
	ErrNoDatabase = errors.New("database does not exist")
)

// Store wraps a connection pool; every method takes a context and is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at dsn. It does not migrate; call Migrate or
// CheckSchema as the command requires.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool defaults to max(4, cores) connections; the send path keeps
		// several batches in flight and the API serves requests beside them,
		// so a small machine would queue on the pool rather than on work.
		cfg.MaxConns = max(cfg.MaxConns, 16)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
			return nil, fmt.Errorf("%w: %q on %s; create it with `tidings migrate up`, or correct TIDINGS_DATABASE_URL",
				ErrNoDatabase, cfg.ConnConfig.Database, redact(dsn))
		}
		return nil, fmt.Errorf("connect to database %s: %w", redact(dsn), err)
	}
	return &Store{pool: pool}, nil
}

// Pool exposes the pool for the few callers (benchmarks, bulk tools) that need
// raw access.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases every connection.
func (s *Store) Close() { s.pool.Close() }

// ConnConfig parses a database URL for a single connection. The URL is the
// pool's (TIDINGS_DATABASE_URL), so it may carry pool settings
// (pool_max_conns, ...): they are read by the pool's parser and left out,
// where a plain connection would send them to the server as unknown
// parameters and be refused.
func ConnConfig(dsn string) (*pgx.ConnConfig, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	return pc.ConnConfig, nil
}

// Connect opens a single connection to the database at dsn (a pool's URL;
// see ConnConfig), for administrative work outside the pool.
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := ConnConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// EnsureDatabase creates the database named in dsn if it does not exist, by
// connecting to the server's maintenance database. A fresh machine then needs
// nothing but a running PostgreSQL.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := ConnConfig(dsn)
	if err != nil {
		return err
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return nil
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created concurrently
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// redact hides the password of a database URL for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return strings.Replace(u.String(), "xxxxx", "***", 1)
}

// isUniqueViolation reports whether err is a unique-constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
