// Package api is Tidings' HTTP face: the JSON API under /v1 (customers,
// events, consents; API-key auth), the public pages customers reach from
// messages (unsubscribe, preferences, survey answers; signed links), the
// OpenAPI document and Prometheus metrics.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/internal/tracking"
	"github.com/tidingsdev/tidings/workflows"
)

// Router routes stored events to journeys and cancels journeys on erasure;
// *router.Router implements it.
type Router interface {
	Concerns(ctx context.Context, customerID string, ev workflows.Event) bool
	Route(ctx context.Context, ids ...int64) ([]int64, error)
	CancelJourneys(ctx context.Context, customerID string) error
}

// Deps is what the server is built from, once, in cmd/tidings.
type Deps struct {
	Store  *store.Store
	Router Router
	Signer *token.Signer
	// Tracking verifies tracked links and open pixels; nil refuses them.
	Tracking *tracking.Signer
	Log      *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics with
	// whatever else the process registered there.
	Registry *prometheus.Registry
	// Mgmt is the management functions the console and the CLI share; nil
	// builds them from Store and Router.
	Mgmt *mgmt.Service
	// Ops answers /healthz and /readyz with the state of every dependency
	// (internal/app); nil means both report the database alone.
	Ops http.Handler
}

// Options tune the server; zero values mean the defaults.
type Options struct {
	// DefaultRegion parses phone numbers written without a country code.
	DefaultRegion string
	// MaxBodyBytes limits request bodies (default 4 MiB); larger ones get 413.
	MaxBodyBytes int64
	// LinkTTL is how long links printed on public pages stay valid (default 90 days).
	LinkTTL time.Duration
	// Dev, when set, is mounted under /dev/ (the development mail and SMS
	// catcher). Never set it in production.
	Dev http.Handler
	// Console, when set, is mounted under /console/ (internal/console).
	Console http.Handler
	// Topics are the message topics customers choose among on the
	// preference page; nil means delivery.DefaultTopics().
	Topics map[string]delivery.Topic
	// InsecureCookies drops Secure from the session cookie, for plain-HTTP
	// development only (the public URL is http://).
	InsecureCookies bool
	// PublicURL is the base URL providers reach the API at
	// (TIDINGS_PUBLIC_URL); signed callbacks are checked against it.
	PublicURL string
	// Webhooks configures the bounce, complaint and SMS receivers.
	Webhooks Webhooks
	// SurveyTriggers are the survey journey's triggers in force (event type
	// → nps or csat), for the NPS and CSAT reports; nil means the defaults.
	SurveyTriggers map[string]string
	// AcquisitionSpend is each signup source's monthly spend (the policy
	// file's acquisition: section), the acquisition report's costs when a
	// request gives none.
	AcquisitionSpend reports.SpendPerMonth
	// Now is the clock (tests pin it); default time.Now.
	Now func() time.Time
}

// Server serves the API. Build it with New; it is an http.Handler.
type Server struct {
	store    *store.Store
	router   Router
	ops      http.Handler
	signer   *token.Signer
	tracking *tracking.Signer
	log      *slog.Logger
	opt      Options
	mux      *http.ServeMux
	metrics  *httpMetrics
	mgmt     *mgmt.Service
	auth     *access.Authenticator
}

