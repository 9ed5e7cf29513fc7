package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
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

// TestSeedTestsGoToTheSeedsAndTheirLinksChangeNoConsent: a test to seed
// addresses goes to each seed (not the customer), rendered with the
// customer's profile and locale; its unsubscribe link opens a page saying
// it was a test, and following it leaves the customer's consent as it was;
// a suppressed seed is refused; bad seeds are a 422 naming the seed.
func TestSeedTestsGoToTheSeedsAndTheirLinksChangeNoConsent(t *testing.T) {
	e := newEngagement(t)
	withSendPath(e, nil)
	marketer := e.keyFor("marketer")
	ada := e.customer("C-1", map[string]any{"email": "ada@example.com", "first_name": "Ada", "locale": "zh-TW"})
	if r := e.testAPI.send(http.MethodPut, "/v1/customers/C-1/consents/email/marketing", `{"status":"granted","source":"signup_form"}`, "Authorization", "Bearer "+e.key); r.status >= 300 {
		t.Fatal(r)
	}
	if r := e.testAPI.send(http.MethodPost, "/v1/suppressions", `{"channel": "email", "address": "blocked@example.com"}`, "Authorization", "Bearer "+e.key); r.status != http.StatusCreated {
		t.Fatal(r)
	}
	post := func(body string) (reply, mgmt.TestSent) {
		r := e.testAPI.send(http.MethodPost, "/v1/messages/test", body, "Authorization", "Bearer "+marketer)
		var out mgmt.TestSent
		_ = json.Unmarshal(r.body, &out)
		return r, out
	}

	r, sent := post(`{"customer": "C-1", "template": "welcome", "topic": "marketing",
		"seeds": ["qa@example.com", "inbox@example.net", "qa@example.com", "blocked@example.com"]}`)
	if r.status != http.StatusCreated || len(sent.Seeds) != 3 {
		t.Fatalf("test to seeds: %s, want one result per distinct seed", r)
	}
	for i, want := range []struct{ to, status string }{{"qa@example.com", "sent"}, {"inbox@example.net", "sent"}, {"blocked@example.com", "skipped"}} {
		if got := sent.Seeds[i]; got.Recipient != want.to || got.Status != want.status {
			t.Errorf("seed %d: %+v, want %s %s", i, got, want.to, want.status)
		}
	}
	if !strings.HasPrefix(sent.Seeds[2].Reason, "suppressed") {
		t.Errorf("the suppressed seed: %+v, want the suppression named", sent.Seeds[2])
	}
	msgs := e.sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d emails arrived, want one per seed not suppressed", len(msgs))
	}
	for _, m := range msgs {
		if len(m.To) != 1 || m.To[0] == "ada@example.com" {
			t.Errorf("a seed's copy went to %v", m.To)
		}
	}
	mail := parseMail(t, msgs[0].Data)
	if !strings.Contains(mail.Text, "Ada") || mail.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("seed copy: want Ada's profile and no one-click unsubscribe header:\n%v\n%s", mail.Header, mail.Text)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(e.http.URL) + `/seed/unsubscribe\?lang=zh-TW`).FindString(mail.Text)
	if link == "" {
		t.Fatalf("the seed copy's unsubscribe link is not the test page in Ada's locale:\n%s", mail.Text)
	}
	status, page := e.get(strings.TrimPrefix(link, e.http.URL))
	if status != http.StatusOK || !strings.Contains(page, "這是一則測試訊息") || !strings.Contains(page, "沒有人被取消訂閱") {
		t.Errorf("GET %s: %d\n%s", link, status, page)
	}
	var consent string
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT status FROM consents WHERE customer_id = $1 AND channel = 'email' AND topic = 'marketing'`, ada).Scan(&consent); err != nil || consent != "granted" {
		t.Errorf("Ada's marketing consent after the seed's link: %q, %v; want granted", consent, err)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE journey = 'test' AND recipient IN ('qa@example.com', 'inbox@example.net', 'blocked@example.com')`); n != 3 {
		t.Errorf("%d test rows addressed to the seeds, want 3", n)
	}

	many := make([]string, mgmt.MaxSeeds+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprintf("s%d@example.com", i))
	}
	for body, field := range map[string]string{
		`{"customer": "C-1", "template": "welcome", "topic": "marketing", "seeds": ["qa@example.com", "not an address"]}`: "seeds[1]",
		`{"customer": "C-1", "template": "winback_last_chance", "topic": "marketing", "channel": "sms", "seeds": ["12"]}`: "seeds[0]",
		`{"customer": "C-1", "template": "welcome", "topic": "marketing", "seeds": [` + strings.Join(many, ",") + `]}`:    "seeds",
		`{"template": "welcome", "topic": "marketing", "seeds": ["qa@example.com"]}`:                                      "customer",
	} {
		if r, _ := post(body); r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != field {
			t.Errorf("%s: %s, want 422 naming %s", body, r, field)
		}
	}
	if e.sink.Count() != 2 {
		t.Errorf("refused tests sent mail: %d", e.sink.Count())
	}
	if status, _ := e.get("/seed/nonsense"); status != http.StatusNotFound {
		t.Errorf("GET /seed/nonsense: %d, want 404", status)
	}
}
