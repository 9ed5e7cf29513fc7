package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
)

// withSendPath rebuilds the engagement server with management functions
// that send through its real send path, as `tidings api` does, and reach
// Temporal through tc when it is not nil.
func withSendPath(e *engagement, tc client.Client) {
	d := mgmt.Deps{Store: e.store, Journeys: e.srv.router, TaskQueue: taskQueue,
		Send:   func(context.Context) (mgmt.Sender, error) { return e.svc, nil },
		Topics: func() (map[string]delivery.Topic, error) { return delivery.DefaultTopics(), nil }}
	if tc != nil {
		d.Temporal = func(context.Context) (client.Client, error) { return tc, nil }
	}
	m := mgmt.New(d, mgmt.Options{})
	e.srv = New(Deps{Store: e.store, Router: e.srv.router, Signer: e.signer, Tracking: e.srv.tracking, Log: e.srv.log, Mgmt: m}, e.srv.opt)
	e.http.Config.Handler = e.srv
}

func TestTransactionalSendSendsOncePerKey(t *testing.T) {
	e := newEngagement(t)
	withSendPath(e, nil)
	shop := e.keyFor("ops")
	e.customer("C-1", map[string]any{"email": "ada@example.com", "first_name": "Ada"})
	e.customer("C-2", map[string]any{"email": "bounced@example.com", "first_name": "Bo"})
	if r := e.testAPI.send(http.MethodPost, "/v1/suppressions", `{"channel": "email", "address": "bounced@example.com"}`, "Authorization", "Bearer "+e.key); r.status != http.StatusCreated {
		t.Fatal(r)
	}
	post := func(body string) (reply, delivery.Result) {
		r := e.testAPI.send(http.MethodPost, "/v1/messages", body, "Authorization", "Bearer "+shop)
		var res delivery.Result
		_ = json.Unmarshal(r.body, &res)
		return r, res
	}
	order := `{"customer": "C-1", "template": "care", "topic": "transactional", "vars": {}, "idempotency_key": "order-1001"}`
	r, first := post(order)
	if r.status != http.StatusCreated || first.Status != delivery.Sent || first.MessageID == "" || e.sink.Count() != 1 {
		t.Fatalf("first send: %s (SMTP got %d)", r, e.sink.Count())
	}
	r, again := post(order)
	if strings.Contains(string(r.body), "defer_until") {
		t.Errorf("a sent message has no defer_until: %s", r)
	}
	if r.status != http.StatusOK || !again.Duplicate || again.MessageID != first.MessageID || e.sink.Count() != 1 {
		t.Errorf("the same request again: %s (SMTP got %d), want the first outcome and no second email", r, e.sink.Count())
	}
	r = e.testAPI.send(http.MethodGet, "/v1/messages/"+first.MessageID, "", "Authorization", "Bearer "+shop)
	var got struct {
		Message struct{ Journey, Template, Recipient, Status string }
	}
	logged := &got.Message
	if json.Unmarshal(r.body, &got) != nil || logged.Journey != "api" || logged.Template != "care" || logged.Recipient != "ada@example.com" || logged.Status != "sent" {
		t.Errorf("in the ledger: %s", r)
	}

	// A suppressed address is skipped and recorded, not sent.
	r, res := post(`{"customer": "C-2", "template": "care", "topic": "transactional", "idempotency_key": "order-1002"}`)
	if r.status != http.StatusCreated || res.Status != delivery.Skipped || !strings.HasPrefix(res.Reason, delivery.ReasonSuppressed) || e.sink.Count() != 1 {
		t.Errorf("to a suppressed address: %s", r)
	}

	// Bad input names the field and sends nothing.
	for body, field := range map[string]string{
		`{"customer": "C-404", "template": "care", "topic": "transactional", "idempotency_key": "k"}`:        "customer",
		`{"customer": "C-1", "template": "nope", "topic": "transactional", "idempotency_key": "k"}`:          "template",
		`{"customer": "C-1", "template": "care", "topic": "promos", "idempotency_key": "k"}`:                 "topic",
		`{"customer": "C-1", "template": "care", "topic": "transactional"}`:                                  "idempotency_key",
		`{"customer": "C-1", "template": "care", "topic": "care", "channel": "sms", "idempotency_key": "k"}`: "channel",
	} {
		r, _ := post(body)
		if r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != field {
			t.Errorf("%s: %s, want 422 naming %s", body, r, field)
		}
	}
	if e.sink.Count() != 1 || e.count(t, `SELECT count(*) FROM messages WHERE journey = 'api'`) != 2 {
		t.Errorf("after refused requests: %d emails, %d ledger rows", e.sink.Count(), e.count(t, `SELECT count(*) FROM messages WHERE journey = 'api'`))
	}
}