// New builds the server and registers every route.
func New(d Deps, opt Options) *Server {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 4 << 20
	}
	if opt.LinkTTL <= 0 {
		opt.LinkTTL = 90 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Mgmt == nil {
		d.Mgmt = mgmt.New(mgmt.Deps{Store: d.Store, Journeys: d.Router, Log: d.Log}, mgmt.Options{Now: opt.Now})
	}
	s := &Server{store: d.Store, router: d.Router, ops: d.Ops, signer: d.Signer, tracking: d.Tracking, log: d.Log, opt: opt, mux: http.NewServeMux(), mgmt: d.Mgmt}
	s.auth = access.NewAuthenticator(d.Mgmt, access.Cookies{Insecure: opt.InsecureCookies})
	s.metrics = newHTTPMetrics(d.Registry, d.Store)
	for _, rt := range s.routes() {
		h := rt.handler
		if rt.level != access.Public {
			h = s.authorize(rt.level, h)
		}
		s.mux.Handle(rt.pattern, s.serve(h))
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	if opt.Dev != nil {
		s.mux.Handle("/dev/", opt.Dev)
	}
	if opt.Console != nil {
		s.mux.Handle("/console/", http.MaxBytesHandler(opt.Console, opt.MaxBodyBytes))
		s.mux.Handle("GET /console", opt.Console)
	}
	return s
}

// route is one documented endpoint: its ServeMux pattern ("METHOD /path"),
// the access level it needs (access.Public for none), and its handler.
type route struct {
	pattern string
	level   access.Level
	handler handlerFunc
}

// handlerFunc is an endpoint that returns its error instead of writing it,
// so every error leaves as the same JSON shape.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes is the table of every endpoint; the OpenAPI document lists exactly
// these (a test keeps them in step).
func (s *Server) routes() []route {
	const (
		public     = access.Public
		read       = access.Read
		ingest     = access.Ingest
		market     = access.Market
		operate    = access.Operate
		administer = access.Administer
	)
	return []route{
		{"GET /v1/openapi.json", public, s.openAPI},
		{"GET /healthz", public, s.health},
		{"GET /readyz", public, s.health},

		{"POST /v1/session", public, s.login},
		{"GET /v1/session", read, s.getSession},
		{"DELETE /v1/session", read, s.logout},
		{"PUT /v1/session/password", read, s.changePassword},

		{"GET /v1/users", administer, s.listUsers},
		{"POST /v1/users", administer, s.createUser},
		{"GET /v1/users/{user}", administer, s.getUser},
		{"PATCH /v1/users/{user}", administer, s.changeUser},
		{"POST /v1/users/{user}/reset-password", administer, s.resetPassword},

		{"GET /v1/apikeys", administer, s.listKeys},
		{"POST /v1/apikeys", administer, s.createKey},
		{"PATCH /v1/apikeys/{key}", administer, s.scopeKey},
		{"DELETE /v1/apikeys/{key}", administer, s.revokeKey},

		{"GET /v1/audit", administer, s.auditLog},

		{"POST /v1/customers", ingest, s.upsertCustomer},
		{"PUT /v1/customers/{external_id}", ingest, s.putCustomer},
		{"POST /v1/customers/batch", ingest, s.upsertCustomers},
		{"GET /v1/customers", read, s.searchCustomers},
		{"GET /v1/customers/{customer}", read, s.getCustomer},
		{"GET /v1/customers/{customer}/timeline", read, s.customerTimeline},
		{"GET /v1/customers/{customer}/journeys", read, s.customerJourneys},
		{"DELETE /v1/customers/{customer}", administer, s.eraseCustomer},
		{"GET /v1/customers/{customer}/export", administer, s.exportCustomer},
		{"GET /v1/customers/{customer}/consents", read, s.getConsents},
		{"PUT /v1/customers/{customer}/consents/{channel}/{topic}", ingest, s.setConsent},

		{"POST /v1/events", ingest, s.postEvent},
		{"POST /v1/events/batch", ingest, s.postEvents},

		{"GET /v1/campaigns", read, s.listCampaigns},
		{"POST /v1/campaigns", market, s.applyCampaign},
		{"POST /v1/campaigns/validate", market, s.validateCampaign},
		{"POST /v1/campaigns/dry-run", market, s.dryRunCampaign},
		{"GET /v1/campaigns/{name}", read, s.getCampaign},
		{"POST /v1/campaigns/{name}/pause", market, s.campaignStatus("pause")},
		{"POST /v1/campaigns/{name}/resume", market, s.campaignStatus("resume")},
		{"POST /v1/campaigns/{name}/archive", market, s.campaignStatus("archive")},
		{"GET /v1/campaigns/{name}/results", read, s.campaignResults},

		{"GET /v1/segments", read, s.listSegments},
		{"POST /v1/segments", market, s.saveSegment},
		{"POST /v1/segments/preview", read, s.previewSegment},
		{"POST /v1/segments/refresh-scores", market, s.refreshScores},
		{"GET /v1/segments/{name}", read, s.getSegment},
		{"DELETE /v1/segments/{name}", market, s.deleteSegment},
		{"GET /v1/segments/{name}/preview", read, s.previewSegment},

		{"GET /v1/schedules", read, s.listSchedules},
		{"POST /v1/schedules", operate, s.applySchedules},
		{"GET /v1/schedules/{id}", read, s.getSchedule},
		{"DELETE /v1/schedules/{id}", operate, s.scheduleAction("delete")},
		{"POST /v1/schedules/{id}/pause", operate, s.scheduleAction("pause")},
		{"POST /v1/schedules/{id}/unpause", operate, s.scheduleAction("unpause")},
		{"POST /v1/schedules/{id}/trigger", operate, s.scheduleAction("trigger")},

		{"GET /v1/journeys", read, s.listJourneys},

		{"GET /v1/templates", read, s.listTemplates},
		{"GET /v1/templates/check", read, s.checkTemplates},
		{"POST /v1/templates/{name}/preview", read, s.previewTemplate},

		{"GET /v1/reports/nps", read, s.npsReport},
		{"GET /v1/reports/csat", read, s.csatReport},
		{"GET /v1/reports/campaigns/{name}", read, s.campaignReport},
		{"GET /v1/reports/retention", read, s.retentionReport},
		{"GET /v1/reports/churn", read, s.churnReport},
		{"GET /v1/reports/lifecycle", read, s.lifecycleReport},
		{"GET /v1/reports/lifecycle/history", read, s.lifecycleHistory},
		{"GET /v1/reports/clv", read, s.clvReport},
		{"GET /v1/reports/rfm", read, s.rfmReport},
		{"GET /v1/reports/deliverability", read, s.deliverabilityReport},
		{"GET /v1/reports/journeys/{name}", read, s.journeyReport},
		{"GET /v1/reports/campaigns/{name}/funnel", read, s.campaignFunnel},
		{"GET /v1/reports/journeys/{name}/funnel", read, s.journeyFunnel},
		{"GET /v1/reports/acquisition", read, s.acquisitionReport},

		{"GET /u/{token}", public, s.unsubscribePage},
		{"POST /u/{token}", public, s.unsubscribe},
		{"GET /p/{token}", public, s.preferencesPage},
		{"POST /p/{token}", public, s.savePreferences},
		{"GET /s/{token}", public, s.surveyPage},
		{"POST /s/{token}", public, s.surveySubmit},
		{"GET /seed/{kind}", public, s.seedPage},

		{"GET /v1/messages", read, s.listMessages},
		{"POST /v1/messages", operate, s.sendMessage},
		{"POST /v1/messages/test", market, s.sendTest},
		{"GET /v1/messages/{id}", read, s.getMessage},

		{"GET /v1/coupons/{code}", read, s.getCoupon},
		{"POST /v1/coupons/{code}/redeem", ingest, s.redeemCoupon},
		{"GET /v1/coupon-pools/{pool}", read, s.getPool},
		{"POST /v1/coupon-pools/{pool}/codes", ingest, s.importCoupons},

		{"GET /v1/suppressions", read, s.listSuppressions},
		{"POST /v1/suppressions", operate, s.addSuppression},
		{"GET /v1/suppressions/{channel}/{address}", read, s.getSuppression},
		{"DELETE /v1/suppressions/{channel}/{address}", operate, s.removeSuppression},

		{"POST /v1/webhooks/bounces/dsn", operate, s.bounceDSN},
		{"POST /v1/webhooks/bounces/{provider}", public, s.bounceWebhook},
		{"POST /v1/webhooks/sms/status", public, s.smsStatus},
		{"POST /v1/webhooks/sms/inbound", public, s.smsInbound},

		{"GET /c/{token}", public, s.click},
		{"GET /o/{file}", public, s.open},
	}
}

// ServeHTTP logs and counts every request. Paths no route matches get a JSON
// 404 or 405 under /v1 instead of ServeMux's plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	info := &requestInfo{}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	_, pattern := s.mux.Handler(r)
	if pattern == "" && strings.HasPrefix(r.URL.Path, "/v1/") {
		probe := &statusRecorder{ResponseWriter: discardWriter{h: http.Header{}}, status: http.StatusOK}
		s.mux.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			rec.Header().Set("Allow", probe.Header().Get("Allow"))
			writeError(rec, errorf(http.StatusMethodNotAllowed, codeMethod, "", "%s is not allowed on %s", r.Method, r.URL.Path))
		} else {
			writeError(rec, errorf(http.StatusNotFound, codeNotFound, "", "no endpoint %s %s; see /v1/openapi.json", r.Method, r.URL.Path))
		}
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	label := pattern
	if label == "" {
		label = "unmatched"
	}
	s.metrics.observe(label, r.Method, rec.status, time.Since(start))
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
		slog.String("method", r.Method), slog.String("route", label), slog.String("path", logPath(r)),
		slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", time.Since(start)), slog.String("remote", clientIP(r)),
		slog.String("actor", info.actor))
}

