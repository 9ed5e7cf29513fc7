package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// TestCampaignThroughARelayRefusingAThirdDeliversEveryMessageOnce sends a
// single-send campaign to 300 customers through a relay that answers 451 to
// a random 30% of messages: each refused message is retried on its own
// while the rest go on, and every customer gets exactly one copy.
func TestCampaignThroughARelayRefusingAThirdDeliversEveryMessageOnce(t *testing.T) {
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	sink.Inject(smtpsink.Fault{Stage: smtpsink.Data, Code: 451, Enhanced: "4.3.0", Message: "try again later", Rate: 0.3})
	e := newEnv(t, setup{Relay: sink.Addr()})
	const n = 300
	e.awakeCustomers("f", n, "faults")
	e.applyCampaign(`
name: flaky-relay
audience: {match: {tags: faults}}
trigger: {schedule: {cron: "0 10 * * *"}}
steps:
  - send: {id: news, template: care}
`)
	e.start("campaign/flaky-relay/fire-1", workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: "flaky-relay"})
	var res workflows.CampaignRunnerResult
	e.result("campaign/flaky-relay/fire-1", &res)

	per := map[string]int{}
	for _, m := range sink.Messages() {
		per[m.To[0]]++
	}
	twice := 0
	for _, k := range per {
		if k > 1 {
			twice++
		}
	}
	t.Logf("runner %+v; the relay accepted %d messages for %d customers", res, sink.Count(), len(per))
	if len(per) != n || twice > 0 || sink.Count() != n {
		t.Errorf("the relay accepted %d messages for %d customers (%d more than once), want exactly one each for %d", sink.Count(), len(per), twice, n)
	}
	if res.Entered != n || res.Counts.Sent != n || res.Counts.Failed != 0 {
		t.Errorf("runner %+v, want %d entered and sent, none failed", res, n)
	}
}

// applyCampaign stores a campaign file as the campaign's next version.
func (e *env) applyCampaign(src string) {
	e.t.Helper()
	spec, err := campaign.Parse([]byte(src), "campaign.yaml")
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := json.Marshal(spec)
	if _, _, err := e.store.ApplyCampaign(e.t.Context(), spec.Description, spec.Trigger.Kind, store.CampaignVersion{Campaign: spec.Name, Source: src, Spec: raw}); err != nil {
		e.t.Fatal(err)
	}
}

// TestPausedCampaignStopsWithinAPage pauses a 1,500-customer campaign
// while it sends: at most one page (500 messages) goes out after the
// pause, nothing more while it lasts, and after resume every customer has
// exactly one message.
func TestPausedCampaignStopsWithinAPage(t *testing.T) {
	e := newEnv(t, setup{})
	const n = 1500
	e.awakeCustomers("p", n, "pausing")
	e.applyCampaign(`
name: pausing
audience: {match: {tags: pausing}}
trigger: {schedule: {cron: "0 10 * * *"}}
steps:
  - send: {id: news, template: care}
`)
	const id = "campaign/pausing/fire-1"
	e.start(id, workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: "pausing"})
	e.eventually("the campaign to be under way", func() (bool, string) {
		got := e.inbox.Len()
		return got >= 250, fmt.Sprintf("%d messages", got)
	})
	if _, err := e.store.SetCampaignStatus(t.Context(), "pausing", campaign.StatusPaused, time.Now()); err != nil {
		t.Fatal(err)
	}
	atPause := e.inbox.Len()
	time.Sleep(3 * time.Second)
	during := e.inbox.Len()
	if during >= n {
		t.Fatalf("all %d messages went out though the campaign was paused after %d", during, atPause)
	}
	if extra := during - atPause; extra > workflows.DefaultCampaignBatch {
		t.Errorf("%d messages went out after the pause, want at most one page (%d)", extra, workflows.DefaultCampaignBatch)
	}
	if _, err := e.store.SetCampaignStatus(t.Context(), "pausing", campaign.StatusActive, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.temporal.SignalWorkflow(t.Context(), id, "", workflows.CampaignWakeSignal, nil); err != nil {
		t.Fatal(err)
	}
	var res workflows.CampaignRunnerResult
	e.result(id, &res)
	per, _ := copies(e.inbox.Messages(catcherEmail))
	t.Logf("paused after %d messages, %d by 3 s later; runner %+v", atPause, during, res)
	if len(per) != n || e.inbox.Len() != n || res.Counts.Sent != n {
		t.Errorf("%d messages for %d customers, runner sent %d; want exactly one each for %d", e.inbox.Len(), len(per), res.Counts.Sent, n)
	}
}
