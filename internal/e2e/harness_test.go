// Package e2e runs Tidings end to end the way a user meets it: customers and
// events posted to the real HTTP API, the router, the real worker with every
// journey on a real Temporal server, real PostgreSQL, and mail counted where
// it lands, at an in-process SMTP server (and a Twilio-compatible SMS
// endpoint). The tests assert what a customer or a marketer would notice.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/catcher"
	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/worker"
	"github.com/tidingsdev/tidings/workflows"
)

// temporal is the one Temporal server of the test binary; every test runs on
// its own task queue with its own database, SMTP server and API.
var temporal *temporaltest.TestServer

func TestMain(m *testing.M) {
	flag.Parse()
	if cfg := os.Getenv(workerProcessEnv); cfg != "" {
		os.Exit(runWorkerProcess(cfg))
	}
	code := 0
	func() {
		if !testing.Short() {
			temporal = temporaltest.NewServer()
			defer temporal.Stop()
		}
		code = m.Run()
	}()
	os.Exit(code)
}

// Addresses and identities the environment is configured with.
const (
	careTeam    = "care@shop.example"
	mailFrom    = "hello@shop.example"
	companyName = "Lumen & Co"
	// wait bounds every poll: generous, because the machine may be busy.
	wait = 90 * time.Second
)

// setup tunes one environment.
type setup struct {
	// QuietHours is the send path's quiet hours; "" means the production
	// default 21:00-09:00.
	QuietHours string
	// Clock, when set, is the send path's clock (it decides quiet hours and
	// caps); nil means the real time.
	Clock *clock
	// NoOutbox leaves the outbox to the test: no router drains it in the
	// background.
	NoOutbox bool
	// Temporal, when set, connects to a Temporal server of the test's own
	// (given the environment's database URL); nil means the shared one.
	Temporal func(t *testing.T, dsn string) client.Client
	// Journeys are the journeys' parameters the router starts runs with.
	Journeys workflows.Settings
	// Relay, when set, is the SMTP server the send paths use instead of
	// the environment's own (a sink that injects faults).
	Relay string
}

// env is one isolated Tidings installation: its own database, SMTP server,
// SMS endpoint, API server, router and worker on its own task queue of the
// shared Temporal server.
type env struct {
	t        *testing.T
	setup    setup
	store    *store.Store
	dsn      string
	temporal client.Client
	queue    string
	inbox    *catcher.Inbox
	smtp     *catcher.SMTPServer
	smsURL   string
	api      *httptest.Server
	apiKey   string
	router   *router.Router
	signer   *token.Signer
	set      *templates.Set
	// stopWorker stops the worker newEnv started.
	stopWorker func()
}

var queues atomic.Int64

// newEnv builds an environment and starts its worker; everything stops when
// the test ends.
func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts a Temporal server")
	}
	if s.QuietHours == "" {
		s.QuietHours = "21:00-09:00"
	}
	st, dsn := testdb.New(t)
	tc := temporal.GetDefaultClient()
	if s.Temporal != nil {
		tc = s.Temporal(t, dsn)
	}
	e := &env{
		t: t, setup: s, store: st, dsn: dsn, temporal: tc,
		queue:  fmt.Sprintf("e2e-%d-%s", queues.Add(1), strings.ReplaceAll(t.Name(), "/", "-")),
		inbox:  catcher.NewInbox(5000),
		signer: token.NewSigner(signingSecret),
	}
	log := slog.New(slog.DiscardHandler)
	var err error
	e.smtp, err = catcher.ListenSMTP("127.0.0.1:0", e.inbox, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.smtp.Close() })
	smsSrv := httptest.NewServer(catcher.NewHandler(e.inbox, "/dev", log))
	t.Cleanup(smsSrv.Close)
	e.smsURL = smsSrv.URL + "/dev/sms"

	e.router = router.New(st, e.temporal, router.Options{TaskQueue: e.queue, Journeys: s.Journeys})
	e.api = httptest.NewTLSServer(api.New(api.Deps{Store: st, Router: e.router, Signer: e.signer}, api.Options{}))
	t.Cleanup(e.api.Close)
	_, e.apiKey, err = st.CreateAPIKey(t.Context(), "e2e")
	if err != nil {
		t.Fatal(err)
	}
	e.set, err = templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.NoOutbox {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.router.Run(ctx, 200*time.Millisecond) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	e.stopWorker = e.startWorker(worker.Options{})
	return e
}

