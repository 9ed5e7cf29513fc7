// Package sms sends text messages through a Twilio-compatible REST API
// (POST /2010-04-01/Accounts/{sid}/Messages.json). The base URL is
// configurable, so any compatible provider, or a local one in development,
// plugs in without code changes.
package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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

// Client talks to the provider. It is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	http     *http.Client
}

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
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	return &Client{cfg: cfg, endpoint: endpoint, http: hc}, nil
}

// Send posts one message. Numbers that are not valid E.164 are refused
// before any request is made.
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
