package activities_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/workflows"
)

// TestResumeWakesRunsWaitingAtTheGate: on a real Temporal server, the runs
// of a paused campaign wait at their send and note so in PostgreSQL; a
// resume wakes each, and each sends within seconds rather than at its next
// ten-minute check. A noted workflow that no longer exists is forgotten,
// and an archive ends a waiting run at once.
func TestResumeWakesRunsWaitingAtTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	const queue = "campaign-wake"
	s, sender, c := campaignWorker(t, queue)

	ids := customers(t, s, 3, "wake")
	spec, v := applySpec(t, s, `
name: wake
audience: {match: {tags: wake}}
trigger: {event: {type: signup}}
steps:
  - send: {id: hello, template: welcome}
`)
	m := manage.New(s, c, queue)
	setStatus := func(status string) manage.Changed {
		t.Helper()
		ch, err := m.SetStatus(t.Context(), "wake", status)
		if err != nil {
			t.Fatalf("set wake %s: %v", status, err)
		}
		return ch
	}
	start := func(customerID string) client.WorkflowRun {
		t.Helper()
		run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: workflows.CampaignRunID("wake", customerID), TaskQueue: queue},
			workflows.CampaignRunWorkflow, workflows.CampaignRunInput{Campaign: "wake", Version: v.Version, Spec: *spec, CustomerID: customerID})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	waiting := func(want ...string) {
		t.Helper()
		slices.Sort(want)
		var (
			got []string
			err error
		)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got, err = s.CampaignGateWaits(t.Context(), "wake"); err != nil {
				t.Fatal(err)
			}
			if slices.Sort(got); slices.Equal(got, want) {
				return
			}
		}
		t.Fatalf("waiting at the gate: %q, want %q", got, want)
	}
	outcome := func(run client.WorkflowRun) workflows.CampaignRunResult {
		t.Helper()
		wctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var res workflows.CampaignRunResult
		if err := run.Get(wctx, &res); err != nil {
			t.Fatalf("run %s did not end within 30s of waking: %v", run.GetID(), err)
		}
		return res
	}

	setStatus(campaign.StatusPaused)
	first, second := start(ids[0]), start(ids[1])
	waiting(first.GetID(), second.GetID())
	if len(sender.Sent()) != 0 {
		t.Fatalf("a paused campaign sent %+v", sender.Sent())
	}
	// A run that ended while noted (erased, say) leaves a stale note.
	if _, err := s.CheckCampaignGate(t.Context(), "wake", workflows.CampaignRunID("wake", "gone")); err != nil {
		t.Fatal(err)
	}

	resumed := setStatus(campaign.StatusActive)
	if resumed.Woken != 2 || resumed.NotWoken != 0 {
		t.Errorf("resume woke %d and missed %d (%s), want 2 woken", resumed.Woken, resumed.NotWoken, resumed.NotWokenWhy)
	}
	for _, run := range []client.WorkflowRun{first, second} {
		if res := outcome(run); res.Outcome != workflows.OutcomeCompleted || !slices.Equal(res.Sent, []string{"hello"}) {
			t.Errorf("run %s: %+v, want hello sent", run.GetID(), res)
		}
	}
	waiting() // the woken runs and the stale note are gone
	saveHistory(t, c, first, "campaign_run_woken")

	setStatus(campaign.StatusPaused)
	third := start(ids[2])
	waiting(third.GetID())
	if archived := setStatus(campaign.StatusArchived); archived.Woken != 1 {
		t.Errorf("archive woke %d, want 1", archived.Woken)
	}
	if res := outcome(third); res.Outcome != workflows.OutcomeArchived || len(res.Sent) != 0 {
		t.Errorf("run waiting when archived: %+v, want archived with nothing sent", res)
	}
	if n := len(sender.Sent()); n != 2 {
		t.Errorf("%d messages sent, want the 2 of the resumed runs", n)
	}
}
