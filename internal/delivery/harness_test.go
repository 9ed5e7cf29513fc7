package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

const publicURL = "https://tidings.example"

// harness is the whole send path wired to real components: PostgreSQL, the
// real templates, an in-process SMTP server and an HTTP server speaking the
// Twilio Messages API.
type harness struct {
	svc    *delivery.Service
	store  *store.Store
	sink   *smtpsink.Sink
	texts  *textProvider
	signer *token.Signer
	clock  *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// textProvider accepts every message and keeps it, unless told to throttle
// (429) or to fail for a number (503), as a provider does.
type textProvider struct {
	mu   sync.Mutex
	sent []textMsg
	// throttle is how many requests to answer 429 (Retry-After: 1) first.
	throttle int
	// down lists numbers the provider answers 503 for.
	down map[string]bool
}

type textMsg struct{ To, Body string }

func (p *textProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p.mu.Lock()
	if p.throttle > 0 || p.down[r.PostForm.Get("To")] {
		status := http.StatusServiceUnavailable
		if p.throttle > 0 {
			p.throttle--
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", "1")
		}
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20000 + status, "message": http.StatusText(status), "status": status})
		return
	}
	p.sent = append(p.sent, textMsg{r.PostForm.Get("To"), r.PostForm.Get("Body")})
	n := len(p.sent)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%d", n), "status": "queued"})
}

func (p *textProvider) Sent() []textMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]textMsg(nil), p.sent...)
}

var (
	loadOnce sync.Once
	loaded   *templates.Set
	loadErr  error
)

// realTemplates loads the built-in templates once per test binary.
func realTemplates(tb testing.TB) *templates.Set {
	tb.Helper()
	loadOnce.Do(func() {
		loaded, loadErr = templates.Load(templates.Options{DefaultLocale: "en", MaxSMSSegments: 3})
	})
	if loadErr != nil {
		tb.Fatalf("load templates: %v", loadErr)
	}
	return loaded
}

func newHarness(tb testing.TB, mutate func(*delivery.Options)) *harness {
	tb.Helper()
	st, _ := testdb.New(tb)
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sink.Close() })
	mailer, err := email.New(email.Config{URL: sink.URL(), From: "hello@harbourpine.example", FromName: "Harbour & Pine", Connections: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mailer.Close() })
	texts := &textProvider{}
	srv := httptest.NewServer(texts)
	tb.Cleanup(srv.Close)
	texter, err := sms.New(sms.Config{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "t", From: "+15017122661"})
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{store: st, sink: sink, texts: texts, signer: token.NewSigner("test-secret-0123456789"),
		clock: &clock{t: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)}}
	opt := delivery.Options{
		QuietHours: "21:00-09:00", DefaultLocale: "en", PublicURL: publicURL,
		UnsubscribeMailto: "unsubscribe@harbourpine.example",
		Company:           templates.Company{Name: "Harbour & Pine", PostalAddress: "1 Harbour Road, Hong Kong", Website: "https://harbourpine.example"},
		Signer:            h.signer, Now: h.clock.Now,
	}
	if mutate != nil {
		mutate(&opt)
	}
	h.svc, err = delivery.New(st, realTemplates(tb), mailer, texter, opt)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// customer stores a customer and returns its ID.
func (h *harness) customer(tb testing.TB, ext, locale, zone, mail, phone string) string {
	tb.Helper()
	first, last := "Ann", "Lee"
	if locale != "en" {
		first, last = "芳", "王"
	}
	in := store.CustomerInput{ExternalID: ext, Locale: &locale, TimeZone: &zone, FirstName: &first, LastName: &last}
	if mail != "" {
		in.Email = &mail
	}
	if phone != "" {
		in.Phone = &phone
	}
	c, _, err := h.store.UpsertCustomer(context.Background(), in)
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

func (h *harness) consent(tb testing.TB, customerID, channel, topic, status string) {
	tb.Helper()
	_, err := h.store.SetConsent(context.Background(), store.ConsentChange{CustomerID: customerID, Channel: channel, Topic: topic, Status: status, Source: "test"})
	if err != nil {
		tb.Fatal(err)
	}
}
