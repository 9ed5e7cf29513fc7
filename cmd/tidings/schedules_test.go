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
