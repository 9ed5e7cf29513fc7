// Command tidings is the customer-journey engine: one binary for the worker,
// the HTTP API, the embedded development stack and every operator command.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	assembly "github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/store"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &app{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit status; tests
// call it with their own environment and streams.
func run(ctx context.Context, a *app, args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if a.parts != nil {
		a.parts.Close()
	}
	if err == nil {
		return 0
	}
	code := exitCode(err)
	if a.jsonLogs(root) {
		a.errorLog().Error("command failed", "err", err.Error(), "exit_status", code)
	} else {
		fmt.Fprintln(a.stderr, "error:", err)
	}
	return code
}

// jsonLogs reports whether the process was asked for JSON logs, even when
// the configuration as a whole did not load: then every line it writes,
// its last error included, is JSON.
func (a *app) jsonLogs(root *cobra.Command) bool {
	if a.log != nil {
		return a.cfg.LogFormat == "json"
	}
	v := a.getenv("TIDINGS_LOG_FORMAT")
	if f := root.PersistentFlags().Lookup("log-format"); f != nil && f.Changed {
		v = f.Value.String()
	}
	return strings.TrimSpace(v) == "json"
}

// errorLog is the process's logger, or a JSON one when the configuration
// could not be read.
func (a *app) errorLog() *slog.Logger {
	if a.log != nil {
		return a.log
	}
	return slog.New(slog.NewJSONHandler(a.stderr, nil))
}

// Exit codes, documented in the README so scripts can branch on them.
const (
	exitFailure  = 1 // something went wrong while running
	exitUsage    = 2 // bad flags, arguments, configuration or input
	exitRejected = 3 // the command ran, but some input rows were rejected
	exitSchema   = 4 // the database is missing or its schema must be migrated first
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// badCursorIsUsage makes a --after that no listing printed bad input
// (exit 2).
func badCursorIsUsage(err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return withCode(exitUsage, errors.New("--after: not a cursor a listing printed"))
	}
	return err
}

func exitCode(err error) int {
	var ee *exitError
	var bad *assembly.ConfigError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &bad):
		return exitUsage
	case errors.Is(err, store.ErrSchemaOutdated), errors.Is(err, store.ErrSchemaNewer), errors.Is(err, store.ErrNoDatabase):
		return exitSchema
	}
	return exitFailure
}
