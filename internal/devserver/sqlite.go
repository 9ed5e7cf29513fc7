package devserver

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	_ "modernc.org/sqlite" // the database/sql driver Temporal's SQLite store uses
)

// SQLite files in the data directory: executions, and visibility records
// (what the Temporal UI lists).
const (
	sqliteFile           = "temporal.db"
	sqliteVisibilityFile = "temporal-visibility.db"
)

// prepareSQLite returns the stores for the SQLite files in dir, creating
// them with Temporal's schema when they do not exist yet. Visibility records
// live in a file of their own: each file has its one writing connection, so
// a workflow start's visibility record no longer waits behind the execution
// writes (ingest of a mixed event stream: about 12% more events/s,
// docs/benchmarks.md). A directory created before the split keeps its
// visibility records in temporal.db, where the workflows it lists are.
func prepareSQLite(dir string) (stores, error) {
	execs := filepath.Join(dir, sqliteFile)
	_, err := os.Stat(execs)
	fresh := errors.Is(err, fs.ErrNotExist)
	if err != nil && !fresh {
		return stores{}, fmt.Errorf("open %s: %w", execs, err)
	}
	st := stores{shards: 1}
	if st.main, err = sqliteStore(execs); err != nil {
		return stores{}, err
	}
	vis := filepath.Join(dir, sqliteVisibilityFile)
	if _, err := os.Stat(vis); fresh || err == nil {
		if st.visibility, err = sqliteStore(vis); err != nil {
			return stores{}, err
		}
	} else {
		vis = execs
	}
	if err := trimVisibilityIndexes(vis); err != nil {
		return stores{}, err
	}
	return st, nil
}

// listedBy are the visibility indexes kept: those behind the lists the
// Temporal UI and CLI show (newest first, by workflow ID, type, status,
// task queue, start or execution time) and the server's own queries of
// schedules. Temporal's SQLite schema indexes every filterable column, 58
// indexes in all, and every workflow's start and close writes each of them;
// on the one connection of the embedded server that made a journey's
// visibility record cost more than the journey's start. A filter on a
// dropped column (a custom search attribute, history length) still answers,
// by reading the table instead of an index.
var listedBy = []string{
	"default_idx", "by_execution_time", "by_workflow_id", "by_workflow_type",
	"by_status", "by_task_queue", "by_temporal_namespace_division",
	"by_temporal_scheduled_by_id", "by_temporal_scheduled_start_time",
	"by_temporal_schedule_paused",
}

// trimVisibilityIndexes drops the visibility indexes not in listedBy from
// the SQLite file at path, which holds Temporal's visibility schema. It runs
// at every start, so a data directory created before keeps up.
func trimVisibilityIndexes(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout%3D10000")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	drop, err := unlistedIndexes(db)
	if err != nil {
		return fmt.Errorf("list visibility indexes in %s: %w", path, err)
	}
	for _, name := range drop {
		// Names come from sqlite_master, not from input.
		if _, err := db.Exec(`DROP INDEX IF EXISTS "` + name + `"`); err != nil {
			return fmt.Errorf("drop visibility index %s in %s: %w", name, path, err)
		}
	}
	return nil
}

// unlistedIndexes names the visibility indexes that are not in listedBy.
func unlistedIndexes(db *sql.DB) ([]string, error) {
	rows, err := db.Query(`SELECT name FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if !slices.Contains(listedBy, name) {
			names = append(names, name)
		}
	}
	return names, rows.Err()
}

// sqliteStore returns the store for the SQLite file at path, creating it
// with Temporal's schema when it does not exist yet. The schema is written
// to a temporary file that is renamed into place, so an interrupted first
// start never leaves a half-created database behind.
func sqliteStore(path string) (*config.SQL, error) {
	cfg := sqliteConfig(path)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		tmp := path + ".new"
		_ = os.Remove(tmp)
		setup := sqliteConfig(tmp)
		delete(setup.ConnectAttributes, "journal_mode") // one self-contained file to rename
		if err := sqliteschema.SetupSchema(setup); err != nil {
			_ = os.Remove(tmp)
			return nil, fmt.Errorf("create temporal schema in %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return cfg, nil
}

// sqliteConfig opens path in WAL mode: readers (the UI, visibility queries)
// no longer block the writer, and with synchronous=NORMAL a commit survives
// the process being killed (only a power cut can lose the last commits,
// which is fine for a dev machine). busy_timeout makes a connection wait
// for the write lock instead of failing with "database is locked".
func sqliteConfig(path string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
		// One connection: with more, concurrent write transactions fail
		// with SQLITE_BUSY inside the server (measured: errors and half
		// the throughput with 4), which busy_timeout cannot resolve.
		MaxConns:     1,
		MaxIdleConns: 1,
	}
}
