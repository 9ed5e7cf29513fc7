package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestCampaignFromExampleToPause is the marketer's path through the
// campaign pages in a real browser: start from an example, see a mistake
// at its line and column, fix it, dry-run it (a Taipei customer's message
// rendered in Traditional Chinese), apply it after confirming what
// changes, find it in the list, pause and resume it. A viewer sees the
// campaign without its buttons and cannot apply by a forged post.
func TestCampaignFromExampleToPause(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	e.user("vic@example.com", access.Viewer)
	ctx := t.Context()
	if _, err := e.store.UpsertCustomers(ctx, []store.CustomerInput{{
		ExternalID: "tw-1", Email: testdb.String("lin@example.com"), FirstName: testdb.String("怡君"),
		Locale: testdb.String("zh-TW"), TimeZone: testdb.String("Asia/Taipei"),
	}}); err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, e.store, `UPDATE customers SET orders_count = 2 WHERE external_id = 'tw-1'`)
	if _, err := e.store.UpsertCustomers(ctx, []store.CustomerInput{{ExternalID: "en-1", Email: testdb.String("bo@example.com"), Locale: testdb.String("en")}}); err != nil {
		t.Fatal(err)
	}

	b := e.browser("en-GB,en;q=0.9")
	e.signIn(b, "mia@example.com")
	e.run(b,
		chromedp.Navigate(e.url+"/console/campaigns"), chromedp.WaitVisible("#new-campaign", chromedp.ByID),
		chromedp.Click("#new-campaign", chromedp.ByID), chromedp.WaitVisible(`a[data-example="nps-after-delivery"]`),
		chromedp.Click(`a[data-example="nps-after-delivery"]`), chromedp.WaitVisible("#validate", chromedp.ByID))
	var example string
	e.run(b, chromedp.Value("#source", &example, chromedp.ByID))
	if !strings.Contains(example, "name: nps-after-delivery") {
		t.Fatalf("editor does not hold the example:\n%s", example)
	}

	// A misspelt template on line 17 is reported at its line and column,
	// and the gutter marks line 17.
	broken := strings.Replace(example, "template: survey_request,", "template: survey_requst,", 1)
	e.run(b, chromedp.SetValue("#source", broken, chromedp.ByID), chromedp.Click("#validate", chromedp.ByID),
		chromedp.WaitVisible("#problems", chromedp.ByID))
	var line, column, marked string
	e.run(b,
		chromedp.AttributeValue("a.problem", "data-line", &line, nil),
		chromedp.AttributeValue("a.problem", "data-column", &column, nil),
		chromedp.Text(".gutter span.bad", &marked))
	if line != "17" || marked != "17" || column == "" || column == "0" {
		t.Fatalf("problem at line %s column %s, gutter marks %q; want line 17", line, column, marked)
	}
	if got := e.text(b, "#problems li"); !strings.Contains(got, "line 17, column "+column) || !strings.Contains(got, "survey_requst") {
		t.Fatalf("problem text: %q", got)
	}
	e.shot(b, "campaign-problem-en")

	// Fixed, it validates; the dry run renders the Taipei customer's
	// survey in Traditional Chinese and stores nothing.
	e.run(b, chromedp.SetValue("#source", example, chromedp.ByID), chromedp.Click("#validate", chromedp.ByID),
		chromedp.WaitVisible("#valid", chromedp.ByID),
		chromedp.Click("#dry-run", chromedp.ByID), chromedp.WaitVisible("#dry-run-result", chromedp.ByID))
	dry := e.text(b, "#dry-run-result")
	if !strings.Contains(dry, "Audience 1,") && !strings.Contains(dry, "Audience 1 ") {
		t.Fatalf("dry run audience: %q", dry)
	}
	if !strings.Contains(dry, "tw-1") || !strings.Contains(dry, "zh-TW") || !containsHan(dry) {
		t.Fatalf("dry run does not show the zh-TW customer's message in Chinese:\n%s", dry)
	}
	if cs, _ := e.mgmt.Campaigns(ctx); len(cs) != 0 {
		t.Fatalf("dry run stored campaigns: %v", cs)
	}

	// Apply asks first, showing the whole file as new; confirming stores v1.
	e.run(b, chromedp.Click("#apply", chromedp.ByID), chromedp.WaitVisible("#confirm", chromedp.ByID))
	if got := e.text(b, "#confirm-h"); got != "Create the campaign nps-after-delivery?" {
		t.Fatalf("confirmation: %q", got)
	}
	if cs, _ := e.mgmt.Campaigns(ctx); len(cs) != 0 {
		t.Fatalf("apply stored before confirmation: %v", cs)
	}
	e.submit(b, "#confirm-apply", "#notice")
	if got := e.text(b, "#campaign-status"); got != "Active" {
		t.Fatalf("status after apply: %q", got)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/campaigns"), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))
	if got := e.text(b, `tr[data-campaign="nps-after-delivery"]`); !strings.Contains(got, "v1") || !strings.Contains(got, "On an event") {
		t.Fatalf("list row: %q", got)
	}

	// Pause and resume.
	e.submit(b, `tr[data-campaign="nps-after-delivery"] a`, "#pause")
	e.submit(b, "#pause", "#resume")
	if got := e.text(b, "#campaign-status"); got != "Paused" {
		t.Fatalf("status after pause: %q", got)
	}
	e.submit(b, "#resume", "#pause")
	if got := e.text(b, "#campaign-status"); got != "Active" {
		t.Fatalf("status after resume: %q", got)
	}

	// With entries, the results table and chart show treatment against
	// holdout.
	testdb.MustExec(t, e.store, `
		INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, entered_at, goal_event, goal_at)
		SELECT 'nps-after-delivery', id, 1, 1, 'run-' || external_id, external_id = 'tw-1', now(), 'purchase',
			CASE WHEN external_id <> 'tw-1' THEN now() END
		FROM customers`)
	var drawn string
	e.run(b, chromedp.Reload(), chromedp.WaitVisible("#campaign-status", chromedp.ByID),
		chromedp.Evaluate(`typeof echarts + " " + !!document.querySelector("#results") + " " + !!document.querySelector("#results-chart canvas")`, &drawn))
	if drawn != "object true true" {
		t.Fatalf("results: echarts, table, chart = %s", drawn)
	}
	if got := e.text(b, "#results"); !strings.Contains(got, "Holdout") || !strings.Contains(got, "Everyone") {
		t.Fatalf("results table: %q", got)
	}
	e.shot(b, "campaign-en")

	// The list shows the audience as last measured (the score refresh
	// measures it) and the results so far: both entered, the treatment's
	// one customer converted, the holdout's did not.
	e.run(b, chromedp.Navigate(e.url+"/console/campaigns"), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))
	if got := e.text(b, `tr[data-campaign="nps-after-delivery"] td.audience`); got != "—" {
		t.Fatalf("audience before any measurement: %q", got)
	}
	if _, err := e.mgmt.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	e.run(b, chromedp.Reload(), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))
	row := `tr[data-campaign="nps-after-delivery"] `
	for sel, want := range map[string]string{"td.entered": "2", "td.sent": "0", "td.converted": "1 (100.0%)", "td.uplift": "+100.0 pts"} {
		if got := squash(e.text(b, row+sel)); got != want {
			t.Errorf("list %s = %q, want %q", sel, got, want)
		}
	}
	if got := e.text(b, row+"td.audience"); !strings.HasPrefix(got, "1") || !strings.Contains(got, "as of") {
		t.Errorf("list audience = %q, want 1 as of the refresh", got)
	}
	e.shot(b, "campaigns-en")

	// Pages of 50 by name: the 51st campaign is on the next page, and the
	// first is not.
	testdb.MustExec(t, e.store, `
		INSERT INTO campaigns (name, current_version, trigger_kind)
		SELECT 'bulk-' || lpad(n::text, 2, '0'), 1, 'event' FROM generate_series(1, 50) n`)
	var names []string
	list := `[...document.querySelectorAll("#campaigns tbody tr")].map(r => r.dataset.campaign)`
	e.run(b, chromedp.Reload(), chromedp.WaitVisible(`a[rel="next"]`), chromedp.Evaluate(list, &names))
	if len(names) != 50 || names[0] != "bulk-01" || names[49] != "bulk-50" {
		t.Fatalf("first page: %d campaigns %v", len(names), names)
	}
	e.run(b, chromedp.Click(`a[rel="next"]`), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`), chromedp.Evaluate(list, &names))
	if len(names) != 1 {
		t.Fatalf("second page: %v", names)
	}

	// The viewer: the campaign without buttons; a forged apply is refused.
	v := e.browser("zh-CN")
	e.signIn(v, "vic@example.com")
	e.run(v, chromedp.Navigate(e.url+"/console/campaigns/nps-after-delivery"), chromedp.WaitVisible("#source", chromedp.ByID))
	var buttons int
	e.run(v, chromedp.Evaluate(`document.querySelectorAll("#pause, #resume, #archive, #edit").length`, &buttons))
	if buttons != 0 {
		t.Fatalf("viewer sees %d campaign buttons", buttons)
	}
	e.shot(v, "campaign-zh-CN")
	changed := strings.Replace(example, "again_after: 30d", "again_after: 7d", 1)
	if got := e.post(v, "/console/campaigns/editor", map[string]string{
		"source": changed, "action": "confirm", "csrf_token": e.csrf(v),
	}); got != http.StatusForbidden {
		t.Fatalf("viewer's forged apply: %d, want 403", got)
	}
	if got := e.post(v, "/console/campaigns/nps-after-delivery/pause", map[string]string{"csrf_token": e.csrf(v)}); got != http.StatusForbidden {
		t.Fatalf("viewer's forged pause: %d, want 403", got)
	}
	d, err := e.mgmt.Campaign(ctx, "nps-after-delivery", 0)
	if err != nil || d.CurrentVersion != 1 || d.Status != "active" {
		t.Fatalf("after the viewer's posts: v%d %s, %v", d.CurrentVersion, d.Status, err)
	}

	// A mistake reads in the reader's language, still at its line and
	// column (viewers may count segments).
	var preview string
	e.run(v, chromedp.Evaluate(fmt.Sprintf(`fetch("/console/segments/preview", {method: "POST", headers: {"HX-Request": "true"},
		body: new URLSearchParams({source: "name: x\nmatch:\n  colour: blue\n", csrf_token: %q})}).then(r => r.text())`, e.csrf(v)), &preview, awaitPromise))
	if !strings.Contains(preview, "第 3 行第 3 列") || !strings.Contains(preview, "无法识别的字段 &#34;colour&#34;") {
		t.Fatalf("zh-CN problem: %s", preview)
	}
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
