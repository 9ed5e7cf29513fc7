package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

func TestTestSendsAreMarkedAndCountInNoReport(t *testing.T) {
	e := newEngagement(t)
	withSendPath(e, nil)
	marketer := e.keyFor("marketer")
	e.customer("C-1", map[string]any{"email": "ada@example.com", "first_name": "Ada"})
	// Ada opted out of marketing: a real send would be skipped, a test is not.
	if r := e.testAPI.send(http.MethodPut, "/v1/customers/C-1/consents/email/marketing", `{"status":"denied","source":"preference_page"}`, "Authorization", "Bearer "+e.key); r.status >= 300 {
		t.Fatal(r)
	}
	src := []byte("name: autumn\naudience: {match: {tags: buyer}}\ntrigger: {event: {type: order_delivered}}\nsteps:\n  - send: {id: hello, template: welcome, topic: marketing}\n")
	sp, err := campaign.Parse(src, "autumn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sp)
	if _, _, err := e.store.ApplyCampaign(t.Context(), "", "event", store.CampaignVersion{Campaign: "autumn", Source: string(src), Spec: raw}); err != nil {
		t.Fatal(err)
	}
	post := func(body string) (reply, mgmt.TestSent) {
		r := e.testAPI.send(http.MethodPost, "/v1/messages/test", body, "Authorization", "Bearer "+marketer)
		var out mgmt.TestSent
		_ = json.Unmarshal(r.body, &out)
		return r, out
	}

	r, sent := post(`{"customer": "C-1", "template": "welcome", "topic": "marketing"}`)
	if r.status != http.StatusCreated || sent.Status != "sent" || sent.Recipient != "ada@example.com" || e.sink.Count() != 1 {
		t.Fatalf("test to the customer: %s", r)
	}
	r, sent = post(`{"customer": "C-1", "campaign": "autumn", "step": "hello"}`)
	if r.status != http.StatusCreated || sent.Status != "sent" || e.sink.Count() != 2 {
		t.Fatalf("a campaign step: %s", r)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE journey = 'test'`); n != 2 {
		t.Errorf("%d test rows in the ledger, want 2", n)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE journey = 'test' AND step = 'campaign/autumn/hello'`); n != 1 {
		t.Errorf("the campaign step's test is not named after it: %d", n)
	}
	rep, err := e.store.CampaignResults(t.Context(), "autumn")
	if err != nil {
		t.Fatal(err)
	}
	for _, arm := range rep.Arms {
		if arm.Sent != 0 {
			t.Errorf("the campaign report counts a test: %+v", arm)
		}
	}

	// Tests count in no cap: after two marketing tests (the daily cap is
	// two), Bo's first real marketing email still goes out.
	e.customer("C-2", map[string]any{"email": "bo@example.com", "first_name": "Bo"})
	for range 2 {
		if r, sent := post(`{"customer": "C-2", "template": "welcome", "topic": "marketing"}`); r.status != http.StatusCreated || sent.Status != "sent" {
			t.Fatalf("test to Bo: %s", r)
		}
	}
	real := e.testAPI.send(http.MethodPost, "/v1/messages", `{"customer": "C-2", "template": "welcome", "topic": "marketing", "idempotency_key": "news-1"}`,
		"Authorization", "Bearer "+e.keyFor("ops"))
	var res struct{ Status, Reason string }
	if json.Unmarshal(real.body, &res) != nil || real.status != http.StatusCreated || res.Status != "sent" || e.sink.Count() != 5 {
		t.Fatalf("Bo's real email after two tests: %s (SMTP got %d), want sent, not capped", real, e.sink.Count())
	}

	for body, field := range map[string]string{
		`{"customer": "C-1", "campaign": "autumn", "step": "bye"}`:         "step",
		`{"customer": "C-1", "campaign": "winter", "step": "hello"}`:       "campaign",
		`{"customer": "C-1", "template": "welcome", "campaign": "autumn"}`: "template",
		`{"template": "welcome", "topic": "marketing"}`:                    "customer",
	} {
		r, _ := post(body)
		if r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != field {
			t.Errorf("%s: %s, want 422 naming %s", body, r, field)
		}
	}
	if e.sink.Count() != 5 {
		t.Errorf("refused tests sent mail: %d", e.sink.Count())
	}
	if got := e.audited("key-marketer"); got != "message.test message.test message.test message.test" {
		t.Errorf("audited: %s", got)
	}
}
