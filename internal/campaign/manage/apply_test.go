package manage_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// TestTriggersFollowTheCampaign applies, edits, pauses, resumes and
// archives campaigns against a real Temporal server and PostgreSQL, and
// checks what Temporal then holds.
func TestTriggersFollowTheCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	c := srv.GetDefaultClient()
	t.Run("schedule", func(t *testing.T) { scheduleTrigger(t, c) })
	t.Run("once", func(t *testing.T) { onceTrigger(t, c) })
	t.Run("resume catches up a fresh missed firing", func(t *testing.T) { resumeCatchUp(t, c) })
}

func resumeCatchUp(t *testing.T, c client.Client) {
	st, _ := testdb.New(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, berlin) // Monday, an hour before the firing
	m := manage.New(st, c, "manage-test", manage.WithClock(func() time.Time { return now }))
	for _, tc := range []struct {
		name     string
		pause    time.Duration
		caughtUp bool
	}{
		{"short", 2 * time.Hour, true},  // resumed at 10:00: the 09:00 firing runs now
		{"long", 26 * time.Hour, false}, // resumed Tuesday 10:00: more than late_after (12h) late
	} {
		src := strings.Replace(weekly, "name: weekly", "name: "+tc.name, 1)
		if _, err := m.Apply(t.Context(), parse(t, src), src); err != nil {
			t.Fatal(err)
		}
		if _, err := m.SetStatus(t.Context(), tc.name, campaign.StatusPaused); err != nil {
			t.Fatal(err)
		}
		now = now.Add(tc.pause)
		res, err := m.SetStatus(t.Context(), tc.name, campaign.StatusActive)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Missed) != 1 || !res.Missed[0].Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, berlin)) || res.CaughtUp.IsZero() != !tc.caughtUp {
			t.Errorf("%s pause: missed %v, caught up %v; want Monday 09:00 missed, caught up %v", tc.name, res.Missed, res.CaughtUp, tc.caughtUp)
		}
		// The schedule takes a trigger asynchronously: wait for the run.
		runs := 0
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			d, err := c.ScheduleClient().GetHandle(t.Context(), "campaign/"+tc.name).Describe(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if runs = len(d.Info.RecentActions); runs > 0 || !tc.caughtUp || time.Now().After(deadline) {
				break
			}
		}
		if want := map[bool]int{true: 1, false: 0}[tc.caughtUp]; runs != want {
			t.Errorf("%s pause: schedule ran %d times on resume, want %d", tc.name, runs, want)
		}
		now = time.Date(2026, 3, 2, 8, 0, 0, 0, berlin)
	}
}

const weekly = `name: weekly
audience: {match: {tags: news}}
trigger: {schedule: {cron: "0 9 * * MON", zone: Europe/Berlin}}
steps:
  - send: {template: tips}
`

