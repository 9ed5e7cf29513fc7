package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/demo"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// chartSeries is one series of a chart as ECharts holds it on the page.
type chartSeries struct {
	Name string          `json:"name"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// chart waits for panel id's chart to be drawn and reads its series from
// the ECharts instance on the page.
func (e *consoleEnv) chart(ctx context.Context, id string) []chartSeries {
	e.t.Helper()
	var out string
	e.run(ctx, chromedp.WaitReady("#chart-"+id+" canvas", chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`JSON.stringify(echarts.getInstanceByDom(document.getElementById(%q)).getOption().series
			.map(s => ({name: s.name, type: s.type, data: s.data})))`, "chart-"+id), &out))
	var ss []chartSeries
	if err := json.Unmarshal([]byte(out), &ss); err != nil {
		e.t.Fatalf("chart %s: %v in %s", id, err, out)
	}
	return ss
}

// series is the named series of a chart, failing the test without it.
func (e *consoleEnv) series(ss []chartSeries, name string) chartSeries {
	e.t.Helper()
	for _, s := range ss {
		if s.Name == name {
			return s
		}
	}
	e.t.Fatalf("no series %q in %+v", name, ss)
	return chartSeries{}
}

// table reads panel id's table: the header, then each row, cell by cell.
func (e *consoleEnv) table(ctx context.Context, id string) [][]string {
	e.t.Helper()
	var rows [][]string
	e.run(ctx, chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll("#table-%s tr")]
		.map(tr => [...tr.cells].map(c => c.textContent.trim()))`, id), &rows))
	return rows
}

// csvOf downloads panel id's CSV through its link on the page.
func (e *consoleEnv) csvOf(ctx context.Context, id string) [][]string {
	e.t.Helper()
	var body string
	e.run(ctx, chromedp.Evaluate(fmt.Sprintf(`fetch(document.getElementById("csv-%s").href).then(async r => r.status + " " + r.headers.get("content-type") + "\n" + await r.text())`, id), &body, awaitPromise))
	head, data, _ := strings.Cut(body, "\n")
	if !strings.HasPrefix(head, "200 text/csv") {
		e.t.Fatalf("CSV of %s: %s", id, head)
	}
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		e.t.Fatalf("CSV of %s: %v\n%s", id, err, data)
	}
	return rows
}

