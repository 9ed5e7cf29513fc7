package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/internal/tracking"
	"github.com/tidingsdev/tidings/templates"
)

// engagement is the API server beside the real send path: PostgreSQL, the
// built-in templates, the tracker, an in-process SMTP server, and a shop
// site the company's links point at. The API's clock runs an hour after
// the send, so visits count as a person's unless a test says otherwise.
type engagement struct {
	*testAPI
	svc     *delivery.Service
	tracker *tracking.Tracker
	sink    *smtpsink.Sink
	texts   *smsProvider
	shop    *httptest.Server
	shopHit *hits
	now     *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// smsProvider speaks the Twilio Messages API: every message is accepted
// and kept, with a SID of its own.
type smsProvider struct {
	mu   sync.Mutex
	sent []url.Values
}

func (p *smsProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	p.mu.Lock()
	p.sent = append(p.sent, r.PostForm)
	n := len(p.sent)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued"}`, n)
}

func (p *smsProvider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

type hits struct {
	mu    sync.Mutex
	paths []string
}

func (h *hits) add(p string) { h.mu.Lock(); h.paths = append(h.paths, p); h.mu.Unlock() }
func (h *hits) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.paths...)
}

func newEngagement(t *testing.T, opts ...apiOption) *engagement {
	t.Helper()
	clk := &testClock{t: time.Now().Add(time.Hour)}
	e := &engagement{now: clk, shopHit: &hits{}}
	opts = append([]apiOption{func(o *Options) { o.Now = clk.Now }}, opts...)
	e.testAPI = newAPI(t, false, opts...)
	e.shop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.shopHit.add(r.URL.RequestURI())
		_, _ = io.WriteString(w, "<html><body>Harbour &amp; Pine shop</body></html>")
	}))
	t.Cleanup(e.shop.Close)
	sink, mailer, set := startMail(t)
	e.sink = sink
	e.texts = &smsProvider{}
	smsSrv := httptest.NewServer(e.texts)
	t.Cleanup(smsSrv.Close)
	texter, err := sms.New(sms.Config{BaseURL: smsSrv.URL, AccountSID: "AC1", AuthToken: "twilio-token", From: "+15017122661"})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.opt.PublicURL = e.http.URL
	e.tracker = tracking.New(tracking.NewSigner("test-secret-at-least-16"), e.http.URL, e.store, tracking.Options{FlushEvery: 10 * time.Millisecond})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.tracker.Close(ctx)
	})
	e.svc, err = delivery.New(e.store, set, mailer, texter, delivery.Options{
		DefaultLocale: "en", PublicURL: e.http.URL, UnsubscribeMailto: "unsubscribe@harbourpine.example",
		Company: templates.Company{Name: "Harbour & Pine", PostalAddress: "1 Harbour Road, Hong Kong", Website: e.shop.URL + "/spring?utm_source=email"},
		Signer:  token.NewSigner("test-secret-at-least-16"), Tracker: e.tracker,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// startMail starts an in-process SMTP server and a mailer relaying to it,
// and loads the built-in templates: what a send path needs to deliver.
func startMail(t *testing.T) (*smtpsink.Sink, *email.Mailer, *templates.Set) {
	t.Helper()
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	mailer, err := email.New(email.Config{URL: sink.URL(), From: "hello@harbourpine.example", FromName: "Harbour & Pine"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mailer.Close() })
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return sink, mailer, set
}

// send sends one message through the send path and waits until its content
// is stored, returning the ledger ID and the email as it arrived.
func (e *engagement) send(t *testing.T, customerID, template, topic string, vars map[string]any) (string, parsedMail) {
	t.Helper()
	before := e.sink.Count()
	res, err := e.svc.Send(t.Context(), delivery.Request{
		CustomerID: customerID, Journey: "campaign/spring", Step: "offer:a", Channel: delivery.Email, Template: template,
		Topic: topic, Data: vars, IdempotencyKey: "test/" + customerID + "/" + template + "/" + topic,
	})
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("send %s: %+v, %v", template, res, err)
	}
	if e.sink.Count() != before+1 {
		t.Fatalf("the SMTP server got %d messages, want 1", e.sink.Count()-before)
	}
	msgs := e.sink.Messages()
	m := parseMail(t, msgs[len(msgs)-1].Data)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := e.store.MessageContentOf(t.Context(), res.MessageID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("content of %s was never stored", res.MessageID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return res.MessageID, m
}

type parsedMail struct {
	Header     mail.Header
	HTML, Text string
}

// parseMail decodes a MIME message as a mail client would.
func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := parsedMail{Header: msg.Header}
	var walk func(ct, cte string, body io.Reader)
	walk = func(ct, cte string, body io.Reader) {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
		if strings.EqualFold(cte, "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, _ := io.ReadAll(body)
		switch mt {
		case "text/html":
			out.HTML = string(b)
		case "text/plain":
			out.Text = string(b)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return out
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// hrefs lists the links of an HTML body, unescaped.
func hrefs(html string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(html, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

// visitor follows redirects like a person's browser.
func visitor(ua string) *http.Client {
	return &http.Client{Transport: uaTransport(ua), Timeout: 10 * time.Second}
}

// noFollow stops at the first response.
func noFollow(ua string) *http.Client {
	return &http.Client{Transport: uaTransport(ua), Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type uaTransport string

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(u))
	return http.DefaultTransport.RoundTrip(r)
}

const safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

func (e *engagement) shopper(t *testing.T, ext string) string {
	t.Helper()
	e.customer(ext, map[string]any{"email": ext + "@example.com", "first_name": "Ann", "time_zone": "Europe/London"})
	c, err := e.store.CustomerByExternalID(t.Context(), ext)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (e *engagement) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClickThroughTheAPIRedirectsOnceRecordedAndBecomesAnEvent(t *testing.T) {
	e := newEngagement(t)
	cust := e.shopper(t, "C-click")
	id, m := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})

	var tracked, kept []string
	for _, h := range hrefs(m.HTML) {
		switch {
		case strings.HasPrefix(h, e.http.URL+"/c/"):
			tracked = append(tracked, h)
		case strings.HasPrefix(h, e.http.URL+"/u/"), strings.HasPrefix(h, e.http.URL+"/p/"):
			kept = append(kept, h)
		default:
			t.Errorf("link %s is neither tracked nor a public page", h)
		}
	}
	if len(tracked) == 0 || len(kept) != 2 {
		t.Fatalf("tracked %d links, kept %d public-page links; want some and 2:\n%s", len(tracked), len(kept), m.HTML)
	}
	if !strings.Contains(m.HTML, e.http.URL+"/o/") {
		t.Errorf("no open pixel in the marketing email")
	}
	if got := m.Header.Get("List-Unsubscribe"); !strings.Contains(got, e.http.URL+"/u/") {
		t.Errorf("List-Unsubscribe = %q, want the unsubscribe page itself", got)
	}

	// A person follows the link: one redirect, to the shop's page as written.
	resp, err := visitor(safari).Get(tracked[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "shop") {
		t.Fatalf("following the link: %d %s", resp.StatusCode, body)
	}
	if got := e.shopHit.all(); len(got) != 1 || got[0] != "/spring?utm_source=email" {
		t.Errorf("the shop saw %v, want one visit of /spring?utm_source=email", got)
	}
	r2, err := noFollow(safari).Get(tracked[0])
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusFound || r2.Header.Get("Location") != e.shop.URL+"/spring?utm_source=email" {
		t.Errorf("second visit: %d to %q, want 302 to the shop", r2.StatusCode, r2.Header.Get("Location"))
	}

	rec, err := e.store.MessageRecordByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Clicks) != 1 || rec.Clicks[0].Clicks != 2 || rec.Clicks[0].Machine || rec.Clicks[0].UserAgent != safari {
		t.Errorf("clicks = %+v, want one person's row counting 2 with the browser's user agent", rec.Clicks)
	}
	evs, err := e.store.CustomerEvents(t.Context(), cust, EventEmailClicked, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d email_clicked events, want 1", len(evs))
	}
	p := evs[0].Properties
	if p["message_id"] != id || p["campaign"] != "spring" || p["step"] != "offer" || p["variant"] != "a" || p["link"] != float64(0) {
		t.Errorf("event properties = %v", p)
	}
	for k, v := range p {
		if s, ok := v.(string); ok && (strings.Contains(s, "http") || strings.Contains(s, "Mozilla")) {
			t.Errorf("event property %s carries %q: URLs and user agents stay out of events", k, s)
		}
	}

	// The pixel: served, recorded once as an open, an email_opened event.
	for range 2 {
		r, err := visitor(safari).Get(pixelURL(t, m.HTML))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/gif" || !bytes.Equal(b, transparentGIF) {
			t.Fatalf("pixel: %d %s %d bytes", r.StatusCode, r.Header.Get("Content-Type"), len(b))
		}
	}
	if n := e.count(t, `SELECT opens FROM message_opens WHERE message_id = $1 AND NOT machine`, id); n != 2 {
		t.Errorf("opens counted %d, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type = 'email_opened' AND customer_id = $1`, cust); n != 1 {
		t.Errorf("%d email_opened events, want 1", n)
	}

	_, metrics := e.get("/metrics")
	for _, outcome := range []string{`outcome="sent"`, `outcome="clicked"`, `outcome="clicked_human"`, `outcome="opened_human"`} {
		want := `tidings_engagement_messages{campaign="spring",channel="email",journey="campaign/spring",` + outcome + `,template="winback_offer",topic="marketing"} 1`
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func pixelURL(t *testing.T, html string) string {
	t.Helper()
	m := regexp.MustCompile(`<img src="([^"]+/o/[^"]+\.gif)"`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no pixel in\n%s", html)
	}
	return m[1]
}

func TestTrackedLinksRefuseToRedirectAnywhereTheMessageDidNotLink(t *testing.T) {
	e := newEngagement(t)
	cust := e.shopper(t, "C-forge")
	id, m := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	var link string
	for _, h := range hrefs(m.HTML) {
		if strings.HasPrefix(h, e.http.URL+"/c/") {
			link = h
			break
		}
	}
	tok := strings.TrimPrefix(link, e.http.URL+"/c/")
	signer := tracking.NewSigner("test-secret-at-least-16")
	other := "8d3c0f2e-1111-4222-8333-944455556666"
	for name, path := range map[string]string{
		"altered token":                          "/c/" + tok[:10] + flip(tok[10]) + tok[11:],
		"truncated token":                        "/c/" + tok[:len(tok)-3],
		"signed with another secret":             "/c/" + tracking.NewSigner("not-the-installation-key").SignClick(id, 0, "https://evil.example/"),
		"a URL the message does not carry":       "/c/" + signer.SignClick(id, 0, "https://evil.example/phish"),
		"a link number the message lacks":        "/c/" + signer.SignClick(id, 9, e.shop.URL+"/spring?utm_source=email"),
		"a message not in the ledger":            "/c/" + signer.SignClick(other, 0, e.shop.URL+"/spring?utm_source=email"),
		"an open token used as a click":          "/c/" + signer.SignOpen(id),
		"a pixel of a message not in the ledger": "/o/" + signer.SignOpen(other) + ".gif",
		"a pixel without .gif":                   "/o/" + signer.SignOpen(id),
	} {
		r, err := noFollow(safari).Get(e.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode < 400 || r.StatusCode >= 500 || r.Header.Get("Location") != "" {
			t.Errorf("%s: %d Location %q, want a 4xx and no redirect", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if n := e.count(t, `SELECT count(*) FROM message_clicks`); n != 0 {
		t.Errorf("%d clicks recorded from refused links", n)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type LIKE 'email_%'`); n != 0 {
		t.Errorf("%d events from refused links", n)
	}
	if len(e.shopHit.all()) != 0 {
		t.Errorf("the shop was visited: %v", e.shopHit.all())
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestScannersAndPrivacyProxiesAreMachineVisitsWithoutEvents(t *testing.T) {
	e := newEngagement(t)
	cust := e.shopper(t, "C-scan")
	id, m := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	sent, err := e.store.MessageByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	// A gateway fetches the link two seconds after delivery, Apple's proxy
	// the pixel.
	e.now.Set(sent.SentAt.Add(2 * time.Second))
	link := ""
	for _, h := range hrefs(m.HTML) {
		if strings.Contains(h, "/c/") {
			link = h
			break
		}
	}
	if r, err := visitor(safari).Get(link); err != nil || r.StatusCode != 200 {
		t.Fatalf("scanner's fetch: %v %v", r, err)
	}
	e.now.Set(sent.SentAt.Add(time.Hour))
	if r, err := visitor("Mozilla/5.0").Get(pixelURL(t, m.HTML)); err != nil || r.StatusCode != 200 {
		t.Fatalf("proxy's fetch: %v %v", r, err)
	}
	rec, err := e.store.MessageRecordByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Clicks) != 1 || !rec.Clicks[0].Machine || rec.Clicks[0].MachineReason != tracking.MachinePrefetch {
		t.Errorf("clicks = %+v, want one machine click (prefetch)", rec.Clicks)
	}
	if len(rec.Opens) != 1 || !rec.Opens[0].Machine || rec.Opens[0].MachineReason != tracking.MachineAppleProxy {
		t.Errorf("opens = %+v, want one machine open (Apple's proxy)", rec.Opens)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type LIKE 'email_%'`); n != 0 {
		t.Errorf("%d events from machine visits, want none", n)
	}
	// The person comes later: a human click of the same link is its own row.
	if r, err := visitor(safari).Get(link); err != nil || r.StatusCode != 200 {
		t.Fatalf("person's click: %v %v", r, err)
	}
	if n := e.count(t, `SELECT count(*) FROM message_clicks WHERE message_id = $1`, id); n != 2 {
		t.Errorf("%d click rows, want a machine's and a person's", n)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type = 'email_clicked'`); n != 1 {
		t.Errorf("%d email_clicked events, want the person's one", n)
	}
}

func TestNothingIsTrackedForACustomerWhoTurnedTrackingOff(t *testing.T) {
	e := newEngagement(t)
	off := e.shopper(t, "C-private")
	if _, err := e.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: off, Channel: "email", Topic: delivery.TopicTracking, Status: store.Denied, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	_, m := e.send(t, off, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	if strings.Contains(m.HTML, "/c/") || strings.Contains(m.HTML, "/o/") {
		t.Errorf("an email to a customer who turned tracking off carries tracking:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, e.shop.URL+"/spring?utm_source=email") {
		t.Errorf("the shop link is missing from the untracked email")
	}

	// A transactional receipt is not tracked for anyone.
	on := e.shopper(t, "C-receipt")
	_, m = e.send(t, on, "winback_offer", delivery.TopicTransactional, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	if strings.Contains(m.HTML, "/c/") || strings.Contains(m.HTML, "/o/") {
		t.Errorf("a transactional email carries tracking")
	}

	// Turning tracking off after the send: the link still leads to the
	// shop, and nothing is recorded.
	later := e.shopper(t, "C-later")
	id, m := e.send(t, later, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	if _, err := e.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: later, Channel: "email", Topic: delivery.TopicTracking, Status: store.Denied, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range hrefs(m.HTML) {
		if strings.Contains(h, "/c/") {
			r, err := visitor(safari).Get(h)
			if err != nil || r.StatusCode != 200 {
				t.Fatalf("link after opting out: %v %v", r, err)
			}
		}
	}
	if n := e.count(t, `SELECT count(*) FROM message_clicks WHERE message_id = $1`, id); n != 0 {
		t.Errorf("%d clicks recorded after the customer turned tracking off", n)
	}
}

func TestThePreferencePageTurnsTrackingOff(t *testing.T) {
	e := newEngagement(t)
	cust := e.shopper(t, "C-prefs")
	page := "/p/" + e.signer.Sign(token.Claims{Purpose: token.Preferences, CustomerID: cust}, time.Now().Add(time.Hour))
	status, body := e.get(page)
	box := `name="email.tracking" value="granted" checked`
	if status != 200 || !strings.Contains(body, box) || !strings.Contains(body, "Privacy") {
		t.Fatalf("preference page: %d, want the privacy box ticked:\n%s", status, body)
	}
	form := url.Values{"email.marketing": {"granted"}, "email.surveys": {"granted"}, "email.care": {"granted"}}
	resp, err := http.PostForm(e.http.URL+page, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(b), box) || !strings.Contains(string(b), `name="email.tracking"`) {
		t.Fatalf("after unticking: %d\n%s", resp.StatusCode, b)
	}
	st, err := e.store.ConsentStatus(t.Context(), cust, "email", delivery.TopicTracking)
	if err != nil || st != store.Denied {
		t.Fatalf("tracking consent = %q %v, want denied", st, err)
	}
	hist, _ := e.store.ConsentHistory(t.Context(), cust)
	if len(hist) != 1 || hist[0].Topic != delivery.TopicTracking || hist[0].Source != sourcePreferencePage {
		t.Errorf("consent history = %+v, want only the tracking change, from the page", hist)
	}
	_, m := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	if strings.Contains(m.HTML, "/c/") || strings.Contains(m.HTML, "/o/") {
		t.Errorf("email after turning tracking off on the page is tracked")
	}
}
