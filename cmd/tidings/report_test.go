package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// seedSurveys stores, ten days ago, an NPS of 10 from C-1 (en) and of 3
// with a comment from C-2 (zh-TW), both after a delivery, and a CSAT of 5
// from C-1 after a ticket: NPS 100 × (1 − 1) / 2 = 0, CSAT 100.
func seedSurveys(t *testing.T, s *store.Store) {
	t.Helper()
	at := time.Now().Add(-10 * 24 * time.Hour)
	for i, a := range []struct {
		ext, locale, kind, trigger, comment string
		score                               int
	}{
		{"C-1", "en", "nps", "order_delivered", "", 10},
		{"C-2", "zh-TW", "nps", "order_delivered", "parcel arrived late", 3},
		{"C-1", "en", "csat", "ticket_closed", "", 5},
	} {
		var id string
		if err := s.Pool().QueryRow(t.Context(), `INSERT INTO customers (external_id, locale) VALUES ($1, $2)
			ON CONFLICT (external_id) DO UPDATE SET locale = excluded.locale RETURNING id::text`, a.ext, a.locale).Scan(&id); err != nil {
			t.Fatal(err)
		}
		run := "run-" + string(rune('a'+i))
		testdb.MustExec(t, s, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ('survey', $1, $2, $3, $4)`, run, id, a.trigger, at)
		testdb.MustExec(t, s, `WITH m AS (
				INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status, sent_at)
				VALUES ($1, $2, 'survey', 'survey', 'email', 'survey_request', 'surveys', 'sent', $5)
				RETURNING id)
			INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
			SELECT $2, $3, $4, $6, id, $5 FROM m`,
			"survey/"+id+"/"+run+"/survey", id, a.kind, a.score, at.Add(time.Hour), a.comment)
	}
}

// seedCampaign stores the campaign spring-winback with 120 entries in
// variant calm (18 reach the goal), 120 in urgent (30) and 100 in the
// holdout (5).
func seedCampaign(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := t.Context()
	if _, _, err := s.ApplyCampaign(ctx, "spring win-back", "once", store.CampaignVersion{
		Campaign: "spring-winback", Source: "name: spring-winback", Spec: []byte(`{"name":"spring-winback"}`),
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-24 * time.Hour)
	testdb.MustExec(t, s, `INSERT INTO customers (external_id) SELECT 'W-' || i FROM generate_series(1, 340) i`)
	testdb.MustExec(t, s, `
		INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, variant, holdout, entered_at, goal_event, goal_until, goal_at)
		SELECT 'spring-winback', c.id, 1, 1, 'run-' || c.external_id,
			CASE WHEN n <= 120 THEN 'calm' WHEN n <= 240 THEN 'urgent' ELSE '' END, n > 240, $1, 'purchase', $1::timestamptz + interval '14 days',
			CASE WHEN n <= 18 OR n BETWEEN 121 AND 150 OR n BETWEEN 241 AND 245 THEN $1::timestamptz + interval '1 hour' END
		FROM (SELECT id, external_id, substr(external_id, 3)::int AS n FROM customers WHERE external_id LIKE 'W-%') c`, at)
}

// seedPurchases gives C-1 a purchase 70 days ago and another 10 days ago,
// and C-2 one 40 days ago.
func seedPurchases(t *testing.T, s *store.Store) {
	t.Helper()
	now := time.Now()
	var in []store.EventInput
	for _, p := range []struct {
		ext  string
		days int
	}{{"C-1", 70}, {"C-1", 10}, {"C-2", 40}} {
		c, err := s.CustomerByExternalID(t.Context(), p.ext)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, store.EventInput{EventID: fmt.Sprintf("buy-%s-%d", p.ext, p.days), CustomerID: c.ID, Type: store.PurchaseEvent,
			Properties: map[string]any{"amount": 25}, OccurredAt: now.AddDate(0, 0, -p.days), Unrouted: true})
	}
	if _, err := s.RecordEvents(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

func TestReportRetentionChurnLifecycle(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	seedPurchases(t, s)
	r := tidings(t, env, "report", "lifecycle")
	// C-1: first purchase 70 days ago, last 10 days ago, 2 orders: active.
	// C-2: one purchase 40 days ago: active.
	if r.code != 0 || !strings.Contains(r.stdout, "2 customers by lifecycle stage") || !regexp.MustCompile(`(?m)^active +2 +100\.0%$`).MatchString(r.stdout) {
		t.Errorf("lifecycle:\n%s", r)
	}
	r = tidings(t, env, "report", "churn", "--days", "30", "--since", "45d", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "month,active_at_start,churned,churn_rate,gained,active_at_end" {
		t.Errorf("churn csv (%v):\n%s", err, r)
	}
	r = tidings(t, env, "report", "retention", "--offsets", "1,2")
	if r.code != 0 || !strings.Contains(r.stdout, "COHORT") || !strings.Contains(r.stdout, "+2") {
		t.Errorf("retention:\n%s", r)
	}
	for _, bad := range [][]string{{"report", "churn", "--days", "0"}, {"report", "retention", "--offsets", "0"}, {"report", "lifecycle", "--at", "soon"}} {
		if r := tidings(t, env, bad...); r.code != exitUsage || !strings.Contains(r.stderr, bad[2]) {
			t.Errorf("%v:\n%s", bad, r)
		}
	}
}

func TestReportCLVAndRFM(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	seedPurchases(t, s)
	if r := tidings(t, env, "report", "rfm"); r.code != 0 || !strings.Contains(r.stdout, "no scores yet") {
		t.Errorf("rfm before scoring:\n%s", r)
	}
	if _, err := s.RefreshScores(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Two buyers, three orders of 25: historical CLV 37.50, AOV 25.00.
	r := tidings(t, env, "report", "clv", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) < 2 || strings.Join(rows[1][:7], ",") != "total,2,3,75.00,1,37.50,25.00" {
		t.Errorf("clv csv (%v):\n%s", err, r)
	}
	if r := tidings(t, env, "report", "rfm"); r.code != 0 || !strings.Contains(r.stdout, "2 scored customers") {
		t.Errorf("rfm:\n%s", r)
	}
	// After the refresh, the kept figures with their time.
	if r := tidings(t, env, "segments", "refresh-scores"); r.code != 0 {
		t.Fatal(r)
	}
	if r := tidings(t, env, "report", "clv"); r.code != 0 || !strings.Contains(r.stdout, "customer value of 2 buyers as of ") ||
		!strings.Contains(r.stdout, "kept by the hourly refresh") {
		t.Errorf("clv after a refresh:\n%s", r)
	}
	if r := tidings(t, env, "report", "acquisition"); r.code != 0 || !strings.Contains(r.stdout, "buyers and revenue of the signups before ") {
		t.Errorf("acquisition after a refresh:\n%s", r)
	}
	if r := tidings(t, env, "report", "clv", "--by", "country"); r.code != exitUsage {
		t.Errorf("clv --by country:\n%s", r)
	}
}

func TestReportDeliverability(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	// The three survey mails went to customers without an address: domain
	// "(unknown)", all sent, nothing reported back.
	r := tidings(t, env, "report", "deliverability", "--by", "domain", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 3 || strings.Join(rows[2][:9], ",") != "(unknown),3,0,0,0,0,0,0,0" || rows[2][10] != "0" {
		t.Errorf("deliverability csv (%v):\n%s", err, r)
	}
	r = tidings(t, env, "report", "deliverability")
	if r.code != 0 || !regexp.MustCompile(`(?m)^surveys +3 +0 +0 +0 +0 +0 +0 +0 +0\.00% +0\.00%`).MatchString(r.stdout) {
		t.Errorf("deliverability by topic:\n%s", r)
	}
	if r := tidings(t, env, "report", "deliverability", "--by", "country"); r.code != exitUsage {
		t.Errorf("--by country:\n%s", r)
	}
}

func TestReportJourney(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	c, err := s.CustomerByExternalID(t.Context(), "C-1")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().AddDate(0, 0, -5)
	testdb.MustExec(t, s, `INSERT INTO journey_runs (journey, run_id, customer_id, started_at) VALUES ('winback', 'w1', $1, $2)`, c.ID, at)
	testdb.MustExec(t, s, `INSERT INTO conversions (journey, run_id, customer_id, step, revenue, currency, converted_at)
		VALUES ('winback', 'w1', $1, 'first', 42, 'USD', $2)`, c.ID, at.Add(time.Hour))
	r := tidings(t, env, "report", "journey", "winback")
	for _, want := range []string{"1 runs for 1 customers started; 1 converted (100.0%)", "1 customers converted in the period, 42.00 USD", "first  USD       1            1          42.00"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("journey report lacks %q:\n%s", want, r)
		}
	}
}

func TestReportAcquisitionSaysWhatToSend(t *testing.T) {
	t.Parallel()
	env, _ := migratedEnv(t)
	if r := tidings(t, env, "report", "acquisition"); r.code != 0 || !strings.Contains(r.stdout, `send signup events with a "source" property`) {
		t.Errorf("acquisition without signups:\n%s", r)
	}
	if r := tidings(t, env, "report", "acquisition", "--cost", "ads"); r.code != exitUsage || !strings.Contains(r.stderr, "--cost:") {
		t.Errorf("--cost ads:\n%s", r)
	}
}

func TestReportCampaignUplift(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedCampaign(t, s)
	r := tidings(t, env, "report", "campaign", "spring-winback")
	// Treatment 48/240 = 20%, holdout 5/100 = 5%: +15 points; Newcombe's
	// interval from Wilson [0.15430, 0.25515] and [0.02154, 0.11175]:
	// 0.15 − √(0.04570² + 0.06175²) = 0.0732, 0.15 + √(0.05515² + 0.02846²) = 0.2121.
	// urgent beats calm: P(Beta(31,91) > Beta(19,103)) = 0.973 by numerical
	// integration.
	for _, want := range []string{
		"uplift +15.0 percentage points",
		"95% interval +7.3 to +21.2 points (Newcombe hybrid score interval (95%)): treatment converts better",
		"calm     120      18         15.0%       2.7%",
		"urgent   120      30         25.0%       97.3%",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

func TestReportFunnel(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedCampaign(t, s)
	// seedCampaign: 120 calm (18 reach the goal), 120 urgent (30), 100
	// held out (5); no message has been sent yet, so every conversion is
	// unattributed.
	r := tidings(t, env, "report", "funnel", "campaign", "spring-winback", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || strings.Join(rows[0], ",") != "arm,stage,step,entries,rate,conversions,revenue" {
		t.Fatalf("funnel csv (%v):\n%s", err, r)
	}
	var got []string
	for _, row := range rows[1:] {
		got = append(got, strings.Join(row, ","))
	}
	want := []string{"calm,entered,,120,,,", "calm,unattributed,,,,18,", "calm,converted,,18,15.0%,18,",
		"urgent,entered,,120,,,", "urgent,unattributed,,,,30,", "urgent,converted,,30,25.0%,30,",
		"holdout,entered,,100,,,", "holdout,unattributed,,,,5,", "holdout,converted,,5,5.0%,5,"}
	if !slices.Equal(got, want) {
		t.Errorf("funnel rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := tidings(t, env, "report", "funnel", "journey", "winback", "--window", "14d"); r.code != 0 || !strings.Contains(r.stdout, "within 14 days") ||
		!strings.Contains(r.stdout, "nobody has entered yet") {
		t.Errorf("winback funnel:\n%s", r)
	}
	// Before any refresh the funnel is counted now; a score refresh keeps
	// it, as the hourly sweep does, and the report then says as of when.
	if r := tidings(t, env, "report", "funnel", "campaign", "spring-winback"); r.code != 0 || !strings.Contains(r.stdout, "\ncounted now\n") {
		t.Errorf("funnel before any refresh:\n%s", r)
	}
	if r := tidings(t, env, "segments", "refresh-scores"); r.code != 0 {
		t.Fatalf("refresh-scores:\n%s", r)
	}
	for _, args := range [][]string{{"campaign", "spring-winback"}, {"journey", "winback"}} {
		r := tidings(t, env, append([]string{"report", "funnel"}, args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "\nas of ") || !strings.Contains(r.stdout, "kept by the hourly refresh") {
			t.Errorf("%s funnel after a refresh:\n%s", args[0], r)
		}
	}
	if r := tidings(t, env, "report", "funnel", "journey", "winback", "--since", "90d", "--window", "3d"); r.code != 0 ||
		!strings.Contains(r.stdout, "within 3 days") || !strings.Contains(r.stdout, "kept by the hourly refresh; entries since then counted now") {
		t.Errorf("winback funnel of a period and window of one's own:\n%s", r)
	}
	if r := tidings(t, env, "report", "funnel", "journey", "winback", "--since", "2020-01-01", "--until", "2020-06-01"); r.code != 0 ||
		!strings.Contains(r.stdout, "\ncounted now\n") {
		t.Errorf("winback funnel of a period before the kept months:\n%s", r)
	}
	refused(t, env, []badUsage{
		{[]string{"report", "funnel", "campaign", "spring-winback", "--window", "soon"}, "--window:"},
		{[]string{"report", "funnel", "journey", "nosuch"}, `no journey named "nosuch"`},
		{[]string{"report", "funnel", "campaign", "nosuch"}, "nosuch"},
		{[]string{"report", "funnel", "segment", "x"}, "say campaign or journey"},
	})
}

// badUsage is a command line the CLI refuses with a usage error whose
// message contains says.
type badUsage struct {
	args []string
	says string
}

func refused(t *testing.T, env map[string]string, cases []badUsage) {
	t.Helper()
	for _, bad := range cases {
		if r := tidings(t, env, bad.args...); r.code != exitUsage || !strings.Contains(r.stderr, bad.says) {
			t.Errorf("%v, want a usage error saying %s:\n%s", bad.args, bad.says, r)
		}
	}
}

func TestReportStagesAfterARefresh(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	seedPurchases(t, s)
	if r := tidings(t, env, "report", "stages", "--since", "2026-01-01", "--until", "2026-03-01", "--csv"); r.code != 0 ||
		r.stdout != "month,new,prospect,loyal,active,at_risk,lapsed,total,moved,joined\n2026-01,,,,,,,,,\n2026-02,,,,,,,,,\n" {
		t.Errorf("stages before any refresh, want months without counts:\n%s", r)
	}
	if r := tidings(t, env, "segments", "refresh-scores"); r.code != 0 {
		t.Fatal(r)
	}
	// Both buyers are active (see TestReportRetentionChurnLifecycle), both
	// recorded for the first time this month.
	r := tidings(t, env, "report", "stages", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 13 {
		t.Fatalf("stages (%v):\n%s", err, r)
	}
	if got := strings.Join(rows[12], ","); got != time.Now().UTC().Format("2006-01")+",0,0,0,2,0,0,2,0,2" {
		t.Errorf("this month's stages = %s", got)
	}
	if r := tidings(t, env, "report", "stages", "--by", "flow"); r.code != 0 || !regexp.MustCompile(`(?m)^\d{4}-\d\d +- +active +2$`).MatchString(r.stdout) {
		t.Errorf("stage flows:\n%s", r)
	}
	if r := tidings(t, env, "report", "stages", "--by", "week"); r.code != exitUsage || !strings.Contains(r.stderr, "--by:") {
		t.Errorf("--by week:\n%s", r)
	}
}

func TestReportNPSAndCSAT(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)

	r := tidings(t, env, "report", "nps", "--by", "locale")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{
		"NPS 0.0 from 2 responses: 1 promoters, 0 passives, 1 detractors; response rate 100.0% of 2 invitations",
		"LOCALE", "zh-TW", "-100.0", `C-2`, `"parcel arrived late"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nps table lacks %q:\n%s", want, r.stdout)
		}
	}

	r = tidings(t, env, "report", "csat", "--by", "trigger", "--csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 3 {
		t.Fatalf("csat csv (%v):\n%s", err, r)
	}
	if got := strings.Join(rows[2], ","); got != "ticket_closed,1,1,1,1,1,0,0,100,5" {
		t.Errorf("csat by trigger = %s", got)
	}

	r = tidings(t, env, "report", "nps", "--json")
	var rep struct {
		Total      struct{ Score *float64 }
		Detractors []struct {
			ExternalID string `json:"external_id"`
		}
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Total.Score == nil || *rep.Total.Score != 0 ||
		len(rep.Detractors) != 1 || rep.Detractors[0].ExternalID != "C-2" {
		t.Errorf("nps json:\n%s", r)
	}

	refused(t, env, []badUsage{
		{[]string{"report", "nps", "--since", "last spring"}, "--since:"},
		{[]string{"report", "csat", "--by", "colour"}, "--by:"},
		{[]string{"report", "nps", "--since", "2026-04-01", "--until", "2026-03-01"}, "--until:"},
	})
}

// TestReportsDocsCommandsWork runs every sh block of docs/reports.md as
// written, through a shell, against a database with survey answers.
func TestReportsDocsCommandsWork(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
	seedCampaign(t, s)
	seedPurchases(t, s)
	dir := t.TempDir()
	bin := installBinary(t, dir)
	f, err := os.Open("../../docs/reports.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && line == "```sh":
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if len(blocks) == 0 {
		t.Fatal("docs/reports.md has no sh blocks")
	}
	for _, b := range blocks {
		cmd := exec.CommandContext(t.Context(), "sh", "-ec", b)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":/usr/bin:/bin", "HOME=" + dir}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("docs/reports.md block failed (%v):\n%s\noutput:\n%s", err, b, out)
		}
	}
}