// sendPath builds the one send path as `tidings worker` does, over a fresh
// SMTP connection pool, as a newly started process would have.
func (e *env) sendPath() (*delivery.Service, func()) {
	e.t.Helper()
	var now func() time.Time
	if e.setup.Clock != nil {
		now = e.setup.Clock.Now
	}
	svc, closeSend, err := e.sendConfig().build(e.store, e.set, now)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc, closeSend
}

// sendConfig is what a send path is built from, in this process or in a
// worker process of its own (workerproc_test.go).
type sendConfig struct {
	SMTPAddr   string `json:"smtp_addr"`
	SMSURL     string `json:"sms_url"`
	PublicURL  string `json:"public_url"`
	QuietHours string `json:"quiet_hours"`
	Secret     string `json:"secret"`
}

func (e *env) sendConfig() sendConfig {
	relay := e.smtp.Addr()
	if e.setup.Relay != "" {
		relay = e.setup.Relay
	}
	return sendConfig{SMTPAddr: relay, SMSURL: e.smsURL, PublicURL: e.api.URL, QuietHours: e.setup.QuietHours, Secret: signingSecret}
}

func workerSettings() activities.Settings {
	return activities.Settings{CareTeamEmail: careTeam, CouponSecret: []byte("e2e-coupon-secret")}
}

// signingSecret signs the links of every environment.
const signingSecret = "e2e-signing-secret-0123456789abcdef"

// smtpConnections is the SMTP pool of every send path the tests build.
const smtpConnections = 4

func (c sendConfig) build(st *store.Store, set *templates.Set, now func() time.Time) (*delivery.Service, func(), error) {
	mailer, err := email.New(email.Config{
		URL: "smtp://" + c.SMTPAddr + "?tls=none", From: mailFrom, FromName: companyName, Connections: smtpConnections,
	})
	if err != nil {
		return nil, nil, err
	}
	texter, err := sms.New(sms.Config{BaseURL: c.SMSURL, AccountSID: "AC00000000000000000000000000000e2e", AuthToken: "secret", From: "+15005550006"})
	if err != nil {
		return nil, nil, err
	}
	svc, err := delivery.New(st, set, mailer, texter, delivery.Options{
		QuietHours: c.QuietHours, DefaultLocale: "en", PublicURL: c.PublicURL,
		UnsubscribeMailto: "unsubscribe@shop.example",
		Company:           templates.Company{Name: companyName, PostalAddress: "1 Harbour Road, Hong Kong", Website: "https://shop.example"},
		Signer:            token.NewSigner(c.Secret), Now: now, InFlight: smtpConnections,
	})
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { _ = mailer.Close() }, nil
}

// startWorker runs a worker on the environment's task queue, as `tidings
// worker` wires it, and returns a func that stops it (idempotent). The
// worker is also stopped when the test ends.
func (e *env) startWorker(opts worker.Options) (stop func()) {
	e.t.Helper()
	send, closeSend := e.sendPath()
	opts.TaskQueue = e.queue
	w, err := worker.New(e.temporal, worker.Deps{Store: e.store, Sender: send, Settings: workerSettings(), Register: worker.Campaigns(e.store, e.store.Pool(), send)}, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("worker: %v", err)
			}
			closeSend()
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// clock is a send-path clock a test can set; unset it is the real time.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
}

// call sends a JSON request to the API with the environment's API key and
// decodes the answer into out (when not nil). It fails the test on a status
// other than want.
func (e *env) call(method, path string, body any, want int, out any) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.api.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.api.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, got, err)
		}
	}
}

// customer creates a customer through the API and returns its Tidings ID.
func (e *env) customer(in store.CustomerInput) string {
	e.t.Helper()
	var res struct {
		Customer store.Customer `json:"customer"`
	}
	e.call(http.MethodPut, "/v1/customers/"+url.PathEscape(in.ExternalID), in, http.StatusCreated, &res)
	return res.Customer.ID
}

// eventResult is the API's answer to a posted event.
type eventResult struct {
	Duplicate bool `json:"duplicate"`
	Routed    bool `json:"routed"`
}

// event posts one event through the API; want is 201 for a new event and
// 200 for a duplicate.
func (e *env) event(id, customer, typ string, props map[string]any, want int) eventResult {
	e.t.Helper()
	var res eventResult
	e.call(http.MethodPost, "/v1/events", map[string]any{
		"event_id": id, "customer": customer, "type": typ, "properties": props,
	}, want, &res)
	return res
}

