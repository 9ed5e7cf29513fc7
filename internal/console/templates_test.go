package console_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestTemplatePreviewInTraditionalChinese: from the template list a
// marketer opens the birthday email in zh-TW, sees its subject and HTML in
// Traditional Chinese at desktop and mobile widths, then the SMS with its
// segment count and encoding.
func TestTemplatePreviewInTraditionalChinese(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	b := e.browser("en")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/templates"), chromedp.WaitVisible(`tr[data-template="birthday"]`))
	e.shots(b, "templates", "en", "zh-CN")
	e.run(b, chromedp.Click(`tr[data-template="birthday"] a[data-locale="zh-TW"]`), chromedp.WaitVisible("#preview", chromedp.ByID))
	if got := e.text(b, "#preview-h"); got != "Rendered in zh-TW" {
		t.Fatalf("preview heading: %q", got)
	}
	subject := e.text(b, "#subject")
	if !containsHan(subject) {
		t.Fatalf("zh-TW subject: %q", subject)
	}
	var frames int
	var html string
	e.run(b,
		chromedp.Evaluate(`document.querySelectorAll("#preview iframe.email").length`, &frames),
		chromedp.Evaluate(`fetch(document.querySelector("iframe.email").src).then(r => r.text())`, &html, awaitPromise))
	if frames != 2 || !containsHan(html) || !strings.Contains(html, "<html") {
		t.Fatalf("%d preview frames; the HTML part: %.200q", frames, html)
	}
	e.shots(b, "template", "en", "zh-CN", "zh-TW")

	e.run(b, chromedp.SetValue("#channel", "sms", chromedp.ByID), chromedp.Click("#show-preview", chromedp.ByID),
		chromedp.WaitVisible("#sms", chromedp.ByID))
	if sms := e.text(b, "#sms"); !containsHan(sms) {
		t.Fatalf("zh-TW SMS: %q", sms)
	}
	if facts := e.text(b, "#sms-facts"); !strings.Contains(facts, "SMS segments") || !strings.Contains(facts, "UCS-2") {
		t.Fatalf("SMS facts: %q", facts)
	}

	// A test send: a mistake is named by its field and sends nothing; the
	// email then reaches the customer named, once, marked as a test.
	if _, _, err := e.store.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "staff-1", Email: testdb.String("mia.staff@example.com"), Locale: testdb.String("zh-TW")}); err != nil {
		t.Fatal(err)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/templates/welcome"), chromedp.WaitVisible("#test-form", chromedp.ByID),
		chromedp.SendKeys("#test-customer", "nobody", chromedp.ByID), chromedp.Click("#send-test", chromedp.ByID),
		chromedp.WaitVisible("#test-errors", chromedp.ByID))
	if got := e.text(b, "#test-errors"); !strings.Contains(got, "Customer") || !strings.Contains(got, "nobody") {
		t.Fatalf("unknown customer: %q", got)
	}
	e.run(b, chromedp.SetValue("#test-customer", "staff-1", chromedp.ByID), chromedp.Click("#send-test", chromedp.ByID),
		chromedp.WaitVisible("#test-sent", chromedp.ByID))
	if got := e.text(b, "#test-sent"); !strings.Contains(got, "Test sent to mia.staff@example.com") {
		t.Fatalf("confirmation: %q", got)
	}
	if n := e.sink.Count(); n != 1 {
		t.Fatalf("%d emails at the SMTP server, want the one test", n)
	}
	var tests int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE journey = 'test' AND template = 'welcome'`).Scan(&tests); err != nil || tests != 1 {
		t.Fatalf("%d test rows in the ledger (%v), want 1", tests, err)
	}

	// To seed addresses instead: a bad one is named by its place and
	// nothing goes out; then each seed gets one copy rendered with the
	// customer's profile, marked as a test, and the page lists them.
	e.run(b, chromedp.SetValue("#test-seeds-input", "qa@example.com\nqa@", chromedp.ByID))
	e.submit(b, "#send-test", "#test-errors")
	if got := e.text(b, "#test-errors"); got != `Seed address 2: "qa@" is not a valid email address` {
		t.Fatalf("bad seed: %q", got)
	}
	if n := e.sink.Count(); n != 1 {
		t.Fatalf("a refused test sent mail: %d emails", n)
	}
	e.run(b, chromedp.SetValue("#test-seeds-input", "qa@example.com, Inbox-Check@Example.NET", chromedp.ByID))
	e.submit(b, "#send-test", "#test-seeds")
	var seeds []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#test-seeds li")].map(li => li.textContent.trim())`, &seeds))
	if !slices.Equal(seeds, []string{"Test sent to qa@example.com. See the message", "Test sent to Inbox-Check@example.net. See the message"}) {
		t.Fatalf("seed outcomes: %q", seeds)
	}
	if got := e.text(b, "#test-sent p"); !strings.Contains(got, "staff-1") {
		t.Fatalf("seed heading: %q", got)
	}
	var to []string
	for _, m := range e.sink.Messages()[1:] {
		to = append(to, m.To...)
	}
	if slices.Sort(to); !slices.Equal(to, []string{"Inbox-Check@example.net", "qa@example.com"}) {
		t.Fatalf("seed copies went to %q", to)
	}
	var seedRows int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE journey = 'test' AND template = 'welcome'
		AND recipient IN ('qa@example.com', 'Inbox-Check@example.net')`).Scan(&seedRows); err != nil || seedRows != 2 {
		t.Fatalf("%d seed rows marked as tests in the ledger (%v), want 2", seedRows, err)
	}
	e.shot(b, "template-test-en")

	// In Traditional Chinese the same mistakes read in Chinese.
	tw := e.browser("zh-TW")
	e.signIn(tw, "mia@example.com")
	e.run(tw, chromedp.Navigate(e.url+"/console/templates/welcome"), chromedp.WaitVisible("#test-form", chromedp.ByID),
		chromedp.SendKeys("#test-customer", "nobody", chromedp.ByID), chromedp.Click("#send-test", chromedp.ByID),
		chromedp.WaitVisible("#test-errors", chromedp.ByID))
	if got := e.text(tw, "#test-errors"); got != `顧客：找不到顧客 "nobody"` {
		t.Fatalf("zh-TW unknown customer: %q", got)
	}
	e.run(tw, chromedp.SetValue("#test-customer", "staff-1", chromedp.ByID), chromedp.SetValue("#test-seeds-input", "qa@", chromedp.ByID))
	e.submit(tw, "#send-test", "#test-errors")
	if got := e.text(tw, "#test-errors"); got != `第 1 個種子地址："qa@" 不是有效的電子郵件地址` {
		t.Fatalf("zh-TW bad seed: %q", got)
	}

	// A test to seeds from a Simplified Chinese page.
	cn := e.browser("zh-CN")
	e.signIn(cn, "mia@example.com")
	e.run(cn, chromedp.Navigate(e.url+"/console/templates/welcome"), chromedp.WaitVisible("#test-form", chromedp.ByID),
		chromedp.SendKeys("#test-customer", "staff-1", chromedp.ByID),
		chromedp.SetValue("#test-seeds-input", "qa@example.com, Inbox-Check@Example.NET", chromedp.ByID))
	e.submit(cn, "#send-test", "#test-seeds")
	if got := e.text(cn, "#test-seeds li"); !containsHan(got) || !strings.Contains(got, "qa@example.com") {
		t.Fatalf("zh-CN seed outcome: %q", got)
	}
	if words := e.englishOn(cn); len(words) > 0 {
		t.Errorf("template test in zh-CN shows English: %q", words)
	}
	e.shot(cn, "template-test-zh-CN")

	// A viewer sees no test form, and a forged post sends nothing.
	e.user("vic@example.com", access.Viewer)
	v := e.browser("zh-TW")
	e.signIn(v, "vic@example.com")
	var forms int
	e.run(v, chromedp.Navigate(e.url+"/console/templates/welcome"), chromedp.WaitVisible("#preview", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#test-send").length`, &forms))
	if forms != 0 {
		t.Fatal("a viewer sees the test form")
	}
	if got := e.post(v, "/console/templates/welcome/test", map[string]string{"customer": "staff-1", "topic": "marketing", "channel": "email", "csrf_token": e.csrf(v)}); got != http.StatusForbidden {
		t.Fatalf("viewer's forged test send: %d, want 403", got)
	}
	if n := e.sink.Count(); n != 5 {
		t.Fatalf("the viewer's post sent mail: %d emails, want the 5 tests before", n)
	}
}
