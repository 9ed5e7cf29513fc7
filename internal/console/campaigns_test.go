package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/campaign"
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
	e.shots(b, "campaign-new", "en", "zh-CN")

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
	// No refresh has kept them yet: they were counted for the page, and
	// the page says so.
	if got := e.text(b, "#results-at"); !strings.HasPrefix(got, "Not refreshed yet: counted just now.") {
		t.Errorf("results before any refresh say %q", got)
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
	for sel, want := range map[string]string{"td.sent": "0", "td.converted": "1 (100.0%)", "td.uplift": "+100.0 pts"} {
		if got := squash(e.text(b, row+sel)); got != want {
			t.Errorf("list %s = %q, want %q", sel, got, want)
		}
	}
	if got := e.text(b, row+"td.audience"); !strings.HasPrefix(got, "1") || !strings.Contains(got, "as of") {
		t.Errorf("list audience = %q, want 1 as of the refresh", got)
	}
	// The refresh kept the results, which the list reads: an entry since
	// shows on the next refresh, not before.
	if got := e.text(b, row+"td.entered"); !strings.HasPrefix(got, "2") || !strings.Contains(got, "results as of") {
		t.Errorf("list entered = %q, want 2 with the time of the refresh that kept it", got)
	}
	e.shots(b, "campaigns", "en", "zh-CN")
	testdb.MustExec(t, e.store, `
		INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, entered_at, goal_event)
		SELECT 'nps-after-delivery', id, 2, 1, 'run-2-' || external_id, false, now(), 'purchase'
		FROM customers WHERE external_id <> 'tw-1'`)
	e.run(b, chromedp.Reload(), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))
	if got := e.text(b, row+"td.entered"); !strings.HasPrefix(got, "2") {
		t.Errorf("list entered before the next refresh = %q, want the kept 2", got)
	}
	// The campaign's page reads the same kept results, with their time:
	// the treatment's one entry, not the second, until the next refresh.
	treated := func() (entered, at string) {
		e.run(b, chromedp.Navigate(e.url+"/console/campaigns/nps-after-delivery"), chromedp.WaitVisible("#results", chromedp.ByID))
		return e.text(b, "#results tbody tr:first-child td:nth-of-type(1)"), e.text(b, "#results-at")
	}
	if entered, at := treated(); entered != "1" || !strings.HasPrefix(at, "As of ") {
		t.Errorf("campaign page before the next refresh: everyone entered %q, %q; want the kept 1 as of the refresh", entered, at)
	}
	if _, err := e.mgmt.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/campaigns"), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))
	if got := e.text(b, row+"td.entered"); !strings.HasPrefix(got, "3") || !strings.Contains(got, "results as of") {
		t.Errorf("list entered after the next refresh = %q, want 3 as of it", got)
	}
	if entered, at := treated(); entered != "2" || !strings.HasPrefix(at, "As of ") {
		t.Errorf("campaign page after the next refresh: everyone entered %q, %q; want 2 as of it", entered, at)
	}
	e.run(b, chromedp.Navigate(e.url+"/console/campaigns"), chromedp.WaitVisible(`tr[data-campaign="nps-after-delivery"]`))

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

// abCampaign tests two subjects on a share of the audience and sends the
// rest the one clicked more.
const abCampaign = `name: subject-test
audience: {match: {tags: ab}}
trigger: {schedule: {cron: "0 9 * * MON", zone: Asia/Taipei}}
goal: {event: purchase, within: 7d}
holdout: 10
steps:
  - send:
      id: offer
      template: welcome
      variants:
        test: 20
        winner_after: 4h
        metric: click
        min_sent: 1
        arms:
          - {name: a, percent: 50}
          - {name: b, percent: 50}
`

