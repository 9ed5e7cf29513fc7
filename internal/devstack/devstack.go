// Package devstack runs everything `tidings dev` starts in one process: the
// database schema, an embedded durable Temporal server with its Web UI, the
// mail and SMS catcher, the worker, the outbox router, the HTTP API with the
// catcher's pages, the default schedules and, on request, the demo company.
// The application itself is assembled by internal/app from the
// configuration, pointed at the stack's catcher and Temporal server, so the
// dev command and its tests run what production runs.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/catcher"
	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/console"
	"github.com/tidingsdev/tidings/internal/demo"
	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/schedules"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/worker"
)

// Defaults of the dev stack's own listeners (the API's address comes from
// TIDINGS_API_ADDR).
const (
	DefaultTemporalPort = devserver.DefaultFrontendPort
	DefaultUIPort       = 8233
	DefaultSMTPAddr     = "127.0.0.1:1025"
	// CatcherPath is where the catcher's pages are mounted on the API.
	CatcherPath = "/dev"
	// apiKeyFile keeps the dev API key in the data dir across restarts.
	apiKeyFile = "api-key"
)

// Options configure Start.
type Options struct {
	// Config is the application's configuration. Its database is created
	// and migrated when missing; mail goes to the catcher unless SMTPAddr is
	// empty, SMS go to the catcher unless KeepSMSBaseURL, and links point at
	// the stack's API unless KeepPublicURL, and the company's website is the
	// demo shop page on it unless KeepSiteURL.
	Config         config.Config
	KeepSMSBaseURL bool
	KeepPublicURL  bool
	KeepSiteURL    bool
	// DataDir holds Temporal's SQLite file and the dev API key.
	DataDir string
	// Persistence is devserver.SQLite (default) or devserver.Postgres, which
	// keeps Temporal's data in databases beside DatabaseURL's.
	Persistence string
	// TemporalPort and UIPort: 0 picks a free port; NoUI turns the Web UI
	// off.
	TemporalPort, UIPort int
	NoUI                 bool
	// SMTPAddr is where the catcher's SMTP server listens ("" when mail goes
	// to a real server instead).
	SMTPAddr string
	Log      *slog.Logger
}

// Stack is a started dev stack: store, catcher, API listener, Temporal.
// Run starts the rest and blocks; Close releases everything.
type Stack struct {
	opt      Options
	app      *app.App
	store    *store.Store
	inbox    *catcher.Inbox
	smtp     *catcher.SMTPServer
	apiLn    net.Listener
	temporal *devserver.Server
	client   client.Client
	apiKey   string
	// consoleLink signs the dev admin in to the console, once.
	consoleLink string
	log         *slog.Logger
}

