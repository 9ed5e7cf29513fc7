package schedules

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"
)

const taskQueue = "schedules-test"

func describe(t *testing.T, sc client.ScheduleClient, id string) *client.ScheduleDescription {
	t.Helper()
	d, err := sc.GetHandle(t.Context(), id).Describe(t.Context())
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	return d
}

func TestApplyCreatesUpdatesAndLeavesUnchanged(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	sc := ts.GetDefaultClient().ScheduleClient()
	f, err := Parse("s.yaml", []byte(goodFile))
	if err != nil {
		t.Fatal(err)
	}
	outcomes := func(rs []Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID+"="+r.Outcome)
		}
		return out
	}
	res, err := Apply(t.Context(), sc, f, taskQueue)
	if err != nil || !slices.Equal(outcomes(res), []string{"birthday-sweep=created", "vip-holiday=created"}) {
		t.Fatalf("first apply = %v, %v", outcomes(res), err)
	}
	before := describe(t, sc, "vip-holiday").Info.LastUpdateAt
	res, err = Apply(t.Context(), sc, f, taskQueue)
	if err != nil || !slices.Equal(outcomes(res), []string{"birthday-sweep=unchanged", "vip-holiday=unchanged"}) {
		t.Fatalf("re-apply = %v, %v; want nothing changed", outcomes(res), err)
	}
	if after := describe(t, sc, "vip-holiday").Info.LastUpdateAt; !after.Equal(before) {
		t.Errorf("re-applying touched the schedule (last update %v → %v)", before, after)
	}

	f.Schedules[0].Cron = "15 * * * *"
	f.Schedules[1].Paused = false
	res, err = Apply(t.Context(), sc, f, taskQueue)
	if err != nil || !slices.Equal(outcomes(res), []string{"birthday-sweep=updated", "vip-holiday=updated"}) {
		t.Fatalf("apply after edits = %v, %v", outcomes(res), err)
	}
	if d := describe(t, sc, "vip-holiday"); d.Schedule.State.Paused {
		t.Error("vip-holiday still paused after applying paused: false")
	}
	next := describe(t, sc, "birthday-sweep").Info.NextActionTimes
	if len(next) == 0 || next[0].Minute() != 15 {
		t.Errorf("birthday sweep next fires %v, want at minute 15", next)
	}
}

// TestPreviewMatchesTemporal checks that the preview shown before applying
// is what the Temporal server then reports, in zones with and without DST.
func TestPreviewMatchesTemporal(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	sc := ts.GetDefaultClient().ScheduleClient()
	cases := []Schedule{
		{ID: "hourly", Cron: "0 * * * *", Run: "birthday_sweep"},
		{ID: "weekday-mornings", Cron: "30 9 * * MON-FRI", TimeZone: "Asia/Shanghai", Run: "winback_sweep"},
		{ID: "ny-evenings", Cron: "0 18 * * 1,3,5", TimeZone: "America/New_York", Run: "winback_sweep"},
		{ID: "monthly", Calendar: &Calendar{Hour: "8", DayOfMonth: "1"}, TimeZone: "Europe/London", Run: "care_send", Template: "monthly_tips"},
		{ID: "quarter-hours", Cron: "*/15 8-18 * * *", TimeZone: "Asia/Taipei", Run: "winback_sweep"},
		{ID: "new-year", Cron: "0 0 1 1 *", TimeZone: "Asia/Taipei", Run: "care_send", Template: "new_year"},
	}
	for _, s := range cases {
		if _, err := Apply(t.Context(), sc, File{Schedules: []Schedule{s}}, taskQueue); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		now := time.Now()
		d, err := sc.GetHandle(ctx, s.ID).Describe(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		reported := d.Info.NextActionTimes
		if len(reported) == 0 {
			t.Fatalf("%s: Temporal reports no next times", s.ID)
		}
		preview, err := Preview(s.Spec(), s.Zone(), now, len(reported))
		if err != nil {
			t.Fatal(err)
		}
		for i := range reported {
			if !preview[i].Equal(reported[i]) {
				t.Errorf("%s: fire %d previewed %s, Temporal reports %s", s.ID, i, preview[i], reported[i].In(preview[i].Location()))
			}
		}
	}
}

func TestEnsureDefaultsCreatesOnceAndKeepsOperatorChanges(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	sc := ts.GetDefaultClient().ScheduleClient()
	created, err := EnsureDefaults(t.Context(), sc, taskQueue)
	if err != nil || !slices.Equal(created, []string{"birthday-sweep", "refresh-reports", "winback-sweep"}) {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	if err := sc.GetHandle(t.Context(), "winback-sweep").Pause(t.Context(), client.SchedulePauseOptions{Note: "holiday freeze"}); err != nil {
		t.Fatal(err)
	}
	created, err = EnsureDefaults(t.Context(), sc, taskQueue)
	if err != nil || len(created) != 0 {
		t.Fatalf("second start: created %v, %v; want none", created, err)
	}
	if d := describe(t, sc, "winback-sweep"); !d.Schedule.State.Paused {
		t.Error("a restart unpaused the operator's paused win-back sweep")
	}
	if next := describe(t, sc, "birthday-sweep").Info.NextActionTimes; len(next) == 0 || next[0].Minute() != 0 {
		t.Errorf("birthday sweep next fires %v, want on the hour", next)
	}
}
