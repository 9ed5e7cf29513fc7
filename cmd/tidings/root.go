package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// app is what every command shares: the validated configuration, the logger,
// the standard streams, and the store once a command opens it.
type app struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader

	cfg config.Config
	log *slog.Logger
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
		newSchedulesCmd(a),
		newDevCmd(a),
		newCampaignsCmd(a),
		newReportCmd(a),
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

// openStore connects to the database (creating it if missing) and refuses to
// go on when the schema is not what this binary expects.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	s, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.CheckSchema(ctx); err != nil {
		s.Close()
		if errors.Is(err, store.ErrSchemaOutdated) || errors.Is(err, store.ErrSchemaNewer) {
			return nil, withCode(exitSchema, err)
		}
		return nil, err
	}
	return s, nil
}

// connect opens the database without checking the schema (for migrate).
func (a *app) connect(ctx context.Context) (*store.Store, error) {
	if err := store.EnsureDatabase(ctx, a.cfg.DatabaseURL); err != nil {
		return nil, fmt.Errorf("%w (is PostgreSQL running? set TIDINGS_DATABASE_URL)", err)
	}
	return store.Open(ctx, a.cfg.DatabaseURL)
}

// journeyParams are the configured parameters of journeys that events
// start (which events start a survey follow-up).
func (a *app) journeyParams() workflows.Params {
	return workflows.Params{SurveyTriggers: a.cfg.SurveyTriggers}
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return withCode(exitUsage, cobra.ExactArgs(n)(cmd, args))
	}
}
