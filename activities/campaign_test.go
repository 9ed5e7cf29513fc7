package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/activities/activitiestest"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/histories"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/worker"
	"github.com/tidingsdev/tidings/workflows"
)

// applySpec parses and stores a campaign file as the campaign's next version.
func applySpec(t *testing.T, s *store.Store, src string) (*campaign.Spec, store.CampaignVersion) {
	t.Helper()
	spec, err := campaign.Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(spec)
	v, _, err := s.ApplyCampaign(t.Context(), spec.Description, spec.Trigger.Kind, store.CampaignVersion{Campaign: spec.Name, Source: src, Spec: raw})
	if err != nil {
		t.Fatal(err)
	}
	return spec, v
}

func customers(t *testing.T, s *store.Store, n int, tag string) []string {
	t.Helper()
	var ids []string
	for i := range n {
		c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{
			ExternalID: fmt.Sprintf("%s-%03d", tag, i), Email: testdb.String(fmt.Sprintf("%s-%d@example.com", tag, i)),
			Tags: []string{tag},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// TestCampaignsOnARealTemporalServer sends a single-send campaign with a
// holdout in batches and a multi-step one as per-customer runs, through a
// real Temporal server, real PostgreSQL and a send path that keeps the
// ledger; the report then counts what happened.
func TestCampaignsOnARealTemporalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s, sender, c := campaignWorker(t, "campaigns-e2e")

	spring := customers(t, s, 60, "spring")
	customers(t, s, 5, "other")
	applySpec(t, s, `
name: spring-sale
audience: {match: {tags: spring}}
trigger: {schedule: {cron: "0 10 * * *", zone: Europe/Berlin}}
holdout: 20
goal: {event: purchase, within: 14d}
steps:
  - send:
      id: sale
      template: winback_offer
      variants:
        - {name: a, percent: 50, vars: {discount_percent: 10}}
        - {name: b, percent: 50, vars: {discount_percent: 15}}
`)
	run := execute(t, c, "campaign/spring-sale/fire-1", workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: "spring-sale", BatchSize: 25})
	var res workflows.CampaignRunnerResult
	if err := run.Get(t.Context(), &res); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, id := range spring {
		if campaign.HeldOut("spring-sale", id, 20) {
			held++
		}
	}
	if res.Entered != 60 || res.HeldOut != held || res.Counts.Sent != 60-held || res.Started != 0 {
		t.Errorf("runner %+v, want 60 entered, %d held out, %d sent in batches, no per-customer runs", res, held, 60-held)
	}
	for _, r := range sender.Sent() {
		if campaign.HeldOut("spring-sale", r.CustomerID, 20) {
			t.Errorf("held-out customer %s was sent %s", r.CustomerID, r.IdempotencyKey)
		}
	}
	// A second firing of the same schedule: everyone entered once already.
	again := execute(t, c, "campaign/spring-sale/fire-2", workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: "spring-sale"})
	if err := again.Get(t.Context(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Refused != 60 || len(sender.Sent()) != 60-held {
		t.Errorf("second firing %+v and %d sends, want all 60 refused by the once rule", res, len(sender.Sent()))
	}
	// Customers convert: two treated, one held out.
	var treated, control []string
	for _, id := range spring {
		if campaign.HeldOut("spring-sale", id, 20) {
			control = append(control, id)
		} else {
			treated = append(treated, id)
		}
	}
	for i, id := range []string{treated[0], treated[1], control[0]} {
		if _, err := s.RecordEvent(t.Context(), store.EventInput{EventID: fmt.Sprintf("buy-%d", i), CustomerID: id, Type: "purchase", OccurredAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.CampaignResults(t.Context(), "spring-sale")
	if err != nil {
		t.Fatal(err)
	}
	var entered, sent, heldOut int
	for _, a := range rep.Arms {
		entered += a.Entered
		sent += a.Sent
		if a.Holdout {
			heldOut += a.Entered
			if a.Sent != 0 {
				t.Errorf("holdout arm %+v has sends", a)
			}
		} else if a.Variant != "a" && a.Variant != "b" {
			t.Errorf("arm %+v, want variants a and b", a)
		}
	}
	if entered != 60 || heldOut != held || sent != 60-held {
		t.Errorf("report %+v: entered %d held %d sent %d, want 60, %d, %d", rep, entered, heldOut, sent, held, 60-held)
	}
	treatRate, holdRate, uplift, ok := rep.Uplift()
	wantT, wantH := 2/float64(60-held), 1/float64(held)
	if !ok || treatRate != wantT || holdRate != wantH || uplift != (wantT-wantH)*100 {
		t.Errorf("uplift %v (treatment %v, holdout %v, ok %v), want treatment %v vs holdout %v", uplift, treatRate, holdRate, ok, wantT, wantH)
	}

	// A multi-step campaign sends its first step in a batch and starts one
	// run per customer from the second; with pages of two, every page is
	// sent before the runs are started.
	applySpec(t, s, `
name: vip-care
audience: {match: {tags: other}}
trigger: {once: {at: "2026-01-01 10:00"}}
steps:
  - send: {id: hello, template: welcome}
  - tag: cared
`)
	runner := execute(t, c, "campaign/vip-care/once/1", workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: "vip-care", BatchSize: 2})
	if err := runner.Get(t.Context(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Started != 5 {
		t.Fatalf("runner %+v, want 5 runs started", res)
	}
	if n := pagesBeforeRuns(t, c, runner); n != 3 {
		t.Errorf("the runner sent %d pages before it started runs, want all 3 (pages of 2, 5 customers): no first message waits for a run start", n)
	}
	other, _ := s.CustomerByExternalID(t.Context(), "other-000")
	child := c.GetWorkflow(t.Context(), workflows.CampaignRunID("vip-care", other.ID), "")
	var out workflows.CampaignRunResult
	if err := child.Get(t.Context(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Outcome != workflows.OutcomeCompleted || !slices.Equal(out.Sent, []string{"hello"}) {
		t.Errorf("run %+v, want completed after sending hello", out)
	}
	if got, _ := s.Customer(t.Context(), other.ID); !slices.Contains(got.Tags, "cared") {
		t.Errorf("tags %v, want cared", got.Tags)
	}
	saveHistory(t, c, runner, "campaign_runner_runs_after_pages")
	saveHistory(t, c, child, "campaign_run_after_first_send")
}

// pagesBeforeRuns reads a runner's history: how many pages (CampaignBatch
// calls) it sent before it asked for its first run start.
func pagesBeforeRuns(t *testing.T, c client.Client, run client.WorkflowRun) int {
	t.Helper()
	it := c.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			return n
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "CampaignBatch" {
				n++
			}
		}
	}
	return n
}

// campaignWorker starts a real Temporal server and a worker with the
// campaign activities on queue, over a fresh database and a send path that
// keeps the ledger; the worker stops with the test.
func campaignWorker(t *testing.T, queue string) (*store.Store, *activitiestest.LedgerSender, client.Client) {
	t.Helper()
	s, _ := testdb.New(t)
	sender := &activitiestest.LedgerSender{Store: s}
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	c := srv.GetDefaultClient()
	w, err := worker.New(c, worker.Deps{Store: s, Sender: sender, Register: func(r sdkworker.Registry) {
		r.RegisterActivity(activities.NewCampaigns(s, s.Pool(), sender, nil))
	}}, worker.Options{TaskQueue: queue, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	t.Cleanup(stop)
	go func() { _ = w.Run(ctx) }()
	return s, sender, c
}

func execute(t *testing.T, c client.Client, id, typ string, in any) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: "campaigns-e2e"}, typ, in)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	return run
}

// saveHistory writes a run's history for the replay tests in workflows/
// when TIDINGS_WRITE_HISTORIES is set.
func saveHistory(t *testing.T, c client.Client, run client.WorkflowRun, name string) {
	t.Helper()
	histories.Record(t, c, run, filepath.Join("..", "workflows", "testdata"), name)
}

// campaignActivities is a fresh database and the campaign activities on
// it, in the SDK's activity test environment.
func campaignActivities(t *testing.T) (*store.Store, *activitiestest.LedgerSender, *testsuite.TestActivityEnvironment, *activities.Campaigns) {
	s, _ := testdb.New(t)
	sender := &activitiestest.LedgerSender{Store: s}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	acts := activities.NewCampaigns(s, s.Pool(), sender, nil)
	env.RegisterActivity(acts)
	return s, sender, env, acts
}

// runBatch runs one CampaignBatch call, failing the test on an error.
func runBatch(t *testing.T, env *testsuite.TestActivityEnvironment, acts *activities.Campaigns, in activities.CampaignBatchInput) activities.CampaignBatchResult {
	t.Helper()
	val, err := env.ExecuteActivity(acts.CampaignBatch, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.CampaignBatchResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLateFiringIsEnteredAsSkippedAndNeverSentLater runs a batch of a
// firing resumed long after its pause: the treatment customers are entered
// and recorded as skipped (late_after_pause) instead of sent, the holdout is
// counted as usual, and a later pass of the same firing sends nobody.
func TestLateFiringIsEnteredAsSkippedAndNeverSentLater(t *testing.T) {
	s, sender, env, acts := campaignActivities(t)
	ids := customers(t, s, 20, "late")
	spec, v := applySpec(t, s, `
name: late-blast
audience: {match: {tags: late}}
trigger: {once: {at: "2026-03-02 10:00"}}
late_after: 6h
holdout: 20
goal: {event: purchase}
steps:
  - send: {id: news, template: welcome}
`)
	held := 0
	for _, id := range ids {
		if campaign.HeldOut("late-blast", id, 20) {
			held++
		}
	}
	batch := func(skipLate bool) activities.CampaignBatchResult {
		t.Helper()
		return runBatch(t, env, acts, activities.CampaignBatchInput{
			Campaign: "late-blast", Version: v.Version, Spec: *spec, RunKey: "firing-1",
			At: time.Now().Add(-48 * time.Hour), BatchSize: 50, SkipLate: skipLate,
		})
	}
	res := batch(true)
	if res.Entered != 20 || res.HeldOut != held || res.Counts.Skipped != 20-held || res.Counts.Sent != 0 {
		t.Errorf("late batch %+v, want 20 entered, %d held out, %d skipped, none sent", res, held, 20-held)
	}
	if res := batch(false); res.Counts.Sent != 0 || len(sender.Sent()) != 0 {
		t.Errorf("a later pass of the same firing %+v sent %d messages, want none", res, len(sender.Sent()))
	}
	rep, err := s.CampaignResults(t.Context(), "late-blast")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Arms {
		switch {
		case a.Holdout && (a.Entered != held || len(a.Skipped) != 0):
			t.Errorf("holdout arm %+v, want %d entered and nothing skipped", a, held)
		case !a.Holdout && (a.Entered != 20-held || a.Skipped[activities.SkipLateAfterPause] != 20-held || a.Sent != 0):
			t.Errorf("treatment arm %+v, want %d entered and skipped as late_after_pause", a, 20-held)
		}
	}
}

// TestLateFiringOfPerCustomerRunsLeavesCustomersNotYetDue: for a campaign
// that runs per customer, a late pass skips only customers whose local time
// has passed; the others are left for the runner's next pass.
func TestLateFiringOfPerCustomerRunsLeavesCustomersNotYetDue(t *testing.T) {
	s, _, env, c := campaignActivities(t)
	customers(t, s, 3, "soon")
	tomorrow := time.Now().Add(36 * time.Hour).UTC().Format("2006-01-02 15:04")
	spec, v := applySpec(t, s, `
name: local-steps
audience: {match: {tags: soon}}
trigger: {once: {at: "`+tomorrow+`", local: true}}
steps:
  - send: {id: hello, template: welcome}
  - tag: greeted
`)
	val, err := env.ExecuteActivity(c.CampaignBatch, activities.CampaignBatchInput{
		Campaign: "local-steps", Version: v.Version, Spec: *spec, RunKey: "once", At: time.Now(), BatchSize: 10, SkipLate: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.CampaignBatchResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.NotDue != 3 || res.Entered != 0 || res.Counts.Skipped != 0 || res.NextDue.Before(time.Now().Add(24*time.Hour)) {
		t.Errorf("batch %+v, want all 3 left for later (their local time is tomorrow)", res)
	}
}

// TestPausedRunSkipsStaleSendsAndTheReportCountsThem runs one customer's
// campaign run with the real activities on PostgreSQL, weeks passing in
// the test environment: paused before its second send and resumed three
// days later, the run sends nothing meanwhile, skips the send that is now
// stale (late_after 6h) and records it, and sends the third on time.
func TestPausedRunSkipsStaleSendsAndTheReportCountsThem(t *testing.T) {
	s, _ := testdb.New(t)
	sender := &activitiestest.LedgerSender{Store: s}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	workflows.Register(env)
	env.RegisterActivity(activities.New(s, sender, nil, activities.Settings{}))
	env.RegisterActivity(activities.NewCampaigns(s, s.Pool(), sender, nil))
	id := customers(t, s, 1, "paused")[0]
	spec, v := applySpec(t, s, `
name: paused
audience: {match: {tags: paused}}
trigger: {event: {type: signup}}
late_after: 6h
steps:
  - send: {id: one, template: welcome}
  - wait: {duration: 1d}
  - send: {id: two, template: tips}
  - wait: {duration: 1d}
  - send: {id: three, template: nudge}
`)
	day := 24 * time.Hour
	setStatus := func(status string) {
		if _, err := s.SetCampaignStatus(context.Background(), "paused", status, env.Now()); err != nil {
			t.Error(err)
		}
	}
	env.SetStartTime(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	env.RegisterDelayedCallback(func() { setStatus(campaign.StatusPaused) }, 12*time.Hour)
	env.RegisterDelayedCallback(func() {
		if n := len(sender.Sent()); n != 1 {
			t.Errorf("%d messages sent by the end of the pause, want only the first", n)
		}
		setStatus(campaign.StatusActive)
	}, 4*day)
	env.ExecuteWorkflow(workflows.CampaignRunWorkflow, workflows.CampaignRunInput{Campaign: "paused", Version: v.Version, Spec: *spec, CustomerID: id})
	var res workflows.CampaignRunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeCompleted || !slices.Equal(res.Sent, []string{"one", "three"}) {
		t.Errorf("run %+v, want one and three sent, two skipped", res)
	}
	rep, err := s.CampaignResults(t.Context(), "paused")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Arms) != 1 || rep.Arms[0].Entered != 1 || rep.Arms[0].Sent != 2 || rep.Arms[0].Skipped[activities.SkipLateAfterPause] != 1 {
		t.Errorf("report %+v, want 1 entered, 2 sent, 1 skipped late_after_pause", rep.Arms)
	}
}

// TestFirstStepOfAMultiStepCampaignIsSentInOneBatch: the runner's batch
// sends the first step of a campaign that runs per customer to the page's
// treatment customers, ends the holdout's entries, and hands every treated
// customer on to their run; a retried call (a worker lost mid-page) sends
// nobody a second message and hands the same customers on again.
func TestFirstStepOfAMultiStepCampaignIsSentInOneBatch(t *testing.T) {
	s, sender, env, acts := campaignActivities(t)
	ids := customers(t, s, 20, "series")
	spec, v := applySpec(t, s, `
name: series
audience: {match: {tags: series}}
trigger: {once: {at: "2026-03-02 10:00"}}
holdout: 20
steps:
  - send: {id: hello, template: welcome}
  - wait: {duration: 2d}
  - send: {id: tips, template: tips}
`)
	held := 0
	for _, id := range ids {
		if campaign.HeldOut("series", id, 20) {
			held++
		}
	}
	batch := func() activities.CampaignBatchResult {
		t.Helper()
		return runBatch(t, env, acts, activities.CampaignBatchInput{
			Campaign: "series", Version: v.Version, Spec: *spec, RunKey: "once", At: time.Now(), BatchSize: 50,
		})
	}
	for attempt := range 2 {
		res := batch()
		// The retry finds the holdout's entries ended: refused, not held out again.
		wantEntered, wantHeld, wantRefused := 20, held, 0
		if attempt > 0 {
			wantEntered, wantHeld, wantRefused = 20-held, 0, held
		}
		if res.Entered != wantEntered || res.HeldOut != wantHeld || res.Refused != wantRefused || res.Counts.Sent != 20-held || len(res.Runs) != 20-held || !res.Done {
			t.Errorf("attempt %d: batch %+v, want %d entered, %d held out, %d refused, %d sent and handed on", attempt, res, wantEntered, wantHeld, wantRefused, 20-held)
		}
		for _, r := range res.Runs {
			if r.Sent != "hello" || campaign.HeldOut("series", r.CustomerID, 20) {
				t.Errorf("attempt %d: handed on %+v, want treated customers sent hello", attempt, r)
			}
		}
	}
	if n := len(sender.Sent()); n != 20-held {
		t.Errorf("%d messages sent over both attempts, want %d (one per treated customer)", n, 20-held)
	}
	for _, r := range sender.Sent() {
		if r.Step != "hello" {
			t.Errorf("sent step %s, want only the first", r.Step)
		}
	}
	for _, id := range ids {
		var entries int
		var holdout bool
		var outcome string
		var finished *time.Time
		if err := s.Pool().QueryRow(t.Context(), `
			SELECT count(*) OVER (), holdout, outcome, finished_at FROM campaign_entries
			WHERE campaign = 'series' AND customer_id = $1`, id).Scan(&entries, &holdout, &outcome, &finished); err != nil || entries != 1 {
			t.Fatalf("entries of %s: %d, %v", id, entries, err)
		}
		if holdout != (outcome == activities.OutcomeHeldOut) || holdout != (finished != nil) {
			t.Errorf("entry of %s (holdout %v, outcome %q, finished %v): a held-out entry ends as held_out, a treated one stays open for its run", id, holdout, outcome, finished)
		}
	}
}

// TestABWinnerIsChosenFromTheTestsOwnNumbers sends the test share of an
// A/B campaign through the batch, clicks some of its messages and has the
// winner chosen: only a person's click on a test message before the
// decision counts, once per message. The rest of the audience is then sent
// the winner, entered as its rollout, and the report keeps the test's arms
// apart from it.
func TestABWinnerIsChosenFromTheTestsOwnNumbers(t *testing.T) {
	s, sender, env, acts := campaignActivities(t)
	customers(t, s, 60, "ab")
	spec, v := applySpec(t, s, `
name: spring-ab
audience: {match: {tags: ab}}
trigger: {once: {at: "2026-03-02 10:00"}}
goal: {event: purchase, within: 7d}
steps:
  - send:
      id: subject
      template: welcome
      variants:
        test: 50
        winner_after: 4h
        metric: click
        min_sent: 3
        arms:
          - {name: a, percent: 50}
          - {name: b, percent: 50}
`)
	ctx := t.Context()
	batch := func(share, winner string) activities.CampaignBatchResult {
		t.Helper()
		return runBatch(t, env, acts, activities.CampaignBatchInput{
			Campaign: "spring-ab", Version: v.Version, Spec: *spec, RunKey: "once", At: time.Now(), BatchSize: 100,
			Share: share, Winner: winner,
		})
	}
	test := batch(activities.ShareTest, "")
	byArm := map[string][]string{} // message IDs by ledger step
	for _, r := range sender.Sent() {
		byArm[r.Step] = append(byArm[r.Step], delivery.MessageID(r.IdempotencyKey))
		if !campaign.InTest("spring-ab", r.CustomerID, 50) {
			t.Errorf("customer %s outside the test share was sent %s during the test", r.CustomerID, r.Step)
		}
	}
	a, b := byArm["subject:a"], byArm["subject:b"]
	if len(a) < 3 || len(b) < 3 || test.Counts.Sent != len(a)+len(b) {
		t.Fatalf("test sent %d to a and %d to b (batch %+v); want at least 3 each", len(a), len(b), test)
	}
	decideAt := time.Now()
	click := func(id string, link int, machine bool, at time.Time) {
		t.Helper()
		if _, err := s.RecordClick(ctx, store.MessageClick{MessageID: id, Link: link, URL: "https://shop.example.com/", Machine: machine, FirstAt: at, LastAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// b: two people clicked, one of them on two links (one message, one
	// hit); a: a link scanner, and a person after the decision. So b has 2
	// hits, a none: b wins by its rate, whatever the split's sizes.
	click(b[0], 0, false, decideAt.Add(-time.Hour))
	click(b[0], 1, false, decideAt.Add(-time.Hour))
	click(b[1], 0, false, decideAt.Add(-time.Minute))
	click(a[0], 0, true, decideAt.Add(-time.Hour))
	click(a[1], 0, false, decideAt.Add(time.Hour))
	decide := func() activities.WinnerResult {
		t.Helper()
		val, err := env.ExecuteActivity(acts.CampaignWinner, activities.WinnerInput{
			Campaign: "spring-ab", Version: v.Version, Step: spec.Steps[0], Decide: true, At: decideAt,
		})
		if err != nil {
			t.Fatal(err)
		}
		var res activities.WinnerResult
		if err := val.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if w := decide(); w.Winner != "b" || w.Rule != campaign.RuleBestRate {
		t.Fatalf("winner %+v, want b by best_rate", w)
	}
	got, err := s.CampaignWinner(ctx, "spring-ab", v.Version)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.VariantTally{{Variant: "a", Sent: len(a), Hits: 0}, {Variant: "b", Sent: len(b), Hits: 2}}
	if !slices.Equal(got.Tallies, want) || got.Metric != campaign.MetricClick || !got.DecidedAt.Equal(decideAt.Truncate(time.Microsecond)) {
		t.Errorf("recorded %+v, want tallies %+v decided at %s", got, want, decideAt)
	}
	// The first decision stands: more clicks on a change nothing now.
	for _, id := range a[2:] {
		click(id, 0, false, decideAt.Add(-time.Minute))
	}
	if w := decide(); w.Winner != "b" {
		t.Errorf("a second decision gave %+v, want the first (b) to stand", w)
	}
	// By goal, the same test: one customer of a bought, none of b.
	var buyer string
	for _, r := range sender.Sent() {
		if r.Step == "subject:a" {
			buyer = r.CustomerID
		}
	}
	if _, err := s.RecordEvent(ctx, store.EventInput{EventID: "buy-1", CustomerID: buyer, Type: "purchase", OccurredAt: decideAt}); err != nil {
		t.Fatal(err)
	}
	goal, err := s.CampaignTestTallies(ctx, "spring-ab", v.Version, "subject", campaign.MetricGoal, []string{"a", "b"}, decideAt.Add(time.Minute))
	if want := []store.VariantTally{{Variant: "a", Sent: len(a), Hits: 1}, {Variant: "b", Sent: len(b), Hits: 0}}; err != nil || !slices.Equal(goal, want) {
		t.Errorf("goal tallies %+v (%v), want %+v", goal, err, want)
	}

	rest := batch(activities.ShareRest, "b")
	if rest.Entered != 60-len(a)-len(b) || rest.Counts.Sent != rest.Entered {
		t.Errorf("rest %+v, want the other %d customers entered and sent", rest, 60-len(a)-len(b))
	}
	for _, r := range sender.Sent()[len(a)+len(b):] {
		if r.Step != "subject:b" || campaign.InTest("spring-ab", r.CustomerID, 50) {
			t.Errorf("rest message %s to %s, want b to customers outside the test", r.Step, r.CustomerID)
		}
	}
	rep, err := s.CampaignResults(ctx, "spring-ab")
	if err != nil {
		t.Fatal(err)
	}
	arms := map[string]int{}
	for _, arm := range rep.Arms {
		key := arm.Variant
		if arm.Rollout {
			key += " rollout"
		}
		arms[key] = arm.Sent
		if arm.Entered != arm.Sent {
			t.Errorf("arm %+v: entered and sent differ", arm)
		}
	}
	if want := map[string]int{"a": len(a), "b": len(b), "b rollout": rest.Counts.Sent}; !maps.Equal(arms, want) {
		t.Errorf("report arms %v, want %v", arms, want)
	}
	if rep.Winner == nil || rep.Winner.Variant != "b" || rep.Winner.Rule != campaign.RuleBestRate {
		t.Errorf("report winner %+v, want b", rep.Winner)
	}
}
