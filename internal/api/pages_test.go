package api

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
)

func (a *testAPI) link(path string, c token.Claims, expires time.Time) string {
	return "/" + path + "/" + a.signer.Sign(c, expires)
}

func TestOneClickUnsubscribeDeniesConsent(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	// Consent was granted at signup; the one-click POST must withdraw it.
	if _, err := a.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: id, Channel: "email", Topic: "marketing", Status: store.Granted, Source: "signup_form"}); err != nil {
		t.Fatal(err)
	}
	u := a.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: "email", Topic: "marketing"}, time.Now().Add(time.Hour))

	// A mail scanner following the link changes nothing.
	if status, body := a.get(u); status != 200 || !strings.Contains(body, `<form method="post"`) {
		t.Fatalf("GET unsubscribe: %d, want a confirmation form:\n%s", status, body)
	}
	if st, _ := a.store.ConsentStatus(t.Context(), id, "email", "marketing"); st != store.Granted {
		t.Fatalf("GET changed consent to %q", st)
	}

	status, body := a.form(u, "List-Unsubscribe=One-Click")
	if status != http.StatusOK {
		t.Fatalf("one-click POST: %d %s", status, body)
	}
	// The send path reads exactly this row before every marketing email.
	st, err := a.store.ConsentStatus(t.Context(), id, "email", "marketing")
	if err != nil || st != store.Denied {
		t.Fatalf("email/marketing consent after one-click = %q, %v; want denied", st, err)
	}
	hist, _ := a.store.ConsentHistory(t.Context(), id)
	if last := hist[len(hist)-1]; last.Source != sourceUnsubscribeLink || last.Actor != actorCustomer {
		t.Errorf("evidence = %+v; want source %s by the customer", last, sourceUnsubscribeLink)
	}
	if st, _ := a.store.ConsentStatus(t.Context(), id, "email", "surveys"); st != "" {
		t.Errorf("unsubscribing from marketing touched surveys: %q", st)
	}
}

func TestTamperedOrExpiredLinksChangeNothing(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	good := a.signer.Sign(token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: "email", Topic: "marketing"}, time.Now().Add(time.Hour))
	other := a.customer("C-2", map[string]any{"email": "bob@example.com"})
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	// Point the link at another customer by rewriting the ID inside it.
	from, to := uuid.MustParse(id), uuid.MustParse(other)
	retargeted := bytes.Replace(raw, from[:], to[:], 1)
	if bytes.Equal(retargeted, raw) {
		t.Fatal("customer ID not found in the token; adjust the test to the token format")
	}
	// Flip a bit of the signature's last byte. (Changing the last character
	// of the text is not enough: its low bits can be padding, which the
	// decoder ignores, and the link would stay valid.)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 1
	lastFlipped := base64.RawURLEncoding.EncodeToString(flipped)
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"signature altered", "/u/" + lastFlipped, 400},
		{"retargeted at another customer", "/u/" + base64.RawURLEncoding.EncodeToString(retargeted), 400},
		{"truncated", "/u/" + good[:len(good)/2], 400},
		{"preferences link used to unsubscribe", "/u/" + a.signer.Sign(token.Claims{Purpose: token.Preferences, CustomerID: id}, time.Now().Add(time.Hour)), 400},
		{"expired", a.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: "email", Topic: "marketing"}, time.Now().Add(-time.Hour)), 410},
		{"expired survey", a.link("s", token.Claims{Purpose: token.Survey, CustomerID: id, MessageID: "6f1f4a52-8d0e-4c43-9f7e-3b1d2c9a7e10", Survey: "nps"}, time.Now().Add(-time.Hour)) + "?score=3", 410},
	} {
		status, body := a.form(tc.path, "List-Unsubscribe=One-Click")
		if status != tc.status || !strings.Contains(body, "<html lang=") {
			t.Errorf("%s: %d, want %d and an error page:\n%s", tc.name, status, tc.status, body)
		}
	}
	for _, c := range []string{id, other} {
		if cs, _ := a.store.Consents(t.Context(), c); len(cs) != 0 {
			t.Errorf("a refused link changed consent of %s: %+v", c, cs)
		}
	}
}

