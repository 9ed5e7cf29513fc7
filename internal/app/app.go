// Package app assembles Tidings from its configuration: the store, the one
// send path, the Temporal client, the worker, the event router and the HTTP
// API. Every `tidings` command, the dev stack and the benchmarks build the
// product through it, so what they run is what ships.
//
// Parts are built on first use and kept: a process has one store, one send
// path, one Temporal client and one router, whichever command asked first.
// Close releases what the App built.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/workflows"
)

// ConfigError is a setting or a file it names (templates, the policy file)
// that cannot be used; commands exit 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func badConfig(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// App is Tidings assembled from one configuration.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	metrics *prometheus.Registry
	// journeys are the journeys' parameters, read from the policy file
	// on first use.
	journeys workflows.Settings
	// spend is the signup sources' monthly spend, from the policy file on
	// first use.
	spend reports.SpendPerMonth

	store      *store.Store
	templates  *templates.Set
	topics     map[string]delivery.Topic
	send       *delivery.Service
	temporal   client.Client
	sdkMetrics client.MetricsHandler
	router     *router.Router
	mgmt       *mgmt.Service
	health     health
	closers    []func()
}

// New returns the application for cfg; nothing is opened until asked for.
// log receives every part's logs (Temporal's SDK included).
func New(cfg config.Config, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &App{cfg: cfg, log: log, metrics: reg}
}

// Config is the configuration the App was built from.
func (a *App) Config() config.Config { return a.cfg }

// Log is the process's logger.
func (a *App) Log() *slog.Logger { return a.log }

// Metrics is the registry every part reports to and /metrics serves.
func (a *App) Metrics() *prometheus.Registry { return a.metrics }

// Signer signs and checks the links in messages (unsubscribe, preferences,
// survey answers).
func (a *App) Signer() *token.Signer { return token.NewSigner(a.cfg.SigningSecret) }

// Company is the sender as templates show it. Its website is the
// company's own (TIDINGS_SITE_URL), never the API's public URL, which
// serves only Tidings' own pages.
func (a *App) Company() templates.Company {
	return templates.Company{Name: a.cfg.MailFromName, PostalAddress: a.cfg.PostalAddress, Website: a.cfg.SiteURL}
}

// JourneySettings are the journeys' parameters in force: the journeys:
// section of TIDINGS_POLICY_FILE, whose survey triggers, when it names
// them, win over TIDINGS_SURVEY_TRIGGERS. What neither sets keeps its
// default. A broken section is a ConfigError with its line and column.
func (a *App) JourneySettings() (workflows.Settings, error) {
	if a.journeys != nil {
		return a.journeys, nil
	}
	s := workflows.Settings{}
	data, err := a.policyFile()
	if err != nil {
		return nil, err
	}
	if data != nil {
		if s, err = workflows.ParseSettings(data, a.cfg.PolicyFile); err != nil {
			return nil, badConfig(err)
		}
	}
	if _, set := s[workflows.Survey]["triggers"]; !set && len(a.cfg.SurveyTriggers) > 0 {
		s.Set(workflows.Survey, "triggers", a.cfg.SurveyTriggers)
	}
	a.journeys = s
	return s, nil
}

// SetJourneySettings replaces them before the router is built (the demo
// shortens the survey's waits).
func (a *App) SetJourneySettings(s workflows.Settings) { a.journeys = s }

// AcquisitionSpend is each signup source's monthly spend, the
// acquisition: section of TIDINGS_POLICY_FILE, by which the acquisition
// report shows CAC when no cost is given; empty without one. A broken
// section is a ConfigError with its line and column.
func (a *App) AcquisitionSpend() (reports.SpendPerMonth, error) {
	if a.spend != nil {
		return a.spend, nil
	}
	data, err := a.policyFile()
	if err != nil || data == nil {
		return nil, err
	}
	s, err := reports.ParseSpendPerMonth(data, a.cfg.PolicyFile)
	if err != nil {
		return nil, badConfig(err)
	}
	a.spend = s
	return s, nil
}

