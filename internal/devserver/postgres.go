package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/tidingsdev/tidings/internal/store"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// postgresShards is the history shard count of a PostgreSQL store: a few
// shards let the history service write executions in parallel, which
// PostgreSQL (unlike a single SQLite file) can do.
const postgresShards = 4

// preparePostgres makes sure the two Temporal databases beside url's
// database exist and carry the latest embedded schema, and returns their
// stores.
func preparePostgres(ctx context.Context, rawURL string, tlog log.Logger) (stores, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return stores{}, fmt.Errorf("postgres url: %w", err)
	}
	base := strings.TrimPrefix(u.Path, "/")
	if base == "" {
		base = "tidings"
	}
	main := postgresConfig(u, base+"_temporal")
	visibility := postgresConfig(u, base+"_temporal_visibility")
	for _, db := range []struct {
		cfg    *config.SQL
		schema string
	}{
		{main, "postgresql/v12/temporal"},
		{visibility, "postgresql/v12/visibility"},
	} {
		if err := createDatabase(ctx, rawURL, db.cfg.DatabaseName); err != nil {
			return stores{}, err
		}
		if err := migrate(db.cfg, db.schema, tlog); err != nil {
			return stores{}, err
		}
	}
	return stores{main: main, visibility: visibility, shards: postgresShards}, nil
}

// postgresConfig is Temporal's pgx-based plugin pointed at database db on
// the server, user and TLS mode of u.
func postgresConfig(u *url.URL, db string) *config.SQL {
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	sslmode := u.Query().Get("sslmode")
	if sslmode == "" {
		sslmode = "disable"
	}
	return &config.SQL{
		PluginName:        postgresql.PluginNamePGX,
		DatabaseName:      db,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          password,
		ConnectAttributes: map[string]string{"sslmode": sslmode},
		MaxConns:          20,
		MaxIdleConns:      20,
	}
}

// createDatabase creates db on the server of rawURL unless it exists.
func createDatabase(ctx context.Context, rawURL, db string) error {
	conn, err := store.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("connect to postgres to create %s: %w", db, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", db, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another start
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}

// migrate brings cfg's database to the newest version of the embedded
// schema (e.g. "postgresql/v12/temporal") with Temporal's own schema tool:
// version tables first, then every versioned change not applied yet. It is
// a no-op on an up-to-date database.
func migrate(cfg *config.SQL, schemaName string, tlog log.Logger) error {
	conn, err := sqltool.NewConnection(cfg, tlog)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", cfg.DatabaseName, err)
	}
	defer conn.Close()
	if _, err := conn.ReadSchemaVersion(); err != nil {
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, tlog)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("set up schema versioning in %s: %w", cfg.DatabaseName, err)
		}
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, tlog)
	if err := update.Run(); err != nil {
		return fmt.Errorf("update %s schema in %s: %w", schemaName, cfg.DatabaseName, err)
	}
	return nil
}
