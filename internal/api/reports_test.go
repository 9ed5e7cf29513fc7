package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// breakdownLabels is a report's breakdown as a chart reads it: its name
// and the labels of its rows.
type breakdownLabels struct {
	By   string `json:"by"`
	Rows []struct {
		Label string `json:"label"`
	} `json:"rows"`
}

func TestNPSReportOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	// Two invitations in March 2026: C-1 answers 9, C-2 answers 2 with a
	// comment: NPS 100 × (1 − 1) / 2 = 0, response rate 2/2.
	for _, c := range []struct {
		ext, comment string
		score        int
	}{{"C-1", "", 9}, {"C-2", "box was crushed", 2}} {
		id := a.customer(c.ext, map[string]any{"email": c.ext + "@example.com"})
		testdb.MustExec(t, a.store, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ('survey', $1, $2, 'order_delivered', '2026-03-01T10:00:00Z')`, "run-"+c.ext, id)
		testdb.MustExec(t, a.store, `WITH m AS (
				INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, sent_at)
				VALUES ($1, $2, 'survey', 'survey', 'email', 'survey_request', 'surveys', 'sent', '2026-03-02T10:00:00Z')
				RETURNING id)
			INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
			SELECT $2, 'nps', $3, $4, id, '2026-03-03T10:00:00Z' FROM m`,
			"survey/"+id+"/run-"+c.ext+"/survey", id, c.score, c.comment)
	}
	status, body := a.do(http.MethodGet, "/v1/reports/nps?since=2026-03-01&until=2026-04-01", nil)
	if status != http.StatusOK {
		t.Fatalf("nps: %d %s", status, body)
	}
	var rep struct {
		Total struct {
			Score        *float64 `json:"score"`
			ResponseRate *float64 `json:"response_rate"`
			Responses    int      `json:"responses"`
		} `json:"total"`
		Breakdowns []breakdownLabels `json:"breakdowns"`
		Detractors []struct {
			ExternalID string `json:"external_id"`
			Comment    string `json:"comment"`
			Link       string `json:"link"`
		} `json:"detractors"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Total.Score == nil || *rep.Total.Score != 0 || rep.Total.ResponseRate == nil || *rep.Total.ResponseRate != 1 || rep.Total.Responses != 2 {
		t.Errorf("total = %s", body)
	}
	if len(rep.Breakdowns) != 5 || rep.Breakdowns[1].By != "month" || len(rep.Breakdowns[1].Rows) != 1 || rep.Breakdowns[1].Rows[0].Label != "2026-03" {
		t.Errorf("breakdowns = %+v", rep.Breakdowns)
	}
	if len(rep.Detractors) != 1 || rep.Detractors[0].ExternalID != "C-2" || rep.Detractors[0].Comment != "box was crushed" {
		t.Errorf("detractors = %+v", rep.Detractors)
	}
	if status, body := a.do(http.MethodGet, rep.Detractors[0].Link, nil); status != http.StatusOK {
		t.Errorf("the detractor's link %s: %d %s", rep.Detractors[0].Link, status, body)
	}

	for _, bad := range []struct{ query, field string }{
		{"since=yesterday", "since"}, {"since=2026-04-01&until=2026-03-01", "until"}, {"comments=many", "comments"},
	} {
		status, body := a.do(http.MethodGet, "/v1/reports/csat?"+bad.query, nil)
		var e struct {
			Error struct{ Field string } `json:"error"`
		}
		if json.Unmarshal(body, &e); status != http.StatusBadRequest || e.Error.Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.query, status, body, bad.field)
		}
	}
}

func TestCampaignReportWithItsIntervalOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	ctx := t.Context()
	if _, _, err := a.store.ApplyCampaign(ctx, "spring sale", "once", store.CampaignVersion{
		Campaign: "spring-sale", Source: "name: spring-sale", Spec: []byte(`{"name":"spring-sale"}`),
	}); err != nil {
		t.Fatal(err)
	}
	// Variants calm and urgent and a holdout, one customer each; calm's
	// reached the goal.
	for i, ext := range []string{"C-1", "C-2", "C-3"} {
		id := a.customer(ext, map[string]any{"email": ext + "@example.com"})
		testdb.MustExec(t, a.store, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id,
				variant, holdout, entered_at, goal_event, goal_at)
			VALUES ('spring-sale', $1, 1, 1, $2, $3, $4, now() - interval '1 hour', 'purchase', $5)`,
			id, "run-"+ext, []string{"calm", "urgent", ""}[i], i == 2, map[bool]any{true: time.Now(), false: nil}[i == 0])
	}
	status, body := a.do(http.MethodGet, "/v1/reports/campaigns/spring-sale", nil)
	if status != http.StatusOK {
		t.Fatalf("report: %d %s", status, body)
	}
	var rep struct {
		Arms   []store.CampaignArm `json:"arms"`
		Uplift struct {
			Points  float64 `json:"points"`
			Verdict string  `json:"verdict"`
		} `json:"uplift"`
		Variants []struct {
			Variant  string  `json:"variant"`
			ProbBest float64 `json:"prob_best"`
		} `json:"variants"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	// Treatment 1/2 against holdout 0/1: +50 points, far too few to tell.
	// calm (1/1, posterior Beta(2,1), density 2x) against urgent (0/1,
	// Beta(1,2), distribution 1 − (1−x)²): ∫ 2x (1 − (1−x)²) dx = 5/6.
	if len(rep.Arms) != 3 || rep.Uplift.Points != 50 || rep.Uplift.Verdict != "not enough data yet" {
		t.Errorf("report = %s", body)
	}
	if len(rep.Variants) != 2 || rep.Variants[0].Variant != "calm" || math.Abs(rep.Variants[0].ProbBest-5.0/6) > 1e-9 {
		t.Errorf("variants = %+v", rep.Variants)
	}
	if strings.Contains(string(body), `"as_of"`) {
		t.Errorf("results no refresh kept have an as_of: %s", body)
	}
	// A score refresh keeps the results, as the hourly sweep does: the same
	// report with its time. A later entry shows from the next refresh on; a
	// pause shows at once.
	refresh := func() {
		t.Helper()
		if status, body := a.do(http.MethodPost, "/v1/segments/refresh-scores", nil); status != http.StatusOK {
			t.Fatalf("refresh scores: %d %s", status, body)
		}
	}
	refresh()
	late := a.customer("C-4", map[string]any{"email": "C-4@example.com"})
	testdb.MustExec(t, a.store, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, variant, holdout, entered_at)
		VALUES ('spring-sale', $1, 1, 1, 'run-C-4', 'urgent', false, now())`, late)
	testdb.MustExec(t, a.store, `UPDATE campaigns SET status = 'paused' WHERE name = 'spring-sale'`)
	var kept struct {
		Status string              `json:"status"`
		AsOf   *time.Time          `json:"as_of"`
		Arms   []store.CampaignArm `json:"arms"`
	}
	entered := func() (n int) {
		for _, a := range kept.Arms {
			n += a.Entered
		}
		return n
	}
	status, keptBody := a.do(http.MethodGet, "/v1/reports/campaigns/spring-sale", nil)
	if status != http.StatusOK || json.Unmarshal(keptBody, &kept) != nil || kept.AsOf == nil || time.Since(*kept.AsOf) > time.Minute {
		t.Fatalf("kept report: %d %s; want the refresh's time in as_of", status, keptBody)
	}
	if kept.Status != "paused" || entered() != 3 {
		t.Errorf("kept report: status %q, %d entered; want paused at once and the 3 entries the refresh counted", kept.Status, entered())
	}
	refresh()
	kept.Arms = nil
	if status, body := a.do(http.MethodGet, "/v1/reports/campaigns/spring-sale", nil); status != http.StatusOK || json.Unmarshal(body, &kept) != nil || entered() != 4 {
		t.Errorf("after the next refresh: %d entered (%s), want 4", entered(), body)
	}
	if status, body := a.do(http.MethodGet, "/v1/reports/campaigns/autumn", nil); status != http.StatusNotFound || !strings.Contains(string(body), `"field": "name"`) {
		t.Errorf("unknown campaign: %d %s", status, body)
	}
}

func TestRetentionChurnAndLifecycleOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	// C-1 first buys in January 2025 and again in February; C-2 buys once
	// in January.
	for ext, days := range map[string][]string{"C-1": {"2025-01-10", "2025-02-10"}, "C-2": {"2025-01-20"}} {
		id := a.customer(ext, map[string]any{"email": ext + "@example.com"})
		for _, d := range days {
			at, _ := time.Parse(time.DateOnly, d)
			if _, err := a.store.RecordEvent(t.Context(), store.EventInput{EventID: ext + d, CustomerID: id, Type: "purchase",
				Properties: map[string]any{"amount": 10}, OccurredAt: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	status, body := a.do(http.MethodGet, "/v1/reports/retention?since=2025-01-01&until=2025-04-01&offsets=1,2", nil)
	var ret struct {
		Rows []struct {
			Cohort string     `json:"cohort"`
			Size   int        `json:"size"`
			Rates  []*float64 `json:"rates"`
		} `json:"rows"`
	}
	// January's cohort of two: one buys in February (+1: 50%), nobody in
	// March (+2: 0%).
	if json.Unmarshal(body, &ret); status != 200 || len(ret.Rows) != 3 || ret.Rows[0].Size != 2 ||
		ret.Rows[0].Rates[0] == nil || *ret.Rows[0].Rates[0] != 0.5 || *ret.Rows[0].Rates[1] != 0 {
		t.Errorf("retention: %d %s", status, body)
	}
	// Active on March 1 with 30 days: C-1 (02-10); on April 1: nobody.
	status, body = a.do(http.MethodGet, "/v1/reports/churn?since=2025-03-01&until=2025-04-01&days=30", nil)
	var churn struct {
		Days int `json:"days"`
		Rows []struct {
			ActiveAtStart int      `json:"active_at_start"`
			Churned       int      `json:"churned"`
			Rate          *float64 `json:"rate"`
		} `json:"rows"`
	}
	if json.Unmarshal(body, &churn); status != 200 || churn.Days != 30 || len(churn.Rows) != 1 ||
		churn.Rows[0].ActiveAtStart != 1 || churn.Rows[0].Churned != 1 || *churn.Rows[0].Rate != 1 {
		t.Errorf("churn: %d %s", status, body)
	}
	// On 2025-03-01 both bought within 90 days with fewer than 3 orders.
	status, body = a.do(http.MethodGet, "/v1/reports/lifecycle?at=2025-03-01", nil)
	if status != 200 || !strings.Contains(string(body), `"stage": "active",
      "customers": 2`) {
		t.Errorf("lifecycle: %d %s", status, body)
	}
	for _, bad := range []struct{ path, field string }{
		{"/v1/reports/retention?offsets=1,x", "offsets"}, {"/v1/reports/retention?offsets=0", "offsets"},
		{"/v1/reports/churn?days=0x", "days"}, {"/v1/reports/churn?days=-3", "days"}, {"/v1/reports/lifecycle?at=soon", "at"},
	} {
		status, body := a.do(http.MethodGet, bad.path, nil)
		var e struct {
			Error struct{ Field string } `json:"error"`
		}
		if json.Unmarshal(body, &e); status != http.StatusBadRequest || e.Error.Field != bad.field {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.path, status, body, bad.field)
		}
	}
}

func TestCustomerValueAndRFMOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	// C-1 spends 30 + 50, C-2 20: historical CLV (80 + 20) / 2 = 50, AOV
	// 100 / 3.
	for ext, amounts := range map[string][]float64{"C-1": {30, 50}, "C-2": {20}} {
		id := a.customer(ext, map[string]any{"email": ext + "@example.com"})
		for i, amount := range amounts {
			if _, err := a.store.RecordEvent(t.Context(), store.EventInput{EventID: fmt.Sprint(ext, i), CustomerID: id, Type: "purchase",
				Properties: map[string]any{"amount": amount}, OccurredAt: time.Now().AddDate(0, -2+i, 0)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.store.RefreshScores(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	status, body := a.do(http.MethodGet, "/v1/reports/clv", nil)
	var clv struct {
		Total struct {
			Customers     int      `json:"customers"`
			HistoricalCLV *float64 `json:"historical_clv"`
			AOV           *float64 `json:"aov"`
		} `json:"total"`
		ByTier []struct {
			Label        string   `json:"label"`
			RevenueShare *float64 `json:"revenue_share"`
		} `json:"by_tier"`
	}
	if json.Unmarshal(body, &clv); status != 200 || clv.Total.Customers != 2 || *clv.Total.HistoricalCLV != 50 ||
		math.Abs(*clv.Total.AOV-100.0/3) > 1e-9 || len(clv.ByTier) == 0 {
		t.Errorf("clv: %d %s", status, body)
	}
	// After a refresh the report is the one it kept, with its time.
	kept := time.Now()
	if _, err := a.store.KeepReportTallies(t.Context(), kept); err != nil {
		t.Fatal(err)
	}
	status, keptBody := a.do(http.MethodGet, "/v1/reports/clv", nil)
	var keptCLV struct {
		AsOf  *time.Time      `json:"as_of"`
		Total json.RawMessage `json:"total"`
	}
	// Frequency counts the years to the report's moment; the rest is the
	// same.
	noFrequency := regexp.MustCompile(`"frequency": [^,]*,`)
	var liveCLV struct {
		Total json.RawMessage `json:"total"`
	}
	json.Unmarshal(body, &liveCLV)
	if json.Unmarshal(keptBody, &keptCLV); status != 200 || keptCLV.AsOf == nil || keptCLV.AsOf.Sub(kept).Abs() > time.Second ||
		noFrequency.ReplaceAllString(string(keptCLV.Total), "") != noFrequency.ReplaceAllString(string(liveCLV.Total), "") {
		t.Errorf("kept clv: %d %s\nwant the refresh's time in as_of and the total of\n%s", status, keptBody, body)
	}
	status, body = a.do(http.MethodGet, "/v1/reports/rfm", nil)
	var rfm struct {
		Customers int `json:"customers"`
		Cells     []struct {
			Customers int `json:"customers"`
		} `json:"cells"`
	}
	if json.Unmarshal(body, &rfm); status != 200 || rfm.Customers != 2 || len(rfm.Cells) == 0 {
		t.Errorf("rfm: %d %s", status, body)
	}
}

func TestDeliverabilityOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "c1@shop.example"})
	// Two sent newsletters to shop.example, one bounced: bounce rate 1/2.
	testdb.MustExec(t, a.store, `INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic,
			recipient, status, delivery, created_at)
		SELECT 'k' || d, $1, 'campaign/news', 'send', 'email', 'news', 'marketing', 'c1@shop.example', 'sent', d, '2026-03-02'
		FROM unnest(ARRAY['bounced', 'delivered']) d`, id)
	status, body := a.do(http.MethodGet, "/v1/reports/deliverability?since=2026-03-01&until=2026-04-01", nil)
	var rep struct {
		Total struct {
			Sent       int      `json:"sent"`
			BounceRate *float64 `json:"bounce_rate"`
		} `json:"total"`
		Breakdowns []breakdownLabels `json:"breakdowns"`
	}
	if json.Unmarshal(body, &rep); status != 200 || rep.Total.Sent != 2 || *rep.Total.BounceRate != 0.5 ||
		len(rep.Breakdowns) != 5 || rep.Breakdowns[2].By != "domain" || rep.Breakdowns[2].Rows[0].Label != "shop.example" {
		t.Errorf("deliverability: %d %s", status, body)
	}
	if status, _ := a.do(http.MethodGet, "/v1/reports/deliverability?until=last-week", nil); status != http.StatusBadRequest {
		t.Errorf("a bad until: %d", status)
	}
}

func TestJourneyReportOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "c1@example.com"})
	testdb.MustExec(t, a.store, `INSERT INTO journey_runs (journey, run_id, customer_id, started_at) VALUES ('winback', 'r1', $1, '2026-03-02')`, id)
	testdb.MustExec(t, a.store, `INSERT INTO conversions (journey, run_id, customer_id, step, revenue, currency, converted_at)
		VALUES ('winback', 'r1', $1, 'first', 42, 'EUR', '2026-03-05')`, id)
	status, body := a.do(http.MethodGet, "/v1/reports/journeys/winback?since=2026-03-01&until=2026-04-01", nil)
	var rep struct {
		Runs      int                `json:"runs"`
		Recovered int                `json:"recovered"`
		Revenue   map[string]float64 `json:"revenue"`
	}
	if json.Unmarshal(body, &rep); status != 200 || rep.Runs != 1 || rep.Recovered != 1 || rep.Revenue["EUR"] != 42 {
		t.Errorf("journey report: %d %s", status, body)
	}
}

func TestAcquisitionOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "c1@example.com"})
	for i, ev := range []store.EventInput{
		{EventID: "s1", CustomerID: id, Type: "signup", Properties: map[string]any{"source": "ads"}, OccurredAt: time.Now().Add(-48 * time.Hour)},
		{EventID: "p1", CustomerID: id, Type: "purchase", Properties: map[string]any{"amount": 90}, OccurredAt: time.Now().Add(-24 * time.Hour)},
	} {
		if _, err := a.store.RecordEvent(t.Context(), ev); err != nil {
			t.Fatal(i, err)
		}
	}
	// One buyer from ads at a cost of 30: CAC 30, CLV 90, CLV:CAC 3.
	status, body := a.do(http.MethodGet, "/v1/reports/acquisition?cost=ads=30", nil)
	var rep struct {
		Sources []struct {
			Source   string   `json:"source"`
			CAC      *float64 `json:"cac"`
			CLVToCAC *float64 `json:"clv_to_cac"`
		} `json:"sources"`
	}
	if json.Unmarshal(body, &rep); status != 200 || len(rep.Sources) != 1 || *rep.Sources[0].CAC != 30 || *rep.Sources[0].CLVToCAC != 3 {
		t.Errorf("acquisition: %d %s", status, body)
	}
	if strings.Contains(string(body), `"as_of"`) {
		t.Errorf("acquisition before a refresh has an as_of: %s", body)
	}
	// After a refresh the signup's day is kept: the same figures, with the
	// refresh's time for its buyers.
	if _, err := a.store.KeepReportTallies(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	status, keptBody := a.do(http.MethodGet, "/v1/reports/acquisition?cost=ads=30", nil)
	var live, kept struct {
		AsOf    *time.Time      `json:"as_of"`
		Sources json.RawMessage `json:"sources"`
	}
	json.Unmarshal(body, &live)
	if json.Unmarshal(keptBody, &kept); status != 200 || kept.AsOf == nil || string(kept.Sources) != string(live.Sources) {
		t.Errorf("kept acquisition: %d %s\nwant as_of and the sources of\n%s", status, keptBody, body)
	}
	if status, body := a.do(http.MethodGet, "/v1/reports/acquisition?cost=ads", nil); status != http.StatusBadRequest || !strings.Contains(string(body), `"field": "cost"`) {
		t.Errorf("a cost without an amount: %d %s", status, body)
	}
}

func TestFunnelsOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	ctx := t.Context()
	if _, _, err := a.store.ApplyCampaign(ctx, "spring", "once", store.CampaignVersion{
		Campaign: "spring", Source: "name: spring", Spec: []byte(`{"name":"spring"}`)}); err != nil {
		t.Fatal(err)
	}
	// Two customers enter; C-1 is sent the intro, clicks it and buys an
	// hour later for 12.50: the intro is credited.
	for _, ext := range []string{"C-1", "C-2"} {
		id := a.customer(ext, map[string]any{"email": ext + "@example.com"})
		testdb.MustExec(t, a.store, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, entered_at, goal_event, goal_until)
			VALUES ('spring', $1, 1, 1, $2, '2026-03-01T10:00:00Z', 'purchase', '2026-03-08T10:00:00Z')`, id, "run-"+ext)
		if ext != "C-1" {
			continue
		}
		testdb.MustExec(t, a.store, `WITH m AS (
				INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, sent_at)
				VALUES ('campaign/spring/1/' || $1::text || '/intro/1', $1::uuid, 'campaign/spring', 'intro', 'email', 'news', 'marketing', 'sent', '2026-03-01T10:00:00Z')
				RETURNING id)
			INSERT INTO message_clicks (message_id, link, url, machine, first_at, last_at)
			SELECT id, 0, 'https://shop.example/', false, '2026-03-01T11:00:00Z', '2026-03-01T11:00:00Z' FROM m`, id)
		testdb.MustExec(t, a.store, `INSERT INTO events (event_id, customer_id, type, properties, occurred_at, routed_at)
			VALUES ('o-1', $1, 'purchase', '{"amount": 12.5, "currency": "EUR"}', '2026-03-01T12:00:00Z', now())`, id)
	}
	status, body := a.do(http.MethodGet, "/v1/reports/campaigns/spring/funnel", nil)
	var rep struct {
		WindowDays float64 `json:"window_days"`
		Arms       []struct {
			Entered   int `json:"entered"`
			Converted int `json:"converted"`
			Steps     []struct {
				Step        string             `json:"step"`
				Sent        int                `json:"sent"`
				Opened      int                `json:"opened"`
				Clicked     int                `json:"clicked"`
				Conversions int                `json:"conversions"`
				Revenue     map[string]float64 `json:"revenue"`
			} `json:"steps"`
		} `json:"arms"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("campaign funnel: %d %s", status, body)
	}
	if rep.WindowDays != 7 || len(rep.Arms) != 1 || rep.Arms[0].Entered != 2 || rep.Arms[0].Converted != 1 || len(rep.Arms[0].Steps) != 1 {
		t.Fatalf("campaign funnel = %s", body)
	}
	if s := rep.Arms[0].Steps[0]; s.Step != "intro" || s.Sent != 1 || s.Opened != 1 || s.Clicked != 1 || s.Conversions != 1 || s.Revenue["EUR"] != 12.5 {
		t.Errorf("intro = %+v", s)
	}
	if strings.Contains(string(body), `"as_of"`) {
		t.Errorf("a funnel no refresh kept has an as_of: %s", body)
	}
	// A score refresh keeps the funnels, as the hourly sweep does: the
	// same report, now with its time, for a window of one's own too.
	if status, body := a.do(http.MethodPost, "/v1/segments/refresh-scores", nil); status != http.StatusOK {
		t.Fatalf("refresh scores: %d %s", status, body)
	}
	var kept struct {
		AsOf *time.Time `json:"as_of"`
	}
	status, keptBody := a.do(http.MethodGet, "/v1/reports/campaigns/spring/funnel", nil)
	if status != http.StatusOK || json.Unmarshal(keptBody, &kept) != nil || kept.AsOf == nil ||
		time.Since(*kept.AsOf) > time.Minute {
		t.Errorf("kept campaign funnel: %d %s", status, keptBody)
	}
	if strip := regexp.MustCompile(`\s*"as_of": "[^"]*",`); strip.ReplaceAllString(string(keptBody), "") != string(body) {
		t.Errorf("kept campaign funnel\n%s\nwant the one counted before\n%s", keptBody, body)
	}
	if _, body := a.do(http.MethodGet, "/v1/reports/campaigns/spring/funnel?window=7d", nil); string(body) != string(keptBody) {
		t.Errorf("the kept funnel asked with its window\n%s\nwant\n%s", body, keptBody)
	}
	if _, body := a.do(http.MethodGet, "/v1/reports/campaigns/spring/funnel?window=3w", nil); !strings.Contains(string(body), `"as_of"`) ||
		!strings.Contains(string(body), `"window_days": 21`) {
		t.Errorf("a funnel asked with a window of 3 weeks is not the kept one: %s", body)
	}
	if _, body := a.do(http.MethodGet, "/v1/reports/journeys/winback/funnel", nil); !strings.Contains(string(body), `"as_of"`) {
		t.Errorf("the kept winback funnel has no as_of: %s", body)
	}
	if status, body := a.do(http.MethodGet, "/v1/reports/journeys/winback/funnel?since=2026-01-01&window=2w", nil); status != http.StatusOK ||
		!strings.Contains(string(body), `"window_days": 14`) {
		t.Errorf("winback funnel: %d %s", status, body)
	}
	for _, bad := range []struct {
		url, field string
		status     int
	}{
		{"/v1/reports/campaigns/spring/funnel?window=forever", "window", http.StatusBadRequest},
		{"/v1/reports/campaigns/spring/funnel?window=10m", "window", http.StatusBadRequest},
		{"/v1/reports/campaigns/spring/funnel?window=0d", "window", http.StatusBadRequest},
		{"/v1/reports/campaigns/spring/funnel?window=-2h", "window", http.StatusBadRequest},
		{"/v1/reports/journeys/winback/funnel?window=400d", "window", http.StatusBadRequest},
		{"/v1/reports/journeys/winback/funnel?since=whenever", "since", http.StatusBadRequest},
		{"/v1/reports/campaigns/autumn/funnel", "name", http.StatusNotFound},
		{"/v1/reports/journeys/nosuch/funnel", "name", http.StatusNotFound},
	} {
		status, body := a.do(http.MethodGet, bad.url, nil)
		if status != bad.status || !strings.Contains(string(body), `"field": "`+bad.field+`"`) {
			t.Errorf("%s: %d %s, want %d naming %s", bad.url, status, body, bad.status, bad.field)
		}
	}
}