// logPath keeps signed tokens out of the logs: a token in a log is a link
// anyone with log access could use.
func logPath(r *http.Request) string {
	p := r.URL.Path
	for _, pre := range []string{"/u/", "/p/", "/s/", "/c/", "/o/"} {
		if strings.HasPrefix(p, pre) {
			return pre + "…"
		}
	}
	return p
}

// serve adapts a handlerFunc: body size limit, and errors as JSON.
func (s *Server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
		if err := h(w, r); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", logPath(r), "err", err)
			}
			writeError(w, err)
		}
	})
}

// ListenAndServe serves on addr until ctx ends, then stops accepting
// connections and gives requests in flight up to grace to finish.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, grace time.Duration, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return Serve(ctx, ln, h, grace, log)
}

// Serve is ListenAndServe on an existing listener (tests use port 0).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("HTTP API listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("HTTP API shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if s.ops != nil {
		s.ops.ServeHTTP(w, r)
		return nil
	}
	if err := s.store.Pool().Ping(r.Context()); err != nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "", "database unreachable")
	}
	return answer(w, http.StatusOK, map[string]string{"status": "ok"})
}

// statusRecorder remembers the status and size of a response for the log and
// metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// clientIP is the peer address without its port, recorded as consent evidence.
func clientIP(r *http.Request) string { return access.ClientIP(r) }
