package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// prepareSQLite returns the store for the SQLite file at path, creating it
// with Temporal's schema when it does not exist yet. The schema is written
// to a temporary file that is renamed into place, so an interrupted first
// start never leaves a half-created database behind.
func prepareSQLite(path string) (stores, error) {
	cfg := sqliteConfig(path)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		tmp := path + ".new"
		_ = os.Remove(tmp)
		setup := sqliteConfig(tmp)
		delete(setup.ConnectAttributes, "journal_mode") // one self-contained file to rename
		if err := sqliteschema.SetupSchema(setup); err != nil {
			_ = os.Remove(tmp)
			return stores{}, fmt.Errorf("create temporal schema in %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return stores{}, fmt.Errorf("create %s: %w", path, err)
		}
	} else if err != nil {
		return stores{}, fmt.Errorf("open %s: %w", path, err)
	}
	return stores{main: cfg, shards: 1}, nil
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