// reportWorld seeds what the report pages are checked against, worked by
// hand in TestReportPages:
//
//	purchases (30 each): A 2025-01-10, 02-05, 04-20; B 2025-01-20;
//	C 2025-02-03, 03-15, 03-20; D 2024-12-15, 2025-01-05; E never
//	RFM scores: A R5 F4 M3 high, B R5 F4 M5 high, C R1 F1 M1 low
//	NPS, March 2025, after order_delivered: A 10, B 9, C 7, D 3 with a
//	comment, E invited and silent
//	campaign "spring": 100 entries in variant a (35 converted), 100 in
//	b (25), 100 held out (10)
func reportWorld(t *testing.T, e *consoleEnv) {
	t.Helper()
	ctx := t.Context()
	ids := map[string]string{}
	for _, ext := range []string{"A", "B", "C", "D", "E"} {
		c, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{ExternalID: ext, Email: testdb.String(strings.ToLower(ext) + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		ids[ext] = c.ID
	}
	var events []store.EventInput
	for ext, days := range map[string][]string{
		"A": {"2025-01-10", "2025-02-05", "2025-04-20"}, "B": {"2025-01-20"},
		"C": {"2025-02-03", "2025-03-15", "2025-03-20"}, "D": {"2024-12-15", "2025-01-05"},
	} {
		for _, d := range days {
			at, _ := time.Parse(time.DateOnly, d)
			events = append(events, store.EventInput{EventID: ext + "/" + d, CustomerID: ids[ext], Type: store.PurchaseEvent,
				Properties: map[string]any{"amount": 30}, OccurredAt: at, Unrouted: true})
		}
	}
	if _, err := e.store.RecordEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	for ext, s := range map[string][4]any{"A": {5, 4, 3, "high"}, "B": {5, 4, 5, "high"}, "C": {1, 1, 1, "low"}} {
		testdb.MustExec(t, e.store, `INSERT INTO customer_scores (customer_id, recency, frequency, monetary, value_tier) VALUES ($1, $2, $3, $4, $5)`,
			ids[ext], s[0], s[1], s[2], s[3])
	}
	for i, a := range []struct {
		ext     string
		score   int
		comment string
	}{{"A", 10, ""}, {"B", 9, ""}, {"C", 7, ""}, {"D", 3, "Parcel arrived late"}, {"E", -1, ""}} {
		sent := time.Date(2025, 3, 3+i, 10, 0, 0, 0, time.UTC)
		run := fmt.Sprintf("run-%d", i)
		testdb.MustExec(t, e.store, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at) VALUES ('survey', $1, $2, 'order_delivered', $3)`,
			run, ids[a.ext], sent.Add(-24*time.Hour))
		var msg string
		if err := e.store.Pool().QueryRow(ctx, `INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, created_at, sent_at)
			VALUES ($1, $2, 'survey', 'survey', 'email', 'survey_request', 'surveys', 'sent', $3, $3) RETURNING id::text`,
			"survey/"+ids[a.ext]+"/"+run+"/survey", ids[a.ext], sent).Scan(&msg); err != nil {
			t.Fatal(err)
		}
		if a.score >= 0 {
			testdb.MustExec(t, e.store, `INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at) VALUES ($1, 'nps', $2, $3, $4, $5)`,
				ids[a.ext], a.score, a.comment, msg, sent.Add(2*time.Hour))
		}
	}
	testdb.MustExec(t, e.store, `INSERT INTO campaigns (name, status, current_version, trigger_kind) VALUES ('spring', 'active', 1, 'schedule')`)
	testdb.MustExec(t, e.store, `INSERT INTO customers (external_id) SELECT 'entry-' || i FROM generate_series(1, 300) i`)
	testdb.MustExec(t, e.store, `
		INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, variant, holdout, entered_at, goal_event, goal_at)
		SELECT 'spring', c.id, 1, 1, 'run-' || c.external_id, v.variant, v.holdout, now(), 'purchase', CASE WHEN v.converted THEN now() END
		FROM customers c, LATERAL (SELECT split_part(c.external_id, '-', 2)::int AS i) n,
			LATERAL (SELECT CASE WHEN n.i <= 100 THEN 'a' WHEN n.i <= 200 THEN 'b' ELSE '' END AS variant, n.i > 200 AS holdout,
				(n.i <= 35) OR (n.i > 100 AND n.i <= 125) OR (n.i > 200 AND n.i <= 210) AS converted) v
		WHERE c.external_id LIKE 'entry-%'`)
}

// TestReportPages opens each report in the browser against numbers worked
// out by hand: the chart on the page holds the expected series, the table
// beside it the same figures, its CSV link downloads them, a viewer may
// read every report, and a reader in Taiwan reads Traditional Chinese.
func TestReportPages(t *testing.T) {
	e := newConsole(t)
	e.user("mia@example.com", access.Marketer)
	e.user("vic@example.com", access.Viewer)
	reportWorld(t, e)
	b := e.browser("en-GB")
	e.signIn(b, "mia@example.com")

	// The reports index lists every report; each opens with its chart.
	e.run(b, chromedp.Navigate(e.url+"/console/reports"), chromedp.WaitVisible("#reports", chromedp.ByID))
	var names []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#reports a")].map(a => a.id.replace("report-", ""))`, &names))
	if want := []string{"campaign", "journey", "nps", "csat", "retention", "churn", "lifecycle", "clv", "rfm", "deliverability", "acquisition"}; !slices.Equal(names, want) {
		t.Fatalf("reports index: %v, want %v", names, want)
	}

	// Retention: January's cohort is A and B; A bought again in February
	// (+1) and April (+3), nobody in March (+2); July (+6) has not begun
	// by the period's end. February's cohort is C, back in March.
	e.run(b, chromedp.Navigate(e.url+"/console/reports/retention?since=2025-01-01&until=2025-07-01"), chromedp.WaitVisible("#table-cohorts", chromedp.ByID))
	heat := e.series(e.chart(b, "cohorts"), "Retained")
	if heat.Type != "heatmap" {
		t.Fatalf("retention chart is a %s", heat.Type)
	}
	var cells [][3]float64
	json.Unmarshal(heat.Data, &cells)
	if want := [][3]float64{{0, 0, 50}, {1, 0, 0}, {2, 0, 50}, {0, 1, 100}, {1, 1, 0}, {2, 1, 0}}; !slices.Equal(cells[:6], want) {
		t.Fatalf("heat map cells %v, want %v first", cells, want)
	}
	rows := e.table(b, "cohorts")
	if got, want := strings.Join(rows[0], "|"), "Cohort|Customers|+1 mo|+2 mo|+3 mo|+6 mo|+12 mo"; got != want {
		t.Fatalf("retention header %q, want %q", got, want)
	}
	if got, want := strings.Join(rows[1], "|"), "2025-01|2|50.0%|0.0%|50.0%|—|—"; got != want {
		t.Fatalf("January cohort %q, want %q", got, want)
	}
	if got, want := strings.Join(rows[2], "|"), "2025-02|1|100.0%|0.0%|0.0%|—|—"; got != want {
		t.Fatalf("February cohort %q, want %q", got, want)
	}
	if got := e.csvOf(b, "cohorts"); strings.Join(got[0], ",") != "cohort,customers,+1,+2,+3,+6,+12" || strings.Join(got[1], ",") != "2025-01,2,0.5,0,0.5,," {
		t.Fatalf("retention CSV %v", got[:2])
	}

	// Churn over 30 days: February starts with A, B and D active (a
	// purchase in the 30 days before 1 February) and ends with A and C:
	// B and D churned (2 of 3), C was gained. March starts with A and C
	// and ends with C alone: 1 of 2.
	e.run(b, chromedp.Navigate(e.url+"/console/reports/churn?since=2025-02-01&until=2025-04-01&days=30"), chromedp.WaitVisible("#table-months", chromedp.ByID))
	churn := e.chart(b, "months")
	if got := string(e.series(churn, "Churn rate").Data); got != "[66.7,50]" {
		t.Fatalf("churn rate series %s", got)
	}
	if got := string(e.series(churn, "Churned").Data); got != "[2,1]" {
		t.Fatalf("churned series %s", got)
	}
	rows = e.table(b, "months")
	if got, want := strings.Join(rows[1], "|")+" / "+strings.Join(rows[2], "|"), "2025-02|3|2|66.7%|1|2 / 2025-03|2|1|50.0%|0|1"; got != want {
		t.Fatalf("churn table %q, want %q", got, want)
	}
	var days string
	e.run(b, chromedp.Value("#filter-days", &days, chromedp.ByID))
	if days != "30" {
		t.Fatalf("days filter shows %q", days)
	}

	// A filter the report refuses: 400 with the field named, no chart.
	e.run(b, chromedp.Navigate(e.url+"/console/reports/churn?days=0"), chromedp.WaitVisible("#problem", chromedp.ByID))
	if got := e.text(b, "#problem"); !strings.Contains(got, "Churned after (days)") || !strings.Contains(got, "between 1 and 3650") {
		t.Fatalf("bad days: %q", got)
	}

	// RFM: A and B share recency 5 × frequency 4 (revenue 90 + 30, mean
	// monetary score 4), C sits at 1 × 1.
	e.run(b, chromedp.Navigate(e.url+"/console/reports/rfm"), chromedp.WaitVisible("#table-grid", chromedp.ByID))
	grid := e.series(e.chart(b, "grid"), "Customers")
	json.Unmarshal(grid.Data, &cells)
	if grid.Type != "heatmap" || !slices.Equal(cells, [][3]float64{{1, 0, 2}, {4, 4, 1}}) {
		t.Fatalf("RFM heat map %s %v", grid.Type, cells)
	}
	rows = e.table(b, "grid")
	if got, want := strings.Join(rows[1], "|")+" / "+strings.Join(rows[2], "|"), "5|4|2|120.00|4.0 / 1|1|1|90.00|1.0"; got != want {
		t.Fatalf("RFM table %q, want %q", got, want)
	}

	// The campaign: 60 of 200 treated converted against 10 of 100 held
	// out, +20 points; Wilson intervals 24.07–36.68% and 5.52–17.44% give
	// Newcombe's 10.5 to 28.0. Variant a (35%) is +25 (13.6 to 35.7), b
	// (25%) +15 (4.5 to 25.3).
	b = e.browser("en-GB")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/reports/campaign?campaign=spring"), chromedp.WaitVisible("#table-uplift", chromedp.ByID))
	upl := e.chart(b, "uplift")
	if got := string(e.series(upl, "Uplift").Data); got != "[20,25,15]" {
		t.Fatalf("uplift points %s", got)
	}
	bars := e.series(upl, "95% interval")
	if got := string(bars.Data); bars.Type != "custom" || got != "[[0,10.5,28],[1,13.6,35.7],[2,4.5,25.3]]" {
		t.Fatalf("error bars %s %s", bars.Type, got)
	}
	rows = e.table(b, "uplift")
	if got, want := strings.Join(rows[1], "|"), "everyone treated|30.0%|10.0%|20.0|10.5|28.0|The messages convert better."; got != want {
		t.Fatalf("uplift row %q, want %q", got, want)
	}
	if got := e.text(b, "#figure-uplift"); got != "+20.0 pts" {
		t.Fatalf("uplift figure %q", got)
	}
	funnel := e.chart(b, "arms")
	if got := string(e.series(funnel, "Entered").Data) + string(e.series(funnel, "Converted").Data); got != "[100,100,100][35,25,10]" {
		t.Fatalf("funnel entered, converted: %s", got)
	}
	e.shots(b, "report-campaign-uplift", "en", "zh-CN")

	var href string
	e.run(b, chromedp.Navigate(e.url+"/console/reports/nps?since=2025-03-01&until=2025-04-01"), chromedp.WaitVisible("#table-month", chromedp.ByID))
	// NPS in March: promoters A and B, passive C, detractor D: 100 × (2 −
	// 1) / 4 = 25; 4 of 5 invitations answered.
	if got := e.text(b, "#figure-score") + " " + e.text(b, "#figure-response-rate"); got != "25.0 80.0%" {
		t.Fatalf("NPS figures %q", got)
	}
	month := e.chart(b, "month")
	if got := string(e.series(month, "Score").Data) + string(e.series(month, "Detractors").Data); got != "[25][1]" {
		t.Fatalf("NPS month series %s", got)
	}
	rows = e.table(b, "comments")
	if len(rows) != 2 || rows[1][1] != "D" || rows[1][4] != "Parcel arrived late" {
		t.Fatalf("detractors' comments %v", rows)
	}
	e.run(b, chromedp.AttributeValue("#table-comments a", "href", &href, nil))
	if !strings.HasPrefix(href, "/console/customers/") {
		t.Fatalf("comment links to %q", href)
	}
	// The customer's page links back into the reports.
	var links []string
	e.run(b, chromedp.Navigate(e.url+href), chromedp.WaitVisible("#customer-reports", chromedp.ByID),
		chromedp.Evaluate(`[...document.querySelectorAll("#customer-reports a")].map(a => a.getAttribute("href"))`, &links))
	if !slices.Equal(links, []string{"/console/reports/rfm", "/console/reports/clv", "/console/reports/lifecycle", "/console/reports/nps"}) {
		t.Fatalf("customer page's report links %v", links)
	}

	// Every report draws on these data without a failure.
	b = e.browser("en-GB")
	e.signIn(b, "mia@example.com")
	for i, name := range names {
		if i%4 == 3 {
			b = e.browser("en-GB")
			e.signIn(b, "mia@example.com")
		}
		e.run(b, chromedp.Navigate(e.url+"/console/reports/"+name+"?since=2024-12-01&until=2025-06-01"), chromedp.WaitVisible("h1", chromedp.ByQuery))
		var charts, canvases int
		var h1 string
		e.run(b, chromedp.Text("h1", &h1), chromedp.Evaluate(`document.querySelectorAll("[data-report-chart]").length`, &charts))
		if charts > 0 {
			e.run(b, chromedp.WaitReady("[data-report-chart] canvas", chromedp.ByQuery),
				chromedp.Evaluate(`[...document.querySelectorAll("[data-report-chart]")].filter(el => echarts.getInstanceByDom(el)).length`, &canvases))
		}
		if want := map[string]string{"campaign": "#chart-funnel", "journey": "#chart-funnel", "lifecycle": "#chart-history", "clv": "#chart-segments"}[name]; want != "" {
			var has bool
			e.run(b, chromedp.Evaluate(fmt.Sprintf(`!!document.querySelector(%q)`, want), &has))
			if !has {
				t.Errorf("report %s lacks %s", name, want)
			}
		}
		if charts == 0 || canvases != charts || strings.Contains(h1, "report.") {
			t.Errorf("report %s (%q): %d charts, %d drawn", name, h1, charts, canvases)
		}
	}

	// After a refresh, CLV and acquisition say the time of what it kept.
	if _, err := e.store.KeepReportTallies(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	for page, want := range map[string]string{"clv": "As of ", "acquisition?since=2024-12-01": "who signed up before "} {
		e.run(b, chromedp.Navigate(e.url+"/console/reports/"+page), chromedp.WaitVisible("h1", chromedp.ByQuery))
		var notes []string
		e.run(b, chromedp.Evaluate(`[...document.querySelectorAll(".note")].map(p => p.textContent)`, &notes))
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, want) && strings.Contains(n, "refresh") }) {
			t.Errorf("%s after a refresh: notes %q, want one with %q and the refresh", page, notes, want)
		}
	}

	// A viewer in Taiwan reads the NPS in Traditional Chinese.
	v := e.browser("zh-TW")
	e.signIn(v, "vic@example.com")
	e.run(v, chromedp.Navigate(e.url+"/console/reports/nps?since=2025-03-01&until=2025-04-01"), chromedp.WaitVisible("#table-month", chromedp.ByID))
	if got := e.text(v, "h1"); got != "淨推薦值（NPS）" {
		t.Fatalf("zh-TW heading %q", got)
	}
	tw := e.chart(v, "month")
	for _, name := range []string{"推薦者", "中立者", "批評者", "分數"} {
		e.series(tw, name)
	}
	if got := e.table(v, "month")[0]; got[0] != "月份" || got[3] != "回覆率" {
		t.Fatalf("zh-TW table header %v", got)
	}
	e.shot(v, "report-nps-zh-TW")
}

