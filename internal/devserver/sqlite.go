package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
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
	}
	return st, nil
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