func scheduleTrigger(t *testing.T, c client.Client) {
	st, _ := testdb.New(t)
	m := manage.New(st, c, "manage-test")
	sc := c.ScheduleClient()
	describe := func() *client.ScheduleDescription {
		t.Helper()
		d, err := sc.GetHandle(t.Context(), "campaign/weekly").Describe(t.Context())
		if err != nil {
			t.Fatalf("describe the schedule: %v", err)
		}
		return d
	}
	apply := func(src, wantOutcome, wantTrigger string, wantVersion int) {
		t.Helper()
		res, err := m.Apply(t.Context(), parse(t, src), src)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != wantOutcome || res.Trigger.Outcome != wantTrigger || res.Version != wantVersion {
			t.Fatalf("apply: version %d %s, trigger %+v; want version %d %s, trigger %s", res.Version, res.Outcome, res.Trigger, wantVersion, wantOutcome, wantTrigger)
		}
	}
	status := func(to, wantTrigger string) {
		t.Helper()
		res, err := m.SetStatus(t.Context(), "weekly", to)
		if err != nil {
			t.Fatal(err)
		}
		if res.Campaign.Status != to || res.Trigger.Outcome != wantTrigger {
			t.Fatalf("set %s: campaign %s, trigger %+v; want trigger %s", to, res.Campaign.Status, res.Trigger, wantTrigger)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")

	apply(weekly, store.Inserted, manage.Created, 1)
	d := describe()
	if a := d.Schedule.Action.(*client.ScheduleWorkflowAction); a.Workflow != workflows.CampaignRunnerWorkflow || a.TaskQueue != "manage-test" {
		t.Errorf("schedule action %+v, want the campaign runner on manage-test", a)
	}
	if next := d.Info.NextActionTimes; len(next) == 0 || next[0].In(berlin).Weekday() != time.Monday || next[0].In(berlin).Hour() != 9 {
		t.Errorf("next firings %v, want Mondays 09:00 Berlin", next)
	}
	updated := d.Info.LastUpdateAt
	apply(weekly, store.Unchanged, manage.Unchanged, 1)
	if !describe().Info.LastUpdateAt.Equal(updated) {
		t.Error("re-applying an unchanged file touched the schedule")
	}
	apply(strings.Replace(weekly, "0 9 * * MON", "30 10 * * MON", 1), store.Updated, manage.Updated, 2)
	if next := describe().Info.NextActionTimes; len(next) == 0 || next[0].In(berlin).Hour() != 10 || next[0].Minute() != 30 {
		t.Errorf("next firings %v after the edit, want 10:30", next)
	}

	status(campaign.StatusPaused, manage.Paused)
	if !describe().Schedule.State.Paused {
		t.Error("the campaign is paused, its schedule is not")
	}
	apply(strings.Replace(weekly, "0 9 * * MON", "30 10 * * MON", 1), store.Unchanged, manage.Unchanged, 2)
	if got, _ := st.GetCampaign(t.Context(), "weekly"); got.Status != campaign.StatusPaused || !describe().Schedule.State.Paused {
		t.Errorf("re-applying resumed a paused campaign (%s)", got.Status)
	}
	status(campaign.StatusActive, manage.Resumed)
	if describe().Schedule.State.Paused {
		t.Error("the campaign is resumed, its schedule is still paused")
	}

	status(campaign.StatusArchived, manage.Deleted)
	var notFound *serviceerror.NotFound
	if _, err := sc.GetHandle(t.Context(), "campaign/weekly").Describe(t.Context()); !errors.As(err, &notFound) {
		t.Errorf("describe after archive: %v, want the schedule gone", err)
	}
	if _, err := m.SetStatus(t.Context(), "weekly", campaign.StatusActive); !errors.Is(err, manage.ErrArchived) {
		t.Errorf("resume an archived campaign: %v, want ErrArchived", err)
	}
	// Applying the file again brings it back.
	apply(strings.Replace(weekly, "0 9 * * MON", "30 10 * * MON", 1), store.Unchanged, manage.Created, 2)

	// An event trigger lives in routing: the schedule goes.
	apply(strings.Replace(weekly, `schedule: {cron: "0 9 * * MON", zone: Europe/Berlin}`, "event: {type: signup}", 1), store.Updated, manage.Routed, 3)
	if _, err := sc.GetHandle(t.Context(), "campaign/weekly").Describe(t.Context()); !errors.As(err, &notFound) {
		t.Errorf("describe after switching to an event trigger: %v, want the schedule gone", err)
	}
	if _, err := m.SetStatus(t.Context(), "autumn", campaign.StatusPaused); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pause an unknown campaign: %v, want ErrNotFound", err)
	}
}

func onceTrigger(t *testing.T, c client.Client) {
	st, _ := testdb.New(t)
	m := manage.New(st, c, "manage-test")
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	src := `name: launch
description: v1
audience: {match: {tags: news}}
trigger: {once: {at: "` + at.Format(time.RFC3339) + `"}}
steps:
  - send: {template: tips}
`
	runnerStatus := func(id string) enums.WorkflowExecutionStatus {
		t.Helper()
		d, err := c.DescribeWorkflowExecution(t.Context(), id, "")
		if err != nil {
			t.Fatalf("describe %s: %v", id, err)
		}
		return d.WorkflowExecutionInfo.Status
	}
	res, err := m.Apply(t.Context(), parse(t, src), src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trigger.ID != "campaign/launch/once/1" || res.Trigger.Outcome != manage.Created || !res.Trigger.StartsAt.Equal(at) {
		t.Fatalf("trigger %+v, want runner campaign/launch/once/1 created, starting %v", res.Trigger, at)
	}
	if s := runnerStatus("campaign/launch/once/1"); s != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("runner status %v, want running (waiting for its time)", s)
	}
	if res, err := m.Apply(t.Context(), parse(t, src), src); err != nil || res.Trigger.Outcome != manage.Unchanged {
		t.Errorf("re-apply: %+v, %v; want unchanged", res.Trigger, err)
	}

	// An edit before the time replaces the waiting runner.
	v2 := strings.Replace(src, "description: v1", "description: v2", 1)
	if res, err := m.Apply(t.Context(), parse(t, v2), v2); err != nil || res.Version != 2 || res.Trigger.ID != "campaign/launch/once/2" {
		t.Fatalf("apply v2: %+v, %v", res, err)
	}
	if s := runnerStatus("campaign/launch/once/1"); s != enums.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Errorf("version 1 runner %v, want terminated", s)
	}
	if s := runnerStatus("campaign/launch/once/2"); s != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("version 2 runner %v, want running", s)
	}

	// A time that has passed for everyone is refused, and nothing changes.
	past := strings.Replace(v2, at.Format(time.RFC3339), "2020-01-01 10:00", 1)
	_, err = m.Apply(t.Context(), parse(t, past), past)
	var bad campaign.Errors
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "c.yaml:4:22: trigger.once.at: 2020-01-01T10:00:00Z has passed for every customer") {
		t.Errorf("apply a past time: %v, want a located error", err)
	}
	if got, _ := st.GetCampaign(t.Context(), "launch"); got.CurrentVersion != 2 {
		t.Errorf("a refused file stored version %d", got.CurrentVersion)
	}

	if _, err := m.SetStatus(t.Context(), "launch", campaign.StatusArchived); err != nil {
		t.Fatal(err)
	}
	if s := runnerStatus("campaign/launch/once/2"); s != enums.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Errorf("runner of an archived campaign %v, want terminated", s)
	}
}
