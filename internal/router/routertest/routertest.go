// Package routertest stands in for the journeys in routing tests: it
// registers small workflows under the real journey names that claim their
// run as the journeys do and record every event signal they hear, so a
// test can ask a real Temporal server exactly what reached each journey.
package routertest

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// EventsQuery returns the events a recording journey heard, in order.
const EventsQuery = "events"

// Input is the shape every journey start input shares.
type Input struct {
	CustomerID string          `json:"customer_id"`
	Trigger    workflows.Event `json:"trigger"`
}

// Claimer records journey runs; *store.Store implements it.
type Claimer interface {
	ClaimJourneyRun(ctx context.Context, r store.JourneyRun, window time.Duration) (bool, error)
}

// Register returns what registers a recording workflow under each
// per-customer journey's workflow name (from the registry) and the campaign
// run's. Like the real journeys,
// a recording journey first claims its run in st (the router signals only
// journeys whose run is claimed), then records every event signal it hears
// until it is cancelled. SignalWithStart hands the triggering event over
// twice, as the start input and as the first signal; only signals are
// recorded, so a test sees each delivery exactly as often as it happened.
func Register(st Claimer) func(worker.Registry) {
	return func(r worker.Registry) {
		names := map[string]string{workflows.CampaignRunWorkflow: ""}
		for _, j := range workflows.PerCustomer() {
			names[j.Run.Name] = j.Name
		}
		for name, journey := range names {
			rec := recorder{st: st, journey: journey}
			r.RegisterWorkflowWithOptions(rec.run, workflow.RegisterOptions{Name: name})
		}
	}
}

// recorder is one journey's recording workflow.
type recorder struct {
	st      Claimer
	journey string // "" for campaign runs, which claim nothing
}

func (rec recorder) run(ctx workflow.Context, in Input) error {
	var heard []workflows.Event
	if err := workflow.SetQueryHandler(ctx, EventsQuery, func() ([]workflows.Event, error) { return heard, nil }); err != nil {
		return err
	}
	if rec.journey != "" {
		info := workflow.GetInfo(ctx)
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		run := store.JourneyRun{Journey: rec.journey, RunID: info.WorkflowExecution.RunID, CustomerID: in.CustomerID, StartedAt: workflow.Now(ctx)}
		if err := workflow.ExecuteLocalActivity(lctx, rec.claim, run).Get(ctx, nil); err != nil {
			return err
		}
	}
	ch := workflow.GetSignalChannel(ctx, workflows.EventSignal)
	for {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
			var e workflows.Event
			c.Receive(ctx, &e)
			heard = append(heard, e)
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
		sel.Select(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// claim records the run; a run refused by an earlier one still records
// what it hears, so a test sees every delivery.
func (rec recorder) claim(ctx context.Context, run store.JourneyRun) error {
	_, err := rec.st.ClaimJourneyRun(ctx, run, time.Nanosecond)
	return err
}

// Heard returns the IDs of the events a running journey heard, waiting until
// it has heard at least want of them (or five seconds have passed).
func Heard(t testing.TB, c client.Client, workflowID string, want int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ids, err := heard(c, workflowID)
		if err == nil && (len(ids) >= want || time.Now().After(deadline)) {
			return ids
		}
		if err != nil && time.Now().After(deadline) {
			t.Fatalf("query %s: %v", workflowID, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func heard(c client.Client, workflowID string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(ctx, workflowID, "", EventsQuery)
	if err != nil {
		return nil, err
	}
	var evs []workflows.Event
	if err := v.Get(&evs); err != nil {
		return nil, err
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.EventID
	}
	return ids, nil
}

// Runs counts the executions (open and closed) of a workflow ID, so a test
// can tell "signalled twice" from "started twice".
func Runs(t testing.TB, c client.Client, workflowID string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowId = '" + workflowID + "'",
	})
	if err != nil {
		t.Fatalf("list runs of %s: %v", workflowID, err)
	}
	return len(resp.Executions)
}