// deny withdraws a customer's email consent on topic through the API.
func (e *env) deny(customer, topic string) {
	e.t.Helper()
	e.call(http.MethodPut, "/v1/customers/"+customer+"/consents/email/"+topic,
		map[string]string{"status": "denied", "source": "preference_center"}, http.StatusOK, nil)
}

// mailTo returns the emails caught for addr, oldest first.
func (e *env) mailTo(addr string) []catcher.Message {
	got := e.inbox.Messages(catcher.Filter{Channel: catcher.Email, To: addr})
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	return got
}

// waitMail waits until at least n emails reached addr and returns them,
// oldest first.
func (e *env) waitMail(addr string, n int) []catcher.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), wait)
	defer cancel()
	if _, err := e.inbox.Wait(ctx, catcher.Filter{Channel: catcher.Email, To: addr}, n); err != nil {
		e.t.Fatalf("waited %s for %d emails to %s; got %s", wait, n, addr, subjects(e.mailTo(addr)))
	}
	return e.mailTo(addr)
}

func subjects(ms []catcher.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%q", m.Subject))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// catcherEmail selects every email caught.
var catcherEmail = catcher.Filter{Channel: catcher.Email}

// result waits for a workflow to close and decodes its result.
func (e *env) result(id string, out any) {
	e.t.Helper()
	e.resultWithin(id, wait, out)
}

// resultWithin is result with a longer bound, for big sends.
func (e *env) resultWithin(id string, d time.Duration, out any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), d)
	defer cancel()
	if err := e.temporal.GetWorkflow(ctx, id, "").Get(ctx, out); err != nil {
		e.t.Fatalf("workflow %s did not complete: %v", id, err)
	}
}

// start runs a workflow on the environment's task queue, as a schedule or
// the router would.
func (e *env) start(id, workflowType string, in any) {
	e.t.Helper()
	if _, err := e.temporal.ExecuteWorkflow(e.t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: e.queue}, workflowType, in); err != nil {
		e.t.Fatalf("start %s: %v", id, err)
	}
}

// eventually polls cond until it holds, failing with what it last saw.
func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waited %s for %s; last saw %s", wait, what, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ledger returns the ledger rows of a customer, keyed by idempotency key.
func (e *env) ledger(customerID string) []store.Message {
	e.t.Helper()
	rows, err := e.store.Pool().Query(e.t.Context(), `SELECT id::text, idempotency_key, journey, step, template, topic, status, reason
		FROM messages WHERE customer_id = $1 ORDER BY created_at`, customerID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		var m store.Message
		if err := rows.Scan(&m.ID, &m.IdempotencyKey, &m.Journey, &m.Step, &m.Template, &m.Topic, &m.Status, &m.Reason); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// zones are candidates for a customer whose day is wherever a test needs
// it; together their offsets cover every hour of the day.
var zones = []string{
	"Pacific/Kiritimati", "Pacific/Auckland", "Pacific/Noumea", "Australia/Brisbane", "Asia/Tokyo",
	"Asia/Shanghai", "Asia/Bangkok", "Asia/Dhaka", "Asia/Karachi", "Asia/Dubai", "Europe/Moscow",
	"Africa/Cairo", "Africa/Lagos", "UTC", "Atlantic/Azores", "America/Noronha", "America/Sao_Paulo",
	"America/Halifax", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Anchorage", "Pacific/Honolulu", "Pacific/Pago_Pago",
}

// zoneWhere returns a time zone whose local hour now satisfies ok, so a test
// can place a customer inside (or outside) the sending window.
func zoneWhere(t *testing.T, ok func(hour int) bool) string {
	t.Helper()
	now := time.Now()
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		if ok(now.In(loc).Hour()) {
			return z
		}
	}
	t.Fatalf("no candidate zone has a local hour that fits at %s", now.UTC())
	return ""
}

// awake is a zone where it is now between 10:00 and 19:00, well inside the
// 09:00-21:00 sending window for the length of a test.
func awake(t *testing.T) string {
	return zoneWhere(t, func(h int) bool { return h >= 10 && h < 19 })
}

// asleep is a zone where it is now between 23:00 and 07:00, inside the
// quiet hours.
func asleep(t *testing.T) string {
	return zoneWhere(t, func(h int) bool { return h >= 23 || h < 7 })
}

func ptr(s string) *string { return &s }
