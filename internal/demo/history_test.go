package demo

import (
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// loaded is a test database holding the demo company loaded now.
func loaded(t *testing.T) (*store.Store, time.Time) {
	t.Helper()
	st, _ := testdb.New(t)
	now := time.Now()
	if _, err := Load(t.Context(), st, 0, DefaultSeed, now); err != nil {
		t.Fatal(err)
	}
	return st, now
}

// TestDemoHistoryFillsEveryReport: after a load, each report has real
// figures to show (a campaign with variants and a holdout that converts,
// opened and clicked messages and bounces, NPS and CSAT with detractors'
// comments in the three languages, signups by source, stages this month),
// and loading again adds no row of it.
func TestDemoHistoryFillsEveryReport(t *testing.T) {
	t.Parallel()
	st, now := loaded(t)
	ctx := t.Context()
	tables := []string{"campaign_entries", "messages", "message_opens", "message_clicks", "journey_runs", "survey_responses", "events", "customer_stages"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(t, st, `SELECT count(*) FROM `+tb)
	}

	c, err := reports.Campaign(ctx, st, HistoryCampaign)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Arms) != 3 || !c.Arms[2].Holdout || c.Uplift == nil || len(c.Variants) != 2 {
		t.Fatalf("campaign report: %+v, want two variants and a holdout with an uplift", c)
	}
	for _, a := range c.Arms {
		if a.Entered < 20 || a.Converted == 0 {
			t.Errorf("arm %q: %d entered, %d converted; want some of each", a.Variant, a.Entered, a.Converted)
		}
	}
	f, err := reports.CampaignFunnel(ctx, st, HistoryCampaign, reports.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range f.Arms[:2] {
		if len(a.Steps) != 1 || a.Steps[0].Opened == 0 || a.Steps[0].Clicked == 0 || a.Steps[0].Delivered == a.Steps[0].Sent {
			t.Errorf("funnel of %q: %+v, want opens, clicks and some bounces", a.Arm, a.Steps)
		}
	}

	p := reports.Period{Since: reports.MonthsBack(now, 18), Until: now.Add(time.Hour)}
	for kind, report := range map[string]func() (reports.SurveyReport, error){
		"nps": func() (reports.SurveyReport, error) {
			return reports.NPS(ctx, st, reports.SurveyQuery{Period: p, Comments: 200})
		},
		"csat": func() (reports.SurveyReport, error) {
			return reports.CSAT(ctx, st, reports.SurveyQuery{Period: p, Comments: 200})
		},
	} {
		r, err := report()
		if err != nil {
			t.Fatal(err)
		}
		if r.Total.Responses < 20 || r.Total.Score == nil || len(r.Detractors) == 0 {
			t.Errorf("%s: %d responses, score %v, %d detractors; want all of them", kind, r.Total.Responses, r.Total.Score, len(r.Detractors))
		}
	}
	zhTW := count(t, st, `SELECT count(*) FROM survey_responses WHERE comment LIKE '%訂購%' OR comment LIKE '%出貨%' OR comment LIKE '%回覆%'`)
	zhCN := count(t, st, `SELECT count(*) FROM survey_responses WHERE comment LIKE '%快递%' OR comment LIKE '%回复%' OR comment LIKE '%下单%'`)
	if zhTW == 0 || zhCN == 0 || count(t, st, `SELECT count(*) FROM survey_responses WHERE comment ~ '^[A-Z]'`) == 0 {
		t.Errorf("comments in zh-TW %d, zh-CN %d; want comments in English, Simplified and Traditional Chinese", zhTW, zhCN)
	}

	acq, err := reports.Acquisition(ctx, st, reports.Period{Since: reports.MonthsBack(now, 24), Until: now.Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acq.Sources) != 5 {
		t.Errorf("acquisition by source: %+v, want 5 sources", acq.Sources)
	}
	if n := count(t, st, `SELECT count(*) FROM events WHERE type = 'signup' AND routed_at IS NULL`); n != 0 {
		t.Errorf("%d history signups wait for routing; history must not start onboarding", n)
	}

	if _, err := Load(ctx, st, 0, DefaultSeed, now.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if got := count(t, st, `SELECT count(*) FROM `+tb); got != before[tb] {
			t.Errorf("%s: %d rows after loading again, %d before", tb, got, before[tb])
		}
	}
}
