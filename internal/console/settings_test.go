package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
)

// TestSettingsKeysAndPolicy: an admin issues a scoped API key (the secret
// shown once works against the API), revokes it, and reads the topics and
// caps the send path applies, in Simplified Chinese.
func TestSettingsKeysAndPolicy(t *testing.T) {
	e := newConsole(t)
	e.user("ann@example.com", access.Admin)
	b := e.browser("zh-CN")
	e.signIn(b, "ann@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/settings/keys"), chromedp.WaitVisible("#add-key", chromedp.ByID),
		chromedp.SendKeys(`#add-key input[name=name]`, "shop"),
		chromedp.SetValue(`#add-key select[name=role]`, "ops"),
		chromedp.Submit("#add-key", chromedp.ByID), chromedp.WaitVisible("#new-secret", chromedp.ByID))
	secret := e.text(b, "#new-secret")
	p, err := e.mgmt.APIKey(t.Context(), secret)
	if err != nil || p.Role != access.Ops || p.Name != "shop" {
		t.Fatalf("the shown secret signs in as %+v, %v; want the ops key shop", p, err)
	}
	e.run(b, chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`tr[data-key="shop"] button.danger`), chromedp.WaitVisible(`tr[data-key="shop"] .status-archived`))
	if _, err := e.mgmt.APIKey(t.Context(), secret); err == nil {
		t.Fatal("the revoked key still signs in")
	}

	e.shots(b, "keys", "zh-CN", "en")
	e.run(b, chromedp.Click(`nav.tabs a[href="/console/settings/policy"]`), chromedp.WaitVisible("#topics", chromedp.ByID))
	row := e.text(b, `tr[data-topic="marketing"]`)
	if !strings.Contains(row, "营销推广") || !strings.Contains(row, "默认接收，可退订") || !strings.Contains(row, "最多") {
		t.Fatalf("marketing topic row: %q", row)
	}
	if got := e.text(b, "#quiet-hours"); !strings.Contains(got, "00:00-00:00") {
		t.Fatalf("quiet hours: %q", got)
	}
	e.shots(b, "policy", "zh-CN", "en")
}