func TestPagesSpeakTheCustomersLanguage(t *testing.T) {
	a := newAPI(t, false)
	for _, tc := range []struct{ locale, lang, want string }{
		{"en", `lang="en"`, "Stop receiving news and offers by email?"},
		{"zh-CN", `lang="zh-Hans-CN"`, "不再通过电子邮件接收新闻和优惠？"},
		{"zh-TW", `lang="zh-Hant-TW"`, "不再透過電子郵件接收新聞與優惠？"},
		{"zh-HK", `lang="zh-Hant-TW"`, "確認取消訂閱"},
	} {
		id := a.customer("C-"+tc.locale, map[string]any{"email": "x@example.com", "locale": tc.locale})
		status, body := a.get(a.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: "email", Topic: "marketing"}, time.Now().Add(time.Hour)))
		if status != 200 || !strings.Contains(body, tc.lang) || !strings.Contains(body, tc.want) {
			t.Errorf("locale %s: %d, want %s and %q:\n%s", tc.locale, status, tc.lang, tc.want, body)
		}
	}
	status, body := a.get("/u/garbage", "Accept-Language", "zh-TW,zh;q=0.9")
	if status != 400 || !strings.Contains(body, "此連結無效") {
		t.Errorf("error page for a zh-TW browser: %d\n%s", status, body)
	}
}

func TestPreferencePageOptsInAndOutPerTopic(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com", "phone": "+14155550132"})
	p := a.link("p", token.Claims{Purpose: token.Preferences, CustomerID: id}, time.Now().Add(time.Hour))
	status, body := a.get(p)
	if status != 200 {
		t.Fatalf("GET preferences: %d", status)
	}
	// Email marketing is opt-out (ticked until denied); SMS marketing is opt-in.
	for _, want := range []string{`name="email.marketing" value="granted" checked`, `name="sms.marketing" value="granted">`, `<label><input`} {
		if !strings.Contains(body, want) {
			t.Errorf("preference page lacks %q:\n%s", want, body)
		}
	}
	form := url.Values{"email.care": {"granted"}, "email.surveys": {"granted"}, "sms.marketing": {"granted"}}
	status, body = a.form(p, form.Encode())
	if status != 200 || !strings.Contains(body, "Your preferences are saved.") {
		t.Fatalf("POST preferences: %d\n%s", status, body)
	}
	for _, tc := range []struct{ channel, topic, want string }{
		{"email", "marketing", store.Denied},
		{"email", "surveys", ""}, // already on by default: no change recorded
		{"sms", "marketing", store.Granted},
		{"sms", "care", store.Denied},
	} {
		if st, _ := a.store.ConsentStatus(t.Context(), id, tc.channel, tc.topic); st != tc.want {
			t.Errorf("%s/%s = %q, want %q", tc.channel, tc.topic, st, tc.want)
		}
	}
	hist, _ := a.store.ConsentHistory(t.Context(), id)
	for _, h := range hist {
		if h.Source != sourcePreferencePage {
			t.Errorf("change recorded with source %q", h.Source)
		}
	}
}

// TestPreferencePageOffersTheConfiguredTopics: a topic from the operator's
// policy file is offered, opt-in (unticked) as the file says.
func TestPreferencePageOffersTheConfiguredTopics(t *testing.T) {
	topics, err := delivery.LoadTopics([]byte("topics:\n  digest:\n    consent: {email: opt-in}\n"), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, false, func(o *Options) { o.Topics = topics })
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	status, body := a.get(a.link("p", token.Claims{Purpose: token.Preferences, CustomerID: id}, time.Now().Add(time.Hour)))
	if status != 200 || !strings.Contains(body, `name="email.digest" value="granted">`) || !strings.Contains(body, `name="email.marketing" value="granted" checked`) {
		t.Fatalf("preference page (%d) does not offer the digest, unticked, beside marketing:\n%s", status, body)
	}
}

// TestReplayedUnsubscribeRecordsOneChange: mail providers and impatient
// customers send the one-click POST again and again, sometimes at once; the
// consent history shows one decision, and a later real change still counts.
func TestReplayedUnsubscribeRecordsOneChange(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	u := a.http.URL + a.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: "email", Topic: "marketing"}, time.Now().Add(time.Hour))
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := a.http.Client().Post(u, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusOK {
			t.Fatalf("a replayed one-click POST answered %d, want 200", st)
		}
	}
	hist, err := a.store.ConsentHistory(t.Context(), id)
	if err != nil || len(hist) != 1 || hist[0].Status != store.Denied {
		t.Fatalf("consent history after 20 replays = %+v (%v), want one denial", hist, err)
	}
	// Ticking the box again on the preference page is a change and is
	// recorded; saving the same choices once more is not.
	p := a.link("p", token.Claims{Purpose: token.Preferences, CustomerID: id}, time.Now().Add(time.Hour))
	for range 2 {
		if status, body := a.form(p, "email.marketing=granted&email.care=granted&email.surveys=granted&email.tracking=granted"); status != 200 {
			t.Fatalf("POST preferences: %d\n%s", status, body)
		}
	}
	if hist, _ = a.store.ConsentHistory(t.Context(), id); len(hist) != 2 || hist[1].Status != store.Granted {
		t.Errorf("history after a re-grant and two identical saves = %+v, want the denial and one grant", hist)
	}
}
