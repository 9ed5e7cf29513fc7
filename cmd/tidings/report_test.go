package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

	for _, bad := range []struct {
		flag string
		args []string
	}{
		{"--since", []string{"report", "nps", "--since", "last spring"}},
		{"--by", []string{"report", "csat", "--by", "colour"}},
		{"--until", []string{"report", "nps", "--since", "2026-04-01", "--until", "2026-03-01"}},
	} {
		if r := tidings(t, env, bad.args...); r.code != exitUsage || !strings.Contains(r.stderr, bad.flag+":") {
			t.Errorf("%v, want a usage error naming %s:\n%s", bad.args, bad.flag, r)
		}
	}
}

// TestReportsDocsCommandsWork runs every sh block of docs/reports.md as
// written, through a shell, against a database with survey answers.
func TestReportsDocsCommandsWork(t *testing.T) {
	t.Parallel()
	env, s := migratedEnv(t)
	seedSurveys(t, s)
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
