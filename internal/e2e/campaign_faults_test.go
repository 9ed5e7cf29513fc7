package e2e

import (
	"encoding/json"
	"fmt"
	"testing"

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
	zone := awake(t)
	in := make([]store.CustomerInput, n)
	for i := range in {
		ext := fmt.Sprintf("f%03d", i)
		in[i] = store.CustomerInput{ExternalID: ext, Email: ptr(ext + "@example.com"), TimeZone: ptr(zone), Tags: []string{"faults"}}
	}
	if _, err := e.store.UpsertCustomers(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	src := `
name: flaky-relay
audience: {match: {tags: faults}}
trigger: {schedule: {cron: "0 10 * * *"}}
steps:
  - send: {id: news, template: care}
`
	spec, err := campaign.Parse([]byte(src), "flaky-relay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(spec)
	if _, _, err := e.store.ApplyCampaign(t.Context(), spec.Description, spec.Trigger.Kind, store.CampaignVersion{Campaign: spec.Name, Source: src, Spec: raw}); err != nil {
		t.Fatal(err)
	}
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
