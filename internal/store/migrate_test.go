package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// openEmpty opens a freshly created database that has not been migrated.
func openEmpty(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), testdb.Create(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	ms, err := store.Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("migrations = %v, want the first to be version 1", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %s (version %d) comes after %s (version %d)", ms[i].Name, ms[i].Version, ms[i-1].Name, ms[i-1].Version)
		}
	}
	if got, want := store.LatestVersion(), ms[len(ms)-1].Version; got != want {
		t.Errorf("LatestVersion = %d, want %d", got, want)
	}
}

func TestMigrateAppliesEachMigrationOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openEmpty(t)
	all, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}

	done, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if len(done) != len(all) {
		t.Errorf("first migrate applied %d migrations, want all %d", len(done), len(all))
	}
	again, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second migrate applied %v, want nothing", again)
	}

	var rows int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(all) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(all))
	}
	status, err := s.MigrationStatus(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, m := range status {
		if m.AppliedAt == nil {
			t.Errorf("migration %s reported pending after migrate", m.Name)
		}
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Errorf("CheckSchema after migrate: %v", err)
	}
}

func TestConcurrentMigrationsApplyOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := testdb.Create(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	applied := make([]int, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			done, err := s.Migrate(ctx)
			applied[i], errs[i] = len(done), err
		}()
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
		total += applied[i]
	}
	if want := len(mustMigrations(t)); total != want {
		t.Errorf("three concurrent migrators applied %d migrations in all, want %d", total, want)
	}
}

func TestMigrationStatusOfEmptyDatabase(t *testing.T) {
	t.Parallel()
	status, err := openEmpty(t).MigrationStatus(t.Context())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(status) != len(mustMigrations(t)) {
		t.Fatalf("status lists %d migrations, want %d", len(status), len(mustMigrations(t)))
	}
	for _, m := range status {
		if m.AppliedAt != nil {
			t.Errorf("migration %s reported applied on an empty database", m.Name)
		}
	}
}

func TestCheckSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openEmpty(t)

	err := s.CheckSchema(ctx)
	if !errors.Is(err, store.ErrSchemaOutdated) {
		t.Fatalf("CheckSchema on empty database = %v, want ErrSchemaOutdated", err)
	}
	if !strings.Contains(err.Error(), "tidings migrate up") {
		t.Errorf("outdated-schema error %q does not name the command that fixes it", err)
	}

	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema after migrate: %v", err)
	}

	// A newer binary migrated this database further.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')`,
		store.LatestVersion()+1); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaNewer) {
		t.Errorf("CheckSchema with a newer schema = %v, want ErrSchemaNewer", err)
	}
}

func TestCheckSchemaAfterPartialMigration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openEmpty(t)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `DELETE FROM schema_migrations WHERE version = $1`, store.LatestVersion()); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaOutdated) {
		t.Errorf("CheckSchema one version behind = %v, want ErrSchemaOutdated", err)
	}
}

func TestEnsureDatabaseCreatesAMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := testdb.Create(t)
	// Drop the database testdb made so EnsureDatabase must create it again;
	// testdb still drops it when the test ends.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, dsn); err == nil {
		t.Fatal("opened a database that was just dropped")
	}

	for i := range 2 { // the second call finds it and does nothing
		if err := store.EnsureDatabase(ctx, dsn); err != nil {
			t.Fatalf("EnsureDatabase call %d: %v", i+1, err)
		}
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open after EnsureDatabase: %v", err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate the created database: %v", err)
	}
}

func mustMigrations(t *testing.T) []store.Migration {
	t.Helper()
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
