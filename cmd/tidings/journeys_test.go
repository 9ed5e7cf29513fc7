package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestJourneysListShowsTheParametersInForce: the policy file's values are
// shown as set, the rest as their defaults, beside each journey's triggers
// and the runs in flight the database holds.
func TestJourneysListShowsTheParametersInForce(t *testing.T) {
	t.Parallel()
	env, st := migratedEnv(t)
	// One customer's cross-sell ended, another's is in flight.
	for i, ext := range []string{"C-1", "C-2"} {
		c, _, err := st.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: ext, Email: testdb.String(ext + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ClaimJourneyRun(t.Context(), store.JourneyRun{Journey: "cross_sell", RunID: ext, CustomerID: c.ID, StartedAt: time.Now()}, 0); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := st.FinishJourneyRun(t.Context(), "cross_sell", ext, "completed", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	env["TIDINGS_POLICY_FILE"] = writeFile(t, "policy.yaml", "journeys:\n  cross_sell: {delay: 5d, send_time: \"09:30\"}\n  winback:\n    lapsed_after: 90d\n")
	r := tidings(t, env, "journeys", "list")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{
		`(?m)^cross_sell: `,
		`(?m)^  started by +purchase$`,
		`(?m)^  runs in flight +1$`,
		`(?m)^  delay +5d +set +`,
		`(?m)^  send_time +09:30 +set +`,
		`(?m)^  window +30d +default +`,
		`(?m)^  lapsed_after +90d +set +`,
		`(?m)^  cooldown +180d +default +`,
		`(?m)^  tips_day +2 +default +`,
		`(?m)^  scheduled as +run: birthday_sweep$`,
		`(?m)^  hears +survey_answered, survey_commented$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("journeys list has no line matching %s:\n%s", want, r.stdout)
		}
	}
}

func TestJourneysListReportsAPolicyFileMistakeWhereItIs(t *testing.T) {
	t.Parallel()
	env, _ := migratedEnv(t)
	path := writeFile(t, "policy.yaml", "journeys:\n  cross_sell:\n    delay: soon\n")
	env["TIDINGS_POLICY_FILE"] = path
	r := tidings(t, env, "journeys", "list")
	if r.code != exitUsage || !strings.Contains(r.stderr, path+":3:12") || !strings.Contains(r.stderr, "soon") {
		t.Errorf("want exit %d naming %s:3:12 and the value; got %s", exitUsage, path, r)
	}
}

// TestJourneysRunsListsACustomersRunsNewestFirst: the run in flight shows
// as running, the finished one with its outcome, another customer's not
// at all.
func TestJourneysRunsListsACustomersRunsNewestFirst(t *testing.T) {
	t.Parallel()
	env, st := migratedEnv(t)
	ids := map[string]string{}
	for _, ext := range []string{"C-1", "C-2"} {
		c, _, err := st.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: ext, Email: testdb.String(ext + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		ids[ext] = c.ID
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, r := range []store.JourneyRun{
		{Journey: "onboarding", RunID: "o-1", CustomerID: ids["C-1"], Trigger: "signup-1", StartedAt: start},
		{Journey: "cross_sell", RunID: "x-1", CustomerID: ids["C-1"], Trigger: "order-7", StartedAt: start.Add(48 * time.Hour)},
		{Journey: "onboarding", RunID: "o-2", CustomerID: ids["C-2"], Trigger: "signup-2", StartedAt: start},
	} {
		if _, err := st.ClaimJourneyRun(t.Context(), r, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.FinishJourneyRun(t.Context(), "onboarding", "o-1", "converted", start.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := tidings(t, env, "journeys", "runs", "C-1")
	if r.code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 ||
		!regexp.MustCompile(`^cross_sell +order-7 +2026-03-04T09:00:00Z +\(running\)$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^onboarding +signup-1 +2026-03-02T09:00:00Z +2026-03-03T09:00:00Z +converted$`).MatchString(lines[2]) {
		t.Errorf("runs of C-1:\n%s\nwant the cross-sell running, then the converted onboarding, and nothing of C-2", r.stdout)
	}
	if r := tidings(t, env, "journeys", "runs", "C-404"); r.code != exitFailure || !strings.Contains(r.stderr, "C-404") {
		t.Errorf("unknown customer: %s", r)
	}
}
