package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
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
	e.run(b, chromedp.Navigate(e.url+"/console/templates"), chromedp.WaitVisible(`tr[data-template="birthday"]`),
		chromedp.Click(`tr[data-template="birthday"] a[data-locale="zh-TW"]`), chromedp.WaitVisible("#preview", chromedp.ByID))
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
	e.shot(b, "template-zh-TW")

	e.run(b, chromedp.SetValue("#channel", "sms", chromedp.ByID), chromedp.Click("#show-preview", chromedp.ByID),
		chromedp.WaitVisible("#sms", chromedp.ByID))
	if sms := e.text(b, "#sms"); !containsHan(sms) {
		t.Fatalf("zh-TW SMS: %q", sms)
	}
	if facts := e.text(b, "#sms-facts"); !strings.Contains(facts, "SMS segments") || !strings.Contains(facts, "UCS-2") {
		t.Fatalf("SMS facts: %q", facts)
	}
}
