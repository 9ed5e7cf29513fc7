// Package sms sends text messages through a Twilio-compatible REST API
// (POST /2010-04-01/Accounts/{sid}/Messages.json). The base URL is
// configurable, so any compatible provider, or a local one in development,
// plugs in without code changes.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tidingsdev/tidings/internal/validate"
)

// Config is the provider account and sender.
type Config struct {
	// BaseURL is the API root, e.g. https://api.twilio.com.
	BaseURL    string
	AccountSID string
	AuthToken  string
	// From is the sender number in E.164, or a MessagingServiceSid ("MG...").
	From string
	// StatusCallback, when set, is where the provider reports delivery.
	StatusCallback string
	// HTTPClient defaults to a client with a 30-second timeout.
	HTTPClient *http.Client
	// Rate is how many requests a second the provider accepts from this
	// account (Twilio: the sender's messages per second); requests are
	// spaced to stay under it. 0 means no limit of the client's own.
	Rate float64
	// MaxWait is how long one Send may wait for a provider that answered
	// 429 (default 30s): a Retry-After within it is waited out and the
	// request made again; a longer one comes back as a temporary *Error
	// whose RetryAfter the caller's retry honours.
	MaxWait time.Duration
}

// Message is one text to send.
type Message struct {
	To   string
	Body string
}

// Receipt is the provider's acknowledgement.
type Receipt struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// Client talks to the provider. It is safe for concurrent use: every
// request shares the account's rate limit, and a 429 pauses them all, as the
// provider counts the account, not the request.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
	limit    *rate.Limiter // nil without Config.Rate

	mu          sync.Mutex
	pausedUntil time.Time
}

// Backoff after a 429 that did not say how long to wait.
const (
	throttleFirst = time.Second
	throttleMax   = 30 * time.Second
)

// New checks the configuration.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms base url %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.AccountSID == "" {
		return nil, fmt.Errorf("sms account sid is empty")
	}
	if !strings.HasPrefix(cfg.From, "MG") && !validate.IsE164(cfg.From) {
		return nil, fmt.Errorf("sms from %q is neither an E.164 number nor a MessagingServiceSid (MG...)", cfg.From)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("sms rate %v is negative", cfg.Rate)
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	c := &Client{cfg: cfg, endpoint: endpoint, http: hc}
	if cfg.Rate > 0 {
		// A burst of one spaces requests evenly: a provider counting per
		// second never sees more than Rate in any second.
		c.limit = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return c, nil
}

// Send posts one message. Numbers that are not valid E.164 are refused
// before any request is made. A 429 is no answer about the message (the
// provider took nothing), so Send waits as the provider asked and tries
// again, up to MaxWait.
func (c *Client) Send(ctx context.Context, m Message) (Receipt, error) {
	if !validate.IsE164(m.To) {
		return Receipt{}, &Error{Code: CodeInvalidNumber, Message: fmt.Sprintf("%q is not a valid E.164 number", m.To)}
	}
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	if strings.HasPrefix(c.cfg.From, "MG") {
		form.Set("MessagingServiceSid", c.cfg.From)
	} else {
		form.Set("From", c.cfg.From)
	}
	if c.cfg.StatusCallback != "" {
		form.Set("StatusCallback", c.cfg.StatusCallback)
	}
	deadline := time.Now().Add(c.cfg.MaxWait)
	backoff := throttleFirst
	for {
		if err := c.wait(ctx, deadline); err != nil {
			return Receipt{}, err
		}
		r, err := c.post(ctx, form)
		var e *Error
		if !errors.As(err, &e) || e.HTTPStatus != http.StatusTooManyRequests {
			return r, err
		}
		if e.Wait <= 0 {
			e.Wait, backoff = backoff, min(2*backoff, throttleMax)
		}
		c.pause(e.Wait)
		if time.Now().Add(e.Wait).After(deadline) {
			return Receipt{}, e
		}
	}
}

// pause holds every request back for d, unless a longer pause is on.
func (c *Client) pause(d time.Duration) {
	until := time.Now().Add(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}

// wait blocks until the provider's pause is over and the rate allows one
// more request. A pause that outlasts deadline is reported as the
// provider's 429, without asking it again.
func (c *Client) wait(ctx context.Context, deadline time.Time) error {
	c.mu.Lock()
	until := c.pausedUntil
	c.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if until.After(deadline) {
			return &Error{HTTPStatus: http.StatusTooManyRequests, Message: "the provider asked to slow down", Wait: d}
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("wait for the sms provider: %w", ctx.Err())
		}
	}
	if c.limit != nil {
		if err := c.limit.Wait(ctx); err != nil {
			return fmt.Errorf("wait for the sms rate limit: %w", err)
		}
	}
	return nil
}

// post makes one request to the Messages API.
func (c *Client) post(ctx context.Context, form url.Values) (Receipt, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Receipt{}, fmt.Errorf("sms request: %w", err)
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Receipt{}, fmt.Errorf("sms provider unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Receipt{}, fmt.Errorf("read sms provider reply: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		var r struct {
			Receipt
			ErrorCode    *int   `json:"error_code"`
			ErrorMessage string `json:"error_message"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.SID == "" {
			return Receipt{}, fmt.Errorf("sms provider reply %.200q has no message sid", body)
		}
		if r.Status == "failed" || r.Status == "undelivered" {
			code := 0
			if r.ErrorCode != nil {
				code = *r.ErrorCode
			}
			return r.Receipt, &Error{HTTPStatus: resp.StatusCode, Code: code, Message: r.ErrorMessage}
		}
		return r.Receipt, nil
	}
	return Receipt{}, replyError(resp, body)
}

// replyError reads a Twilio error document ({"code", "message", "status"}).
func replyError(resp *http.Response, body []byte) *Error {
	e := &Error{HTTPStatus: resp.StatusCode}
	var doc struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &doc) == nil {
		e.Code, e.Message = doc.Code, doc.Message
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200]
		}
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			e.Wait = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			e.Wait = max(time.Until(t), 0)
		}
	}
	return e
}