// TestCampaignPageShowsFunnelAndWinner: a campaign whose A/B test chose
// its winner shows, on its page and its report, which variant won, when
// and on what numbers, the rest of the audience as an arm of its own in
// the results and in the funnel by step; in Simplified Chinese for a
// reader in Shanghai.
//
//	a: 2 entered, 2 sent, 0 clicked; b: 2 entered, 2 sent, 1 clicked and
//	converted; the rest sent b: 3 entered, 3 sent, 1 converted; holdout 2
func TestCampaignPageShowsFunnelAndWinner(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	ctx := t.Context()
	sp, err := campaign.Parse([]byte(abCampaign), "subject-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sp)
	if _, _, err := e.store.ApplyCampaign(ctx, "", "schedule", store.CampaignVersion{Campaign: "subject-test", Source: abCampaign, Spec: raw}); err != nil {
		t.Fatal(err)
	}
	entered := time.Now().Add(-48 * time.Hour)
	for _, en := range []struct {
		id, variant        string
		holdout, rollout   bool
		converted, clicked bool
	}{
		{"a1", "a", false, false, false, false}, {"a2", "a", false, false, false, false},
		{"b1", "b", false, false, true, true}, {"b2", "b", false, false, false, false},
		{"r1", "b", false, true, true, false}, {"r2", "b", false, true, false, false}, {"r3", "b", false, true, false, false},
		{"h1", "", true, false, false, false}, {"h2", "", true, false, false, false},
	} {
		c, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{ExternalID: en.id, Email: testdb.String(en.id + "@example.com"), Tags: []string{"ab"}})
		if err != nil {
			t.Fatal(err)
		}
		var goalAt *time.Time
		if en.converted {
			at := entered.Add(time.Hour)
			goalAt = &at
		}
		testdb.MustExec(t, e.store, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, variant, holdout, rollout, entered_at, goal_event, goal_until, goal_at)
			VALUES ('subject-test', $1, 1, 1, $2, $3, $4, $5, $6, 'purchase', $7, $8)`,
			c.ID, "run-"+en.id, en.variant, en.holdout, en.rollout, entered, entered.Add(7*24*time.Hour), goalAt)
		if en.holdout {
			continue
		}
		var msg string
		if err := e.store.Pool().QueryRow(ctx, `INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, delivery, created_at, sent_at)
			VALUES ($1, $2, 'campaign/subject-test', $3, 'email', 'welcome', 'marketing', 'sent', 'delivered', $4, $4) RETURNING id::text`,
			campaign.RunKey("subject-test", 1, c.ID, "offer", 1), c.ID, "offer:"+en.variant, entered.Add(time.Minute)).Scan(&msg); err != nil {
			t.Fatal(err)
		}
		if en.clicked {
			testdb.MustExec(t, e.store, `INSERT INTO message_clicks (message_id, link, url, machine, first_at, last_at) VALUES ($1, 0, 'https://shop.example/', false, $2, $2)`,
				msg, entered.Add(30*time.Minute))
		}
	}
	decided := time.Date(2026, 11, 20, 3, 4, 0, 0, time.UTC)
	if _, err := e.store.RecordCampaignWinner(ctx, store.CampaignWinner{Campaign: "subject-test", Version: 1, Step: "offer", Metric: "click",
		Variant: "b", Rule: "best_rate", MinSent: 1, DecidedAt: decided,
		Tallies: []store.VariantTally{{Variant: "a", Sent: 2, Hits: 0}, {Variant: "b", Sent: 2, Hits: 1}}}); err != nil {
		t.Fatal(err)
	}

	b := e.browser("en")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/campaigns/subject-test"), chromedp.WaitVisible("#winner", chromedp.ByID))
	if got, want := e.text(b, "#winner p"), "A/B winner of version 1: b, chosen 20 Nov 2026 11:04 UTC+8 by clicks per message sent: the best rate. The rest of the audience is sent b."; got != want {
		t.Errorf("winner: %q, want %q", got, want)
	}
	var tallies []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#winner li")].map(li => li.textContent)`, &tallies))
	if want := []string{"a: 0 of 2 sent (0.0%)", "b: 1 of 2 sent (50.0%)"}; !slices.Equal(tallies, want) {
		t.Errorf("winner's numbers %q, want %q", tallies, want)
	}
	var arms []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#results tbody tr")].map(r => r.cells[0].textContent + "|" + r.cells[1].textContent + "|" + r.cells[4].textContent)`, &arms))
	if want := []string{"a|2|0", "b|2|1", "b (winner, the rest)|3|1", "Holdout|2|0"}; !slices.Equal(arms, want) {
		t.Errorf("results %q, want %q", arms, want)
	}
	// The funnel by step, as the report draws it, with its numbers below.
	sent := e.series(e.chart(b, "funnel"), "Sent")
	if got := string(sent.Data); sent.Type != "bar" || got != "[2,2,3]" {
		t.Errorf("funnel chart's sent %s %s, want bars 2, 2, 3", sent.Type, got)
	}
	rows := e.table(b, "funnel")
	var funnel []string
	for _, r := range rows[1:] {
		funnel = append(funnel, strings.Join(r[:8], "|"))
	}
	if want := []string{"a|offer|2|2|2|0|0|0", "b|offer|2|2|2|1|1|0", "b (winner, the rest)|offer|3|3|3|0|0|0"}; !slices.Equal(funnel, want) {
		t.Errorf("funnel table %q, want %q", funnel, want)
	}
	if got := e.csvOf(b, "funnel"); len(got) != 4 || got[3][0] != "b rollout" {
		t.Errorf("funnel CSV %q", got)
	}
	e.shots(b, "campaign-winner", "en", "zh-CN")
	if got := e.text(b, "#note-funnel"); got != "Counted just now." {
		t.Errorf("funnel before any refresh says %q", got)
	}

	// Once a refresh kept them, the page reads the same numbers with the
	// refresh's time.
	if _, err := e.mgmt.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	e.run(b, chromedp.Reload(), chromedp.WaitVisible("#winner", chromedp.ByID))
	var kept []string
	for _, r := range e.table(b, "funnel")[1:] {
		kept = append(kept, strings.Join(r[:8], "|"))
	}
	if !slices.Equal(kept, funnel) {
		t.Errorf("kept funnel table %q, want %q as counted before", kept, funnel)
	}
	for _, sel := range []string{"#results-at", "#note-funnel"} {
		if got := e.text(b, sel); !strings.HasPrefix(got, "As of ") || !strings.HasSuffix(got, ", from the hourly refresh.") {
			t.Errorf("%s after the refresh says %q", sel, got)
		}
	}

	// The campaign's report names the winner among its figures.
	e.run(b, chromedp.Navigate(e.url+"/console/reports/campaign?campaign=subject-test"), chromedp.WaitVisible("#figure-winner", chromedp.ByID))
	if got, at := e.text(b, "#figure-winner"), e.text(b, "#figure-winner-at"); got != "b" || at != "20 Nov 2026 11:04 UTC+8" {
		t.Errorf("report's winner %q chosen %q", got, at)
	}

	zh := e.browser("zh-CN")
	e.signIn(zh, "mia@example.com")
	e.run(zh, chromedp.Navigate(e.url+"/console/campaigns/subject-test"), chromedp.WaitVisible("#winner", chromedp.ByID))
	if got, want := e.text(zh, "#winner p"), "第 1 版的 A/B 测试胜出版本：b，于 2026年11月20日 11:04 UTC+8 按每条已发消息的点击比例选出：比例最高。其余受众将收到 b。"; got != want {
		t.Errorf("zh-CN winner: %q, want %q", got, want)
	}
	if got := e.text(zh, "#winner li"); got != "a：已发 2 条，命中 0 条（0.0%）" {
		t.Errorf("zh-CN tally: %q", got)
	}
	if got := e.text(zh, "#results tr.rollout th"); got != "b（胜出版本，其余受众）" {
		t.Errorf("zh-CN rollout arm: %q", got)
	}
	if got := e.text(zh, "#results-at"); !strings.HasPrefix(got, "数据截至 ") {
		t.Errorf("zh-CN results time: %q", got)
	}
}