// Start migrates the database, opens the catcher and the API listener, and
// starts the embedded Temporal server. On error everything started is
// stopped again.
func Start(ctx context.Context, opt Options) (_ *Stack, err error) {
	if opt.Log == nil {
		return nil, errors.New("devstack: Log is required")
	}
	if opt.TemporalPort == 0 {
		opt.TemporalPort = devserver.AnyPort
	}
	if opt.UIPort == 0 {
		opt.UIPort = devserver.AnyPort
	}
	if opt.DataDir == "" {
		opt.DataDir = devserver.DefaultDataDir
	}
	s := &Stack{opt: opt, log: opt.Log, inbox: catcher.NewInbox(0)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(opt.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if opt.SMTPAddr != "" {
		if s.smtp, err = catcher.ListenSMTP(opt.SMTPAddr, s.inbox, opt.Log); err != nil {
			return nil, fmt.Errorf("mail catcher: %w (set --smtp-addr or TIDINGS_SMTP_URL)", err)
		}
	}
	cfg := opt.Config
	if s.apiLn, err = net.Listen("tcp", cfg.APIAddr); err != nil {
		return nil, fmt.Errorf("HTTP API: listen on %s: %w (set TIDINGS_API_ADDR)", cfg.APIAddr, err)
	}
	if s.smtp != nil {
		cfg.SMTPURL = s.SMTPURL()
	}
	if !opt.KeepSMSBaseURL {
		cfg.SMSBaseURL = s.SMSBaseURL()
	}
	if !opt.KeepPublicURL {
		cfg.PublicURL = s.APIURL()
	}
	if !opt.KeepSiteURL {
		cfg.SiteURL = s.APIURL() + demo.ShopPath
	}
	s.app = app.New(cfg, opt.Log)
	if s.store, err = s.app.CreateStore(ctx); err != nil {
		return nil, err
	}
	if _, err := s.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if s.apiKey, err = ensureAPIKey(ctx, s.store, filepath.Join(opt.DataDir, apiKeyFile)); err != nil {
		return nil, err
	}
	uiPort := opt.UIPort
	if opt.NoUI {
		uiPort = 0
	}
	s.temporal, err = devserver.Start(ctx, devserver.Options{
		DataDir: opt.DataDir, Persistence: opt.Persistence, PostgresURL: cfg.DatabaseURL,
		FrontendPort: opt.TemporalPort, UIPort: uiPort, Namespace: cfg.TemporalNamespace, Logger: opt.Log,
	})
	if err != nil {
		return nil, err
	}
	co := s.temporal.ClientOptions()
	co.Logger = app.TemporalLogger(opt.Log)
	s.client, err = client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("connect to the embedded Temporal server: %w", err)
	}
	s.app.UseTemporal(s.client)
	s.app.UseTemporalUI(s.temporal.UIURL())
	return s, nil
}

// IsCatcher reports whether smtpURL names the catcher's SMTP address, as
// the default TIDINGS_SMTP_URL does: mail then stays in the catcher even
// when the setting was given explicitly.
func IsCatcher(smtpURL, catcherAddr string) bool {
	u, err := url.Parse(smtpURL)
	return err == nil && catcherAddr != "" && u.Host == catcherAddr
}

// ensureAPIKey returns the dev API key kept in path, creating a new one when
// the file is missing or its key is not in this database.
func ensureAPIKey(ctx context.Context, st *store.Store, path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		if _, err := st.AuthenticateAPIKey(ctx, secret); err == nil {
			return secret, nil
		}
	}
	_, secret, err := st.CreateAPIKey(ctx, "tidings dev")
	if err != nil {
		return "", fmt.Errorf("create the dev API key: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the dev API key in %s: %w", path, err)
	}
	return secret, nil
}

// Store is the application database.
func (s *Stack) Store() *store.Store { return s.store }

// Client is a client of the embedded Temporal server.
func (s *Stack) Client() client.Client { return s.client }

// Inbox holds every caught message.
func (s *Stack) Inbox() *catcher.Inbox { return s.inbox }

// APIKey is the dev API key (also in DataDir/api-key).
func (s *Stack) APIKey() string { return s.apiKey }

// APIURL is the HTTP API's base URL.
func (s *Stack) APIURL() string { return "http://" + s.apiLn.Addr().String() }

// CatcherURL is the page listing caught mail and SMS.
func (s *Stack) CatcherURL() string { return s.APIURL() + CatcherPath + "/" }

// SMTPURL is the catcher's SMTP URL for the send path, "" when there is no
// SMTP catcher.
func (s *Stack) SMTPURL() string {
	if s.smtp == nil {
		return ""
	}
	return "smtp://" + s.smtp.Addr() + "?tls=none"
}

// SMSBaseURL is the catcher's Twilio-compatible endpoint for the SMS client.
func (s *Stack) SMSBaseURL() string { return s.APIURL() + CatcherPath + "/sms" }

// TemporalAddress is the embedded frontend's host:port.
func (s *Stack) TemporalAddress() string { return s.temporal.FrontendHostPort() }

// App is the application the stack runs, assembled from Options.Config
// pointed at the stack's catcher and Temporal server.
func (s *Stack) App() *app.App { return s.app }