// SetAcquisitionSpend replaces it before the API is built (the demo
// company's sources have a spend of their own).
func (a *App) SetAcquisitionSpend(s reports.SpendPerMonth) { a.spend = s }

// policyFile reads TIDINGS_POLICY_FILE; nil when none is set.
func (a *App) policyFile() ([]byte, error) {
	if a.cfg.PolicyFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(a.cfg.PolicyFile)
	if err != nil {
		return nil, badConfig(fmt.Errorf("TIDINGS_POLICY_FILE: %w", err))
	}
	return data, nil
}

// onClose registers fn to run on Close, last registered first.
func (a *App) onClose(fn func()) { a.closers = append(a.closers, fn) }

// Close releases everything the App opened: SMTP connections, the Temporal
// client and the database pool, in that order. Parts handed in (UseTemporal)
// stay open.
func (a *App) Close() {
	for _, fn := range slices.Backward(a.closers) {
		fn()
	}
	a.closers = nil
}

// Store opens the database and checks that its schema is the one this
// binary expects (store.ErrSchemaOutdated, store.ErrSchemaNewer). A
// database that does not exist is store.ErrNoDatabase: only `tidings
// migrate up` and `tidings dev` create it.
func (a *App) Store(ctx context.Context) (*store.Store, error) {
	return a.openStore(ctx, func(st *store.Store) error { return st.CheckSchema(ctx) })
}

// StoreAnySchema opens the database without checking its schema (for
// `tidings migrate status`).
func (a *App) StoreAnySchema(ctx context.Context) (*store.Store, error) {
	return a.openStore(ctx, nil)
}

// CreateStore creates the database if it is missing and opens it without
// checking the schema, for `tidings migrate up` and the dev stack, which
// migrate it next.
func (a *App) CreateStore(ctx context.Context) (*store.Store, error) {
	if a.store == nil {
		if err := store.EnsureDatabase(ctx, a.cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("%w (is PostgreSQL running? set TIDINGS_DATABASE_URL)", err)
		}
	}
	return a.openStore(ctx, nil)
}

func (a *App) openStore(ctx context.Context, check func(*store.Store) error) (*store.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	st, err := store.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		if errors.Is(err, store.ErrNoDatabase) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (is PostgreSQL running? set TIDINGS_DATABASE_URL)", err)
	}
	if check != nil {
		if err := check(st); err != nil {
			st.Close()
			return nil, err
		}
	}
	a.store = st
	a.metrics.MustRegister(&storeCollector{store: st})
	a.onClose(func() { st.Close(); a.store = nil })
	return st, nil
}

// Templates loads the templates as every process does at start; a broken
// one is a ConfigError naming its file and line.
func (a *App) Templates() (*templates.Set, error) {
	if a.templates != nil {
		return a.templates, nil
	}
	set, err := templates.Load(templates.Options{
		Dir:            a.cfg.TemplatesDir,
		DefaultLocale:  a.cfg.DefaultLocale,
		MaxSMSSegments: a.cfg.SMSMaxSegments,
	})
	if err != nil {
		return nil, badConfig(err)
	}
	a.templates = set
	return set, nil
}

// Topics are the message topics in force: the built-in ones with
// TIDINGS_POLICY_FILE laid over them. A broken file is a ConfigError with
// its line and column.
func (a *App) Topics() (map[string]delivery.Topic, error) {
	if a.topics != nil {
		return a.topics, nil
	}
	data, err := a.policyFile()
	if err != nil {
		return nil, err
	}
	if data == nil {
		a.topics = delivery.DefaultTopics()
		return a.topics, nil
	}
	t, err := delivery.LoadTopics(data, a.cfg.PolicyFile)
	if err != nil {
		return nil, badConfig(err)
	}
	a.topics = t
	return t, nil
}
