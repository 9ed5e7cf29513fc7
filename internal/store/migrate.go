package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidingsdev/tidings/migrations"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version   int
	Name      string
	SQL       string
	AppliedAt *time.Time
}

// migrationLock is the advisory lock key that serialises concurrent
// `tidings migrate` runs (several workers starting at once).
const migrationLock = 0x7469_6469 // "tidi"

// Migrations lists the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", name)
		}
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate applies every pending migration, each in its own transaction, and
// returns the ones it applied.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	return s.onMigrationConn(ctx, func(conn *pgxpool.Conn, all []Migration) ([]Migration, error) {
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck
		if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
			return nil, fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, conn.Conn())
		if err != nil {
			return nil, err
		}
		var done []Migration
		for _, m := range all {
			if _, ok := applied[m.Version]; ok {
				continue
			}
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.SQL); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
				return err
			})
			if err != nil {
				return done, fmt.Errorf("apply migration %s: %w", m.Name, err)
			}
			done = append(done, m)
		}
		return done, nil
	})
}

// MigrationStatus lists every known migration with when it was applied (nil
// when pending).
func (s *Store) MigrationStatus(ctx context.Context) ([]Migration, error) {
	return s.onMigrationConn(ctx, func(conn *pgxpool.Conn, all []Migration) ([]Migration, error) {
		applied, err := appliedVersions(ctx, conn.Conn())
		if err != nil {
			return nil, err
		}
		for i := range all {
			if at, ok := applied[all[i].Version]; ok {
				all[i].AppliedAt = &at
			}
		}
		return all, nil
	})
}

// onMigrationConn runs fn with the known migrations on one connection of
// the pool: the migration lock is a session lock, so taking it, applying and
// releasing must happen on the same connection.
func (s *Store) onMigrationConn(ctx context.Context, fn func(conn *pgxpool.Conn, all []Migration) ([]Migration, error)) ([]Migration, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	return fn(conn, all)
}

// CheckSchema returns ErrSchemaOutdated (or ErrSchemaNewer) unless the
// database is at exactly the version this binary expects.
func (s *Store) CheckSchema(ctx context.Context) error {
	var current int
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		current = 0
	} else if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	want := LatestVersion()
	switch {
	case current < want:
		return fmt.Errorf("%w: database is at version %d, this binary needs %d; run `tidings migrate up`", ErrSchemaOutdated, current, want)
	case current > want:
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade tidings", ErrSchemaNewer, current, want)
	}
	return nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]time.Time, error) {
	rows, err := conn.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return map[int]time.Time{}, nil
		}
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	out := map[int]time.Time{}
	var v int
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		out[v] = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return out, nil
}
