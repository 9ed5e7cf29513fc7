package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	assembly "github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/store"
)

// app is what every command shares: the validated configuration, the logger,
// the standard streams, and the application's parts, built from the
// configuration when a command first asks for one and closed when it ends.
type app struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader

	cfg   config.Config
	log   *slog.Logger
	parts *assembly.App
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "tidings",
		Short: "Customer journeys that send the right message at the right moment",
		Long: `Tidings runs customer journeys: welcome series, birthday greetings, win-back
sequences, satisfaction surveys, recurring care messages and marketer-defined
campaigns, each delivered once, with consent, in the customer's own time zone.

Settings come from TIDINGS_* environment variables; every one has a flag of
the same name that overrides it (see "tidings --help" flags below).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(a.getenv, cmd.Flags())
			if err != nil {
				return withCode(exitUsage, err)
			}
			a.cfg = cfg
			a.log = newLogger(a.stderr, cfg)
			a.parts = assembly.New(cfg, a.log)
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(exitUsage, err) })
	config.RegisterFlags(root.PersistentFlags())
	root.AddCommand(
		newMigrateCmd(a),
		newCustomersCmd(a),
		newEventsCmd(a),
		newTemplatesCmd(a),
		newSegmentsCmd(a),
		newWorkerCmd(a),
		newAPICmd(a),
		newAPIKeysCmd(a),
		newUsersCmd(a),
		newAuditCmd(a),
		newSchedulesCmd(a),
		newJourneysCmd(a),
		newDevCmd(a),
		newCampaignsCmd(a),
		newReportCmd(a),
		newMessagesCmd(a),
		newSuppressionsCmd(a),
		newCouponsCmd(a),
		newVersionCmd(a),
		newBenchCmd(a),
	)
	return root
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// store opens the database once per command and checks its schema; it is
// closed when the command ends.
func (a *app) store(ctx context.Context) (*store.Store, error) { return a.parts.Store(ctx) }

// withStore is a RunE that runs fn with the store open.
func (a *app) withStore(fn func(ctx context.Context, st *store.Store, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		st, err := a.store(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), st, args)
	}
}

// withTemporal is a RunE that runs fn with the Temporal client dialled.
func (a *app) withTemporal(fn func(ctx context.Context, c client.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := a.parts.Temporal(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), c, args)
	}
}

// runRouter drains the outbox until the command ends. The returned func
// stops it and waits, so the store is never closed under a drain.
func runRouter(ctx context.Context, r *router.Router, every time.Duration) (stop func()) {
	return goUntilStop(ctx, func(ctx context.Context) { r.Run(ctx, every) })
}

// goUntilStop runs fn in the background; the returned func cancels its
// context and waits for it to return.
func goUntilStop(ctx context.Context, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return func() { cancel(); <-done }
}

// ignoreStop turns the error of a wait that SIGTERM or Ctrl-C ended into a
// clean exit.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// timeFlag is an RFC 3339 time flag: its name, what was given, and where
// it goes.
type timeFlag struct {
	name, value string
	dst         *time.Time
}

// readTimes parses time flags into their destinations, leaving those not
// given alone; a malformed one is bad usage.
func readTimes(flags ...timeFlag) error {
	for _, f := range flags {
		if f.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.value)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--%s %q: want RFC 3339, e.g. 2026-05-01T09:00:00+08:00", f.name, f.value))
		}
		*f.dst = t
	}
	return nil
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return withCode(exitUsage, cobra.ExactArgs(n)(cmd, args))
	}
}
