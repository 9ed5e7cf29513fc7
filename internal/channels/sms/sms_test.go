package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/sms"
)

// provider is a small Twilio-compatible Messages API.
type provider struct {
	mu         sync.Mutex
	received   []map[string]string
	throttle   int    // answer this many requests with 429 first
	retryAfter string // the 429's Retry-After header (default "7")
	requests   int
	invalidTo  string
	// accepted and throttled are when each accepted and each throttled
	// request arrived.
	accepted, throttled []time.Time
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	w.Header().Set("Content-Type", "application/json")
	user, pass, ok := r.BasicAuth()
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code": 20404, "message": "The requested resource was not found", "status": 404}`)
		return
	}
	if !ok || user != "AC123" || pass != "token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code": 20003, "message": "Authenticate", "status": 401}`)
		return
	}
	if p.throttle > 0 {
		p.throttle--
		p.throttled = append(p.throttled, time.Now())
		ra := p.retryAfter
		if ra == "" {
			ra = "7"
		}
		if ra != "-" {
			w.Header().Set("Retry-After", ra)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"code": 20429, "message": "Too Many Requests", "status": 429}`)
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("To") == p.invalidTo {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"code": 21211, "message": "The 'To' number %s is not a valid phone number.", "status": 400}`, p.invalidTo)
		return
	}
	got := map[string]string{}
	for k := range r.PostForm {
		got[k] = r.PostForm.Get(k)
	}
	p.received = append(p.received, got)
	p.accepted = append(p.accepted, time.Now())
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": fmt.Sprintf("SM%032d", len(p.received)), "status": "queued", "to": got["To"],
		"error_code": nil, "error_message": nil,
	})
}

func newClient(t *testing.T, p *provider, from string) *sms.Client {
	t.Helper()
	return newClientWith(t, p, sms.Config{From: from, StatusCallback: "https://shop.example/hooks/sms"})
}

// newClientWith serves p and points a client with cfg's other settings at it.
func newClientWith(t *testing.T, p *provider, cfg sms.Config) *sms.Client {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.AccountSID, cfg.AuthToken = srv.URL, "AC123", "token"
	if cfg.From == "" {
		cfg.From = "+15017122661"
	}
	c, err := sms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendPostsTheForm(t *testing.T) {
	p := &provider{}
	c := newClient(t, p, "+15017122661")
	r, err := c.Send(context.Background(), sms.Message{To: "+8613812345678", Body: "你好，小明！生日快乐 🎂"})
	if err != nil {
		t.Fatal(err)
	}
	if r.SID != fmt.Sprintf("SM%032d", 1) || r.Status != "queued" {
		t.Errorf("receipt %+v", r)
	}
	want := map[string]string{"To": "+8613812345678", "From": "+15017122661", "Body": "你好，小明！生日快乐 🎂", "StatusCallback": "https://shop.example/hooks/sms"}
	if fmt.Sprint(p.received[0]) != fmt.Sprint(want) {
		t.Errorf("provider got %v, want %v", p.received[0], want)
	}

	mg := newClient(t, p, "MG9752274e9e519418a7406176694466fa")
	if _, err := mg.Send(context.Background(), sms.Message{To: "+886912345678", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got := p.received[1]; got["MessagingServiceSid"] != "MG9752274e9e519418a7406176694466fa" || got["From"] != "" {
		t.Errorf("messaging service send posted %v", got)
	}
}

// TestThrottledBeyondMaxWaitIsTemporary: a Retry-After longer than the
// client may wait comes back at once as a temporary error carrying it, and
// the client does not ask the provider again before it has passed.
func TestThrottledBeyondMaxWaitIsTemporary(t *testing.T) {
	p := &provider{throttle: 1}
	c := newClientWith(t, p, sms.Config{MaxWait: time.Second})
	start := time.Now()
	_, err := c.Send(context.Background(), sms.Message{To: "+14155552671", Body: "hi"})
	var e *sms.Error
	if !errors.As(err, &e) || e.Permanent() || e.RetryAfter() != 7*time.Second || e.HTTPStatus != 429 {
		t.Fatalf("got %v, want a temporary error asking to retry after 7s", err)
	}
	_, err = c.Send(context.Background(), sms.Message{To: "+14155552672", Body: "hi"})
	if !errors.As(err, &e) || e.Permanent() || e.RetryAfter() < 5*time.Second {
		t.Fatalf("a send during the provider's pause gave %v, want a temporary error naming the rest of the pause", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("sends waited %s for a pause longer than MaxWait", time.Since(start))
	}
	if p.requests != 1 || len(p.received) != 0 {
		t.Errorf("provider got %d requests and accepted %d messages, want 1 and 0", p.requests, len(p.received))
	}
}

// TestThrottledWaitsAsAskedThenSends: a 429 with Retry-After: 1 holds
// every request of the account back for a second, and then each message
// goes out once, from the first Send call.
func TestThrottledWaitsAsAskedThenSends(t *testing.T) {
	for _, ra := range []string{"1", "-"} { // "-": no Retry-After, the client's own backoff
		t.Run("Retry-After "+ra, func(t *testing.T) {
			p := &provider{throttle: 1, retryAfter: ra}
			c := newClientWith(t, p, sms.Config{})
			var wg sync.WaitGroup
			errs := make(chan error, 5)
			for i := range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Stagger so the throttled request is the first.
					time.Sleep(time.Duration(i) * 20 * time.Millisecond)
					_, err := c.Send(context.Background(), sms.Message{To: fmt.Sprintf("+1415555267%d", i), Body: "hi"})
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("send: %v", err)
				}
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.received) != 5 || len(p.throttled) != 1 {
				t.Fatalf("provider accepted %d and throttled %d requests, want 5 and 1", len(p.received), len(p.throttled))
			}
			for _, at := range p.accepted {
				if d := at.Sub(p.throttled[0]); d < 900*time.Millisecond {
					t.Errorf("a request arrived %s after the 429, before the second the provider asked for", d)
				}
			}
		})
	}
}

// TestRateIsRespected: with Rate 20, a burst of 30 messages reaches the
// provider spaced out, never more than the rate in any second.
func TestRateIsRespected(t *testing.T) {
	p := &provider{}
	c := newClientWith(t, p, sms.Config{Rate: 20})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Send(context.Background(), sms.Message{To: fmt.Sprintf("+141555526%02d", i), Body: "hi"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.accepted) != 30 {
		t.Fatalf("provider accepted %d messages, want 30", len(p.accepted))
	}
	for i, a := range p.accepted {
		n := 0
		for _, b := range p.accepted[i:] {
			if b.Sub(a) < time.Second {
				n++
			}
		}
		if n > 22 { // 20 a second, and two for scheduling jitter
			t.Errorf("%d requests within a second from request %d, rate 20", n, i)
		}
	}
	if span := p.accepted[29].Sub(p.accepted[0]); span < 1300*time.Millisecond {
		t.Errorf("30 requests at 20 a second took %s, want about 1.45 s", span)
	}
}

func TestServerErrorIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream timeout", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, err := sms.New(sms.Config{BaseURL: srv.URL, AccountSID: "AC123", AuthToken: "token", From: "+15017122661"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), sms.Message{To: "+14155552671", Body: "hi"})
	var e *sms.Error
	if !errors.As(err, &e) || e.Permanent() || e.HTTPStatus != 502 {
		t.Fatalf("got %v, want a temporary 502 error", err)
	}
}

func TestInvalidNumberIsPermanentHardBounce(t *testing.T) {
	p := &provider{invalidTo: "+14155552671"}
	c := newClient(t, p, "+15017122661")
	_, err := c.Send(context.Background(), sms.Message{To: "+14155552671", Body: "hi"})
	var e *sms.Error
	if !errors.As(err, &e) || !e.Permanent() || !e.HardBounce() || e.Code != sms.CodeInvalidNumber {
		t.Fatalf("got %v, want a permanent hard bounce with code 21211", err)
	}

	// A number that is not E.164 never reaches the provider.
	before := p.requests
	_, err = c.Send(context.Background(), sms.Message{To: "0912-345-678", Body: "hi"})
	if !errors.As(err, &e) || !e.Permanent() || e.HTTPStatus != 0 {
		t.Fatalf("got %v, want a permanent error before any request", err)
	}
	if p.requests != before {
		t.Errorf("an invalid number was posted to the provider")
	}
}

func TestUnauthorizedIsPermanent(t *testing.T) {
	p := &provider{}
	srv := httptest.NewServer(p)
	defer srv.Close()
	c, err := sms.New(sms.Config{BaseURL: srv.URL, AccountSID: "AC123", AuthToken: "wrong", From: "+15017122661"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), sms.Message{To: "+14155552671", Body: "hi"})
	var e *sms.Error
	if !errors.As(err, &e) || !e.Permanent() || e.HardBounce() || e.Code != 20003 {
		t.Fatalf("got %v, want a permanent 401 with code 20003 that does not suppress the number", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []sms.Config{
		{BaseURL: "ftp://x", AccountSID: "AC1", From: "+15017122661"},
		{BaseURL: "https://api.example.com", AccountSID: "", From: "+15017122661"},
		{BaseURL: "https://api.example.com", AccountSID: "AC1", From: "12345"},
	} {
		if _, err := sms.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}
