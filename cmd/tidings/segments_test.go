package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestSegmentsCommands(t *testing.T) {
	s, dsn := testdb.New(t)
	env := map[string]string{"TIDINGS_DATABASE_URL": dsn}
	testdb.MustExec(t, s, `
		INSERT INTO customers (external_id, first_name, locale, time_zone, country, orders_count, total_spent, first_purchase_at, last_purchase_at)
		VALUES ('C-1', 'Ada', 'en', 'Europe/London', 'GB', 4, 400, now() - interval '300 days', now() - interval '5 days'),
		       ('C-2', 'Bo', 'zh-CN', 'Asia/Shanghai', 'CN', 1, 30, now() - interval '200 days', now() - interval '200 days'),
		       ('C-3', 'Cy', 'en', 'America/New_York', 'US', 0, 0, NULL, NULL)`)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	recent := write("recent.yaml", "name: recent-en\ndescription: English buyers this quarter\nmatch:\n  all:\n    - locale: en\n    - last_purchase_at: {within: 90d}\n")
	tier := write("tier.json", `{"match": {"value_tier": "high"}}`)
	bad := write("bad.yaml", "match:\n  all:\n    - locle: en\n    - orders_count: {gte: many}\n")

	out, errOut, code := runTidings(t, env, "segments", "count", recent)
	if code != 0 || !strings.HasPrefix(out, "recent-en: 1 customers (query ") {
		t.Fatalf("count: code %d\n%s%s", code, out, errOut)
	}

	_, errOut, code = runTidings(t, env, "segments", "count", bad)
	if code != exitUsage || !strings.Contains(errOut, bad+":3:7: match.all[0].locle: unknown field \"locle\" (did you mean locale?)") ||
		!strings.Contains(errOut, bad+":4:27: match.all[1].orders_count.gte: expected a whole number, got text \"many\"") {
		t.Fatalf("bad file: code %d\n%s", code, errOut)
	}

	_, errOut, code = runTidings(t, env, "segments", "count", tier)
	if code != 0 || !strings.Contains(errOut, "never been computed") {
		t.Fatalf("score segment before refresh: code %d, stderr %q; want a warning", code, errOut)
	}
	out, _, code = runTidings(t, env, "segments", "refresh-scores")
	if code != 0 || !strings.HasPrefix(out, "scored 3 customers, 3 changed") {
		t.Fatalf("refresh-scores: code %d\n%s", code, out)
	}
	out, errOut, code = runTidings(t, env, "segments", "preview", tier, "--limit", "5")
	if code != 0 || errOut != "" || !strings.Contains(out, "1 customers") || !strings.Contains(out, "C-1") ||
		!strings.Contains(out, "Ada") || !strings.Contains(out, "Europe/London") || !strings.Contains(out, "loyal") || strings.Contains(out, "C-2") {
		t.Fatalf("preview: code %d\n%s%s", code, out, errOut)
	}

	out, _, code = runTidings(t, env, "segments", "save", recent)
	if code != 0 || out != "segment recent-en inserted\n" {
		t.Fatalf("save: code %d %q", code, out)
	}
	out, _, _ = runTidings(t, env, "segments", "save", recent)
	if out != "segment recent-en unchanged\n" {
		t.Fatalf("second save: %q", out)
	}
	_, errOut, code = runTidings(t, env, "segments", "save", tier)
	if code != exitUsage || !strings.Contains(errOut, "no name") {
		t.Fatalf("save without a name: code %d %q", code, errOut)
	}
	out, _, code = runTidings(t, env, "segments", "save", tier, "--name", "high-value")
	if code != 0 || out != "segment high-value inserted\n" {
		t.Fatalf("save --name: code %d %q", code, out)
	}
	_, errOut, code = runTidings(t, env, "segments", "save", bad, "--name", "broken")
	if code != exitUsage || !strings.Contains(errOut, ":3:7:") {
		t.Fatalf("save of a bad file: code %d %q", code, errOut)
	}
	out, _, code = runTidings(t, env, "segments", "list", "--count")
	if code != 0 || !strings.Contains(out, "high-value") || !strings.Contains(out, "recent-en") ||
		!strings.Contains(out, "English buyers this quarter") || strings.Contains(out, "broken") {
		t.Fatalf("list: code %d\n%s", code, out)
	}
	out, _, code = runTidings(t, env, "segments", "count", "recent-en")
	if code != 0 || !strings.HasPrefix(out, "recent-en: 1 customers") {
		t.Fatalf("count by name: code %d %q", code, out)
	}
	out, _, _ = runTidings(t, env, "segments", "show", "recent-en")
	if !strings.Contains(out, "last_purchase_at: {within: 90d}") {
		t.Fatalf("show: %q", out)
	}
	_, errOut, code = runTidings(t, env, "segments", "count", "no-such-segment")
	if code != exitUsage || !strings.Contains(errOut, "no such file and no saved segment") {
		t.Fatalf("unknown name: code %d %q", code, errOut)
	}
}
