package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// operator is who runs a command: the login at the terminal, with every
// permission (whoever holds the database credentials has them anyway). The
// audit log records it as cli:<login>.
func (a *app) operator() access.Principal {
	login := a.getenv("USER")
	if login == "" {
		login = a.getenv("LOGNAME")
	}
	return access.Operator(login)
}

// manage runs fn with the management functions, as the API and the
// console call them.
func (a *app) manage(fn func(ctx context.Context, m *mgmt.Service, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		m, err := a.parts.Mgmt(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), m, args)
	}
}

// loadFile reads a file a command is given (a campaign, a segment, a
// schedules file); one that cannot be read is bad input (exit 2).
func loadFile(path string) (mgmt.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return mgmt.File{}, withCode(exitUsage, err)
	}
	return mgmt.File{Name: path, Text: data}, nil
}

// manageFile is manage for a command whose first argument is a file: the
// file is read first, so one that cannot be read is exit 2 without a
// database.
func (a *app) manageFile(fn func(ctx context.Context, m *mgmt.Service, f mgmt.File) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		f, err := loadFile(args[0])
		if err != nil {
			return err
		}
		return a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error { return fn(ctx, m, f) })(cmd, args)
	}
}

// mgmtErr gives a management function's refusal the CLI's exit code: bad
// input and unknown names are exit 2.
func mgmtErr(err error) error {
	if _, ok := validate.AsErrors(err); ok || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
		return withCode(exitUsage, err)
	}
	return err
}

// openInput opens the file an import names, or standard input for "-".
func (a *app) openInput(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(a.stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return f, nil
}

// readSecret reads a password from the first line of stdin (--password-stdin).
func (a *app) readSecret() (string, error) {
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", withCode(exitUsage, errors.New("--password-stdin: stdin holds no password"))
	}
	return pw, nil
}