// TestReportsOfTheDemo opens every report on the demo company, as
// `tidings dev --demo` loads it, in English and Simplified Chinese: each
// page draws its charts, and the reports the demo's purchase history feeds
// show numbers; acquisition shows CAC by source from the demo's monthly
// spend, as `tidings dev --demo` sets it. The screenshots docs/reports.md
// shows are taken here.
func TestReportsOfTheDemo(t *testing.T) {
	policy := "acquisition:\n  monthly_spend:\n"
	for src, spend := range demo.AcquisitionSpend(nil) {
		policy += fmt.Sprintf("    %s: %v\n", src, spend)
	}
	e := newConsole(t, withPolicy(policy))
	e.user("mia@example.com", access.Marketer)
	if _, err := demo.Load(t.Context(), e.store, 0, demo.DefaultSeed, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "zh-CN"} {
		b := e.browser(lang)
		e.signIn(b, "mia@example.com")
		e.run(b, chromedp.Navigate(e.url+"/console/reports"), chromedp.WaitVisible("#reports", chromedp.ByID))
		if words := e.englishOn(b); lang != "en" && len(words) > 0 {
			t.Errorf("%s reports shows English: %q", lang, words)
		}
		e.shot(b, "reports-"+lang)
		for i, name := range []string{"retention", "churn", "lifecycle", "clv", "rfm", "nps", "deliverability", "acquisition", "campaign", "journey", "csat"} {
			if i%4 == 3 {
				// A browser lasts 150 seconds: a few pages each.
				b = e.browser(lang)
				e.signIn(b, "mia@example.com")
			}
			e.run(b, chromedp.Navigate(e.url+"/console/reports/"+name), chromedp.WaitVisible("h1", chromedp.ByQuery))
			var charts, drawn int
			e.run(b, chromedp.Evaluate(`document.querySelectorAll("[data-report-chart]").length`, &charts))
			if charts > 0 {
				e.run(b, chromedp.WaitReady("[data-report-chart] canvas", chromedp.ByQuery),
					chromedp.Evaluate(`[...document.querySelectorAll("[data-report-chart]")].filter(el => echarts.getInstanceByDom(el)).length`, &drawn))
			}
			if drawn != charts {
				t.Errorf("%s %s: %d of %d charts drawn", lang, name, drawn, charts)
			}
			// A table cut off at its panel's edge hides its last columns
			// from a screenshot (the window is 1280 pixels wide).
			var clipped []string
			e.run(b, chromedp.Evaluate(`[...document.querySelectorAll(".panel .table-wrap")].filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.querySelector("table").id)`, &clipped))
			if len(clipped) > 0 {
				t.Errorf("%s %s: tables wider than their panel: %v", lang, name, clipped)
			}
			if name == "acquisition" {
				var cac []string
				e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#table-sources tbody tr")].filter(r => r.cells[0].textContent === "google-ads").map(r => r.cells[5].textContent)`, &cac))
				if len(cac) != 1 || !strings.ContainsAny(cac[0], "123456789") {
					t.Errorf("%s acquisition: google-ads CAC %q, want a figure from the demo's spend", lang, cac)
				}
			}
			// The purchase history the demo loads fills these.
			if slices.Contains([]string{"retention", "churn", "lifecycle", "clv", "rfm"}, name) {
				var filled bool
				e.run(b, chromedp.Evaluate(`[...document.querySelectorAll(".panel tbody td.num")].some(td => /[1-9]/.test(td.textContent))`, &filled))
				if !filled {
					t.Errorf("%s %s: the demo's report shows no number", lang, name)
				}
			}
			if lang != "en" {
				if words := e.englishOn(b); len(words) > 0 {
					t.Errorf("%s %s shows English: %q", lang, name, words)
				}
			}
			e.shot(b, "report-"+name+"-"+lang)
		}
	}
}