// RunOptions are what Run needs beyond the stack itself.
type RunOptions struct {
	Worker worker.Options
	// OutboxInterval is how often unrouted events are retried (default 2s).
	OutboxInterval time.Duration
	// Demo, when set, loads the demo company and runs its scenario once
	// everything is up; its journeys get the demo's shortened waits.
	Demo *demo.Options
	// Out receives the banner that describes the stack for the newcomer,
	// once everything listens, and the demo's progress.
	Out io.Writer
}

// Run starts the worker, the outbox router, the default schedules and the
// HTTP API, writes the banner, runs the demo when asked, and serves until
// ctx ends; then it stops taking work and returns once everything stopped.
// Call Close afterwards.
func (s *Stack) Run(ctx context.Context, ro RunOptions) error {
	if ro.Out == nil {
		ro.Out = io.Discard
	}
	if ro.OutboxInterval <= 0 {
		ro.OutboxInterval = 2 * time.Second
	}
	queue := s.app.Config().TemporalTaskQueue
	if ro.Demo != nil {
		settings, err := s.app.JourneySettings()
		if err != nil {
			return err
		}
		s.app.SetJourneySettings(demo.Settings(settings))
		spend, err := s.app.AcquisitionSpend()
		if err != nil {
			return err
		}
		s.app.SetAcquisitionSpend(demo.AcquisitionSpend(spend))
	}
	r, err := s.app.Router(ctx)
	if err != nil {
		return err
	}
	w, err := s.app.Worker(ctx, ro.Worker)
	if err != nil {
		return err
	}
	if created, err := schedules.EnsureDefaults(ctx, s.client.ScheduleClient(), queue); err != nil {
		return fmt.Errorf("default schedules: %w", err)
	} else if len(created) > 0 {
		s.log.Info("default schedules created", "schedules", created)
	}
	dev := http.NewServeMux()
	dev.Handle("/dev/", catcher.NewHandler(s.inbox, CatcherPath, s.log))
	dev.Handle(demo.ShopPath, demo.Shop(s.app.Config().MailFromName))
	dev.Handle(demo.ShopPath+"/", demo.Shop(s.app.Config().MailFromName))
	srv, err := s.app.API(ctx, api.Options{Dev: dev})
	if err != nil {
		return err
	}
	if s.consoleLink, err = s.signInLink(ctx); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	fail := func(err error) {
		if err != nil {
			errs <- err
			cancel()
		}
	}
	s.app.SetWorkerState(app.WorkerPolling)
	wg.Go(func() { fail(w.Run(ctx)) })
	wg.Go(func() { r.Run(ctx, ro.OutboxInterval) })
	wg.Go(func() { fail(api.Serve(ctx, s.apiLn, srv, 5*time.Second, s.log)) })
	s.banner(ro)
	if ro.Demo != nil {
		wg.Go(func() {
			d := demo.Deps{Store: s.store, Router: r, Temporal: s.client, TaskQueue: queue, Out: ro.Out}
			if _, err := demo.Run(ctx, d, *ro.Demo); err != nil && ctx.Err() == nil {
				s.log.Error("demo stopped", "err", err)
				fmt.Fprintf(ro.Out, "demo: stopped: %v\n", err)
				return
			}
			if ctx.Err() == nil {
				fmt.Fprintf(ro.Out, "demo: watch the mail arrive at %s\n", s.CatcherURL())
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	close(errs)
	return <-errs
}

// Close stops the Temporal server and the catcher and closes the database.
// State stays in the data dir and the database.
func (s *Stack) Close() {
	if s.app != nil {
		s.app.Close()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.temporal != nil {
		s.temporal.Stop()
	}
	if s.apiLn != nil {
		_ = s.apiLn.Close()
	}
	if s.smtp != nil {
		if err := s.smtp.Close(); err != nil {
			s.log.Warn("close mail catcher", "err", err)
		}
	}
}

// DevAdmin is the console user `tidings dev` signs in with its one-time
// link; it is created on the first start.
const DevAdmin = "admin@example.com"

// signInLink makes sure the dev admin exists and returns a one-time link
// that signs them in to the console, valid for a day.
func (s *Stack) signInLink(ctx context.Context) (string, error) {
	m, err := s.app.Mgmt(ctx)
	if err != nil {
		return "", err
	}
	op := access.Operator("tidings dev")
	if _, err := m.User(ctx, DevAdmin); errors.Is(err, store.ErrNotFound) {
		if _, err := m.CreateUser(ctx, op, mgmt.NewUser{Email: DevAdmin, Role: string(access.Admin)}); err != nil {
			return "", fmt.Errorf("create the dev admin: %w", err)
		}
	} else if err != nil {
		return "", err
	}
	token, err := m.IssueLoginLink(ctx, op, DevAdmin, 24*time.Hour)
	if err != nil {
		return "", fmt.Errorf("sign-in link for the dev admin: %w", err)
	}
	return s.APIURL() + console.Prefix + "login/link?token=" + token, nil
}

// ConsoleLink is the one-time link that signs the dev admin in to the
// console ("" before Run).
func (s *Stack) ConsoleLink() string { return s.consoleLink }

// banner tells the newcomer where everything is.
func (s *Stack) banner(ro RunOptions) {
	cfg := s.app.Config()
	mail := "mail goes to " + redact(cfg.SMTPURL) + " (TIDINGS_SMTP_URL)"
	if s.smtp != nil {
		mail = "SMTP catcher on " + s.smtp.Addr()
	}
	quiet := cfg.QuietHours
	if quiet == "" {
		quiet = "none"
	}
	ui := s.temporal.UIURL()
	if ui == "" {
		ui = "off"
	}
	dataDir, err := filepath.Abs(s.opt.DataDir)
	if err != nil {
		dataDir = s.opt.DataDir
	}
	temporalData := filepath.Join(dataDir, "temporal*.db") + " (SQLite)"
	if s.temporal.Persistence() == devserver.Postgres {
		db := "tidings"
		if u, err := url.Parse(cfg.DatabaseURL); err == nil && strings.Trim(u.Path, "/") != "" {
			db = strings.Trim(u.Path, "/")
		}
		temporalData = fmt.Sprintf("PostgreSQL databases %[1]s_temporal and %[1]s_temporal_visibility", db)
	}
	fmt.Fprintf(ro.Out, `
Tidings dev is running. Ctrl-C stops it; journeys, timers and data survive a restart.

  HTTP API      %[1]s/v1  (OpenAPI %[1]s/v1/openapi.json)
  Console       %[14]s
                (one-time sign-in link for %[15]s, valid 24 hours; restart for a new one)
  API key       %[2]s  (kept in %[3]s)
  Mail and SMS  %[4]s  (%[5]s)
  Quiet hours   %[12]s in each customer's zone (TIDINGS_QUIET_HOURS)
  Temporal UI   %[6]s
  Temporal      %[7]s  namespace %[8]s, task queue %[9]s
  Database      %[10]s
  Data dir      %[13]s
  Temporal data %[11]s

Try it:
  curl -X PUT %[1]s/v1/customers/ada -H 'Authorization: Bearer %[2]s' \
    -d '{"email":"ada@example.com","first_name":"Ada","time_zone":"Europe/London"}'
  curl -X POST %[1]s/v1/events -H 'Authorization: Bearer %[2]s' \
    -d '{"event_id":"signup-ada","customer":"ada","type":"signup"}'

`, s.APIURL(), s.apiKey, filepath.Join(s.opt.DataDir, apiKeyFile), s.CatcherURL(), mail, ui,
		s.TemporalAddress(), s.temporal.Namespace(), cfg.TemporalTaskQueue, redact(cfg.DatabaseURL), temporalData, quiet, dataDir, s.consoleLink, DevAdmin)
}

// redact hides a password in a database URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
