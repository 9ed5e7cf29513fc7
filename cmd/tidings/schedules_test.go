package main

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
)

// TestSchedulesApplyChecksSegmentsFirst: a care send whose segment is not
// saved is refused before anything reaches Temporal; once it is saved the
// file validates.
func TestSchedulesApplyChecksSegmentsFirst(t *testing.T) {
	env, s := migratedEnv(t)
	file := writeFile(t, "schedules.yaml", `schedules:
  - id: vip-checkin
    cron: "0 10 1 * *"
    time_zone: Asia/Shanghai
    run: care_send
    template: care
    segment: vip-zh
`)
	r := tidings(t, env, "schedules", "apply", file, "--dry-run")
	if r.code != exitUsage || !strings.Contains(r.stderr, `schedule "vip-checkin": segment "vip-zh" is not saved`) {
		t.Fatalf("unsaved segment: %s", r)
	}
	if _, _, err := s.SaveSegment(t.Context(), store.Segment{Name: "vip-zh", Format: "yaml", Definition: "match:\n  locale: zh-CN\n"}); err != nil {
		t.Fatal(err)
	}
	r = tidings(t, env, "schedules", "apply", file, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "vip-checkin: valid (dry run) — care_send \"0 10 1 * *\" in Asia/Shanghai") {
		t.Fatalf("saved segment: %s", r)
	}
}

// TestSchedulesApplyRefusesWhatNeverRuns: a cron that never fires and an
// abbreviated zone are refused at their line and column, with exit 2,
// before the database or Temporal is touched.
func TestSchedulesApplyRefusesWhatNeverRuns(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "schedules.yaml", `schedules:
  - id: leap-care
    cron: "0 9 31 4 *"
    time_zone: EST
    run: care_send
    template: care
`)
	r := tidings(t, map[string]string{}, "schedules", "apply", file)
	for _, want := range []string{
		`schedules.yaml:3:11: schedule "leap-care": cron: "0 9 31 4 *" never fires: day-of-month 31 never occurs in month 4`,
		`schedules.yaml:4:16: schedule "leap-care": time_zone: "EST" is not an IANA time zone (abbreviations are ambiguous); write America/New_York`,
	} {
		if r.code != exitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("want exit 2 and %q\n%s", want, r)
		}
	}
}
