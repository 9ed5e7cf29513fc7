// Command tidings is the customer-journey engine: one binary for the worker,
// the HTTP API, the embedded development stack and every operator command.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

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
	if err != nil {
		fmt.Fprintln(a.stderr, "error:", err)
		return exitCode(err)
	}
	return 0
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
