package router_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/router/routertest"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

const taskQueue = "router-test"

// env is one test's real PostgreSQL and real Temporal server, with the
// recording journeys polling the task queue.
type env struct {
	store    *store.Store
	temporal client.Client
	customer string
}

func newEnv(t *testing.T) env {
	t.Helper()
	s, _ := testdb.New(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	ts.NewWorker(taskQueue, routertest.Register(s))
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	return env{store: s, temporal: ts.GetDefaultClient(), customer: c.ID}
}

// downTemporal is a client of a Temporal server that is down: nothing
// listens on port 1.
func downTemporal(t *testing.T) client.Client {
	t.Helper()
	down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	return down
}

// post stores an event the way the API does and routes it if it is new.
func (e env) post(t *testing.T, r *router.Router, eventID, typ string) (created bool, err error) {
	t.Helper()
	return e.postAt(t, r, eventID, typ, time.Now())
}

// postAt is post for an event that happened at occurred.
func (e env) postAt(t *testing.T, r *router.Router, eventID, typ string, occurred time.Time) (created bool, err error) {
	t.Helper()
	rec, err := e.store.RecordEvent(t.Context(), store.EventInput{EventID: eventID, CustomerID: e.customer, Type: typ, OccurredAt: occurred})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Created {
		return false, nil
	}
	_, err = r.Route(t.Context(), rec.ID)
	return true, err
}

func TestEventStartsJourneyOnceEvenWhenPostedTwice(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue, Metrics: router.NewMetrics(reg)})
	onboarding := workflows.JourneyID(workflows.Onboarding, e.customer)

	for i := range 2 {
		created, err := e.post(t, r, "signup-1", workflows.EventSignup)
		if err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
		if created != (i == 0) {
			t.Fatalf("post %d: created = %v", i+1, created)
		}
	}
	routertest.Heard(t, e.temporal, onboarding, 1) // the journey has claimed its run
	if _, err := e.post(t, r, "act-1", workflows.EventActivated); err != nil {
		t.Fatal(err)
	}
	got := routertest.Heard(t, e.temporal, onboarding, 2)
	if want := []string{"signup-1", "act-1"}; !slices.Equal(got, want) {
		t.Fatalf("onboarding heard %v, want %v (the signup once, then the activation)", got, want)
	}
	if n := routertest.Runs(t, e.temporal, onboarding); n != 1 {
		t.Errorf("onboarding started %d times, want 1", n)
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 0 {
		t.Errorf("outbox holds %d events after routing, want 0", n)
	}
	if v := routedCount(t, reg, "onboarding", "delivered"); v != 2 {
		t.Errorf("tidings_events_routed_total{onboarding,delivered} = %v, want 2", v)
	}
}

func TestPurchaseWithoutRunningWinbackIsRoutedAndStartsNothing(t *testing.T) {
	e := newEnv(t)
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue})
	if _, err := e.post(t, r, "order-1", workflows.EventPurchase); err != nil {
		t.Fatalf("a purchase with no journey running must not fail routing: %v", err)
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 0 {
		t.Errorf("outbox holds %d events, want 0", n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := e.temporal.DescribeWorkflowExecution(ctx, workflows.JourneyID(workflows.Winback, e.customer), ""); err == nil {
		t.Error("a purchase started a win-back journey; it may only signal a running one")
	}
}

func TestEventForJourneysTheCustomerIsNotInCallsNoTemporal(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	// Any call to Temporal would fail routing.
	r := router.New(e.store, downTemporal(t), router.Options{TaskQueue: taskQueue, CallTimeout: time.Second, Metrics: router.NewMetrics(reg)})

	// A win-back that ended is not a journey the customer is in.
	if _, err := e.store.ClaimJourneyRun(t.Context(), store.JourneyRun{Journey: workflows.Winback, RunID: "w-1", CustomerID: e.customer, StartedAt: time.Now().Add(-30 * 24 * time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.store.FinishJourneyRun(t.Context(), workflows.Winback, "w-1", workflows.OutcomeLapsed, time.Now().Add(-9*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.post(t, r, "activated-1", workflows.EventActivated); err != nil {
		t.Fatalf("an activation by a customer in no journey called Temporal: %v", err)
	}
	// A purchase starts a cross-sell, but not now: the start is recorded
	// and made when the email is due.
	if _, err := e.post(t, r, "order-1", workflows.EventPurchase); err != nil {
		t.Fatalf("a purchase by a customer in no journey called Temporal: %v", err)
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 0 {
		t.Errorf("outbox holds %d events, want 0: the activation and the purchase are routed", n)
	}
	if v := routedCount(t, reg, workflows.CrossSell, "deferred"); v != 1 {
		t.Errorf("tidings_events_routed_total{cross_sell,deferred} = %v, want 1", v)
	}
	if v := routedCount(t, reg, workflows.Onboarding, "not_running"); v != 2 {
		t.Errorf("tidings_events_routed_total{onboarding,not_running} = %v, want 2 (the activation and the purchase, both its goals)", v)
	}

	// Once the customer is in onboarding, the same kind of event must reach it.
	if _, err := e.store.ClaimJourneyRun(t.Context(), store.JourneyRun{Journey: workflows.Onboarding, RunID: "o-1", CustomerID: e.customer, StartedAt: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.post(t, r, "activated-2", workflows.EventActivated); err == nil {
		t.Error("an activation by a customer in onboarding was routed without a signal")
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 1 {
		t.Errorf("outbox holds %d events, want the activation waiting for Temporal", n)
	}
}

func TestEventPostedWhileTemporalIsDownIsDeliveredLater(t *testing.T) {
	e := newEnv(t)
	offline := router.New(e.store, downTemporal(t), router.Options{TaskQueue: taskQueue, CallTimeout: time.Second})
	created, err := e.post(t, offline, "ticket-9", workflows.EventTicketClosed)
	if !created || err == nil {
		t.Fatalf("post while down: created %v, err %v; want stored and a routing error", created, err)
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 1 {
		t.Fatalf("outbox holds %d events, want the 1 that could not be routed", n)
	}

	// Temporal is back: the drainer loop, as the worker and the API run it,
	// delivers the stored event.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	online := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue})
	go func() { online.Run(ctx, 20*time.Millisecond); close(done) }()
	got := routertest.Heard(t, e.temporal, workflows.JourneyID(workflows.Survey, e.customer), 1)
	cancel()
	<-done
	if !slices.Equal(got, []string{"ticket-9"}) {
		t.Fatalf("survey journey heard %v, want [ticket-9]", got)
	}
	if n, _ := e.store.OutboxSize(t.Context()); n != 0 {
		t.Errorf("outbox holds %d events after the drain, want 0", n)
	}
}

// TestCancelJourneysStopsEveryRunningJourney: erasure cancels a run of
// every per-customer journey the registry declares, whatever started it,
// and journeys not running are no error.
func TestCancelJourneysStopsEveryRunningJourney(t *testing.T) {
	e := newEnv(t)
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue})
	if _, err := e.post(t, r, "signup-1", workflows.EventSignup); err != nil {
		t.Fatal(err)
	}
	onboarding := workflows.JourneyID(workflows.Onboarding, e.customer)
	routertest.Heard(t, e.temporal, onboarding, 1)
	if err := r.CancelJourneys(t.Context(), e.customer); err != nil {
		t.Fatalf("cancel with only onboarding running: %v", err)
	}
	waitCanceled(t, e, onboarding)

	other, _, err := e.store.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-2", Email: testdb.String("bo@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range workflows.PerCustomer() {
		id := workflows.JourneyID(j.Name, other.ID)
		if _, err := e.temporal.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, j.Run.Name,
			routertest.Input{CustomerID: other.ID}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := r.CancelJourneys(t.Context(), other.ID); err != nil {
		t.Fatalf("cancel with every journey running: %v", err)
	}
	for _, id := range ids {
		waitCanceled(t, e, id)
	}
}

// waitCanceled waits until the workflow is canceled.
func waitCanceled(t *testing.T, e env, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		d, err := e.temporal.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s status %v, want canceled", id, d.WorkflowExecutionInfo.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// routedCount reads one series of tidings_events_routed_total.
func routedCount(t *testing.T, reg *prometheus.Registry, journey, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tidings_events_routed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["journey"] == journey && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// applyCampaign stores a campaign file as the campaign's next version.
func (e env) applyCampaign(t *testing.T, src string) {
	t.Helper()
	s, err := campaign.Parse([]byte(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(s)
	if _, _, err := e.store.ApplyCampaign(t.Context(), "", s.Trigger.Kind, store.CampaignVersion{Campaign: s.Name, Source: src, Spec: raw}); err != nil {
		t.Fatal(err)
	}
}

const npsCampaign = `name: nps
audience: {match: {tags: buyer}}
trigger: {event: {type: order_delivered}}
goal: {event: purchase}
steps:
  - wait: {duration: 1d}
  - send: {template: survey_request, vars: {survey: nps}}
`

func TestEventTriggeredCampaignStartsRunsThatHearTheirEvents(t *testing.T) {
	e := newEnv(t)
	e.applyCampaign(t, npsCampaign)
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue, CampaignsTTL: time.Nanosecond})
	run := workflows.CampaignRunID("nps", e.customer)
	if _, err := e.post(t, r, "delivered-1", "order_delivered"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.post(t, r, "buy-1", workflows.EventPurchase); err != nil {
		t.Fatal(err)
	}
	if got := routertest.Heard(t, e.temporal, run, 2); !slices.Equal(got, []string{"delivered-1", "buy-1"}) {
		t.Fatalf("campaign run heard %v, want the delivery that started it, then the purchase (its goal)", got)
	}
	if n := routertest.Runs(t, e.temporal, run); n != 1 {
		t.Errorf("campaign run started %d times, want 1", n)
	}

	// Paused: a delivery still starts a run (which waits at its first
	// send until resume), and the run under way still hears its events.
	if _, err := e.store.SetCampaignStatus(t.Context(), "nps", campaign.StatusPaused, time.Now()); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.store.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-2", Email: testdb.String("bo@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.store.RecordEvent(t.Context(), store.EventInput{EventID: "delivered-2", CustomerID: other.ID, Type: "order_delivered", OccurredAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Route(t.Context(), rec.ID); err != nil {
		t.Fatal(err)
	}
	if got := routertest.Heard(t, e.temporal, workflows.CampaignRunID("nps", other.ID), 1); !slices.Equal(got, []string{"delivered-2"}) {
		t.Errorf("run of the paused campaign heard %v, want the delivery that started it", got)
	}
	if _, err := e.post(t, r, "buy-2", workflows.EventPurchase); err != nil {
		t.Fatal(err)
	}
	if got := routertest.Heard(t, e.temporal, run, 3); len(got) != 3 {
		t.Errorf("run of the paused campaign heard %v, want its goal event too", got)
	}

	// Erasure cancels campaign runs too.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := r.CancelJourneys(t.Context(), e.customer); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := e.temporal.DescribeWorkflowExecution(ctx, run, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("campaign run status %v after erasure, want canceled", d.WorkflowExecutionInfo.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countingCampaigns counts how often the router reads the live campaigns.
type countingCampaigns struct {
	*store.Store
	reads atomic.Int32
}

func (c *countingCampaigns) LiveCampaigns(ctx context.Context) ([]store.LiveCampaign, error) {
	c.reads.Add(1)
	return c.Store.LiveCampaigns(ctx)
}

func TestLiveCampaignsAreReadOncePerTTL(t *testing.T) {
	e := newEnv(t)
	e.applyCampaign(t, npsCampaign)
	src := &countingCampaigns{Store: e.store}
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue, Campaigns: src, CampaignsTTL: time.Hour})
	for _, id := range []string{"d-1", "p-1", "p-2", "ticket-1"} {
		typ := map[byte]string{'d': "order_delivered", 'p': workflows.EventPurchase, 't': workflows.EventTicketClosed}[id[0]]
		if _, err := e.post(t, r, id, typ); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("live campaigns read %d times for 4 events, want once", n)
	}
	if got := routertest.Heard(t, e.temporal, workflows.CampaignRunID("nps", e.customer), 3); len(got) != 3 {
		t.Errorf("campaign run heard %v, want the delivery and both purchases", got)
	}
}

// TestRepeatPurchaseWithinTheCrossSellWindowCallsNoTemporal: a purchase
// starts a cross-sell (deferred until its email is due), at most one per
// 30 days; within the window of one that finished the router does not
// start another (its claim would refuse it), and with none in the window
// it does.
func TestRepeatPurchaseWithinTheCrossSellWindowCallsNoTemporal(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	r := router.New(e.store, downTemporal(t), router.Options{TaskQueue: taskQueue, CallTimeout: time.Second, Metrics: router.NewMetrics(reg)})
	claim := func(run string, started time.Time, finished bool) {
		t.Helper()
		if _, err := e.store.ClaimJourneyRun(t.Context(), store.JourneyRun{Journey: workflows.CrossSell, RunID: run, CustomerID: e.customer, StartedAt: started}, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
		if finished {
			if err := e.store.FinishJourneyRun(t.Context(), workflows.CrossSell, run, workflows.OutcomeCompleted, started.Add(10*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	claim("x-old", time.Now().Add(-40*24*time.Hour), true)
	if _, err := e.post(t, r, "order-1", workflows.EventPurchase); err != nil {
		t.Fatalf("a purchase 40 days after the last cross-sell: %v", err)
	}
	if v := routedCount(t, reg, workflows.CrossSell, "deferred"); v != 1 {
		t.Fatalf("tidings_events_routed_total{cross_sell,deferred} = %v: a purchase 40 days after the last cross-sell started none", v)
	}
	if _, err := e.store.Pool().Exec(t.Context(), `DELETE FROM journey_starts`); err != nil {
		t.Fatal(err)
	}
	claim("x-1", time.Now().Add(-12*24*time.Hour), true)
	if _, err := e.post(t, r, "order-2", workflows.EventPurchase); err != nil {
		t.Fatalf("a purchase 12 days after a cross-sell called Temporal: %v", err)
	}
	if v := routedCount(t, reg, workflows.CrossSell, "already_run"); v != 1 {
		t.Errorf("tidings_events_routed_total{cross_sell,already_run} = %v, want 1", v)
	}
}

// crossSellIn is a router whose cross-sells are due a day after the
// purchase.
func crossSellIn(e env, temporal router.Temporal, reg *prometheus.Registry) *router.Router {
	return router.New(e.store, temporal, router.Options{TaskQueue: taskQueue, CallTimeout: 5 * time.Second, Metrics: router.NewMetrics(reg),
		Journeys: workflows.Settings{}.Set(workflows.CrossSell, "delay", 24*time.Hour)})
}

// dayPasses moves the pending starts' due time into the past, as a day
// passing would.
func (e env) dayPasses(t *testing.T) {
	t.Helper()
	testdb.MustExec(t, e.store, `UPDATE journey_starts SET due_at = due_at - interval '1 day'`)
}

// TestPurchaseStartsTheCrossSellWhenItIsDue: a purchase creates no run in
// Temporal while it is ingested; the start is recorded with the event and
// made once the delay has passed, hearing the purchase that started it; a
// second purchase before then starts nothing more (the run finds it
// stored), and one while the run is going reaches it at once.
func TestPurchaseStartsTheCrossSellWhenItIsDue(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	r := crossSellIn(e, e.temporal, reg)
	crossSell := workflows.JourneyID(workflows.CrossSell, e.customer)
	for _, id := range []string{"order-1", "order-2"} {
		if _, err := e.post(t, r, id, workflows.EventPurchase); err != nil {
			t.Fatal(err)
		}
	}
	if n := routertest.Runs(t, e.temporal, crossSell); n != 0 {
		t.Fatalf("the purchases started %d cross-sell runs at once, want none before the delay", n)
	}
	if n, err := r.StartDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("before the delay: started %d, %v", n, err)
	}
	e.dayPasses(t)
	if n, err := r.StartDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("after the delay: started %d, %v; want one run", n, err)
	}
	if got := routertest.Heard(t, e.temporal, crossSell, 1); !slices.Equal(got, []string{"order-1"}) {
		t.Fatalf("cross-sell heard %v, want the purchase that started it", got)
	}
	if _, err := e.post(t, r, "order-3", workflows.EventPurchase); err != nil {
		t.Fatal(err)
	}
	if got := routertest.Heard(t, e.temporal, crossSell, 2); !slices.Equal(got, []string{"order-1", "order-3"}) {
		t.Errorf("cross-sell heard %v, want order-3 signalled to the run going", got)
	}
	if n := routertest.Runs(t, e.temporal, crossSell); n != 1 {
		t.Errorf("%d cross-sell runs, want 1", n)
	}
	if v := routedCount(t, reg, workflows.CrossSell, "deferred"); v != 2 {
		t.Errorf("tidings_events_routed_total{cross_sell,deferred} = %v, want 2 (order-1 and order-2)", v)
	}
	var pending int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM journey_starts`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d starts pending (%v), want none", pending, err)
	}
}

// TestDeferredStartWaitsWhileTemporalIsDown: a start due while Temporal is
// unreachable stays recorded and is made when it answers again.
func TestDeferredStartWaitsWhileTemporalIsDown(t *testing.T) {
	e := newEnv(t)
	offline := crossSellIn(e, downTemporal(t), prometheus.NewRegistry())
	if _, err := e.post(t, offline, "order-1", workflows.EventPurchase); err != nil {
		t.Fatal(err)
	}
	e.dayPasses(t)
	if n, err := offline.StartDue(t.Context()); err == nil || n != 0 {
		t.Fatalf("with Temporal down: started %d, %v; want an error", n, err)
	}
	online := crossSellIn(e, e.temporal, prometheus.NewRegistry())
	if n, err := online.StartDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("with Temporal back: started %d, %v; want the run", n, err)
	}
	routertest.Heard(t, e.temporal, workflows.JourneyID(workflows.CrossSell, e.customer), 1)
}

// TestCrossSellPastItsLateLimitIsNotStarted: "a few days after your order"
// never arrives months after it. An order imported from last spring records
// no start, and a start held back past the late limit (Temporal down for
// days) is dropped; both are counted as too late and nothing reaches Temporal.
func TestCrossSellPastItsLateLimitIsNotStarted(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	r := crossSellIn(e, e.temporal, reg)
	crossSell := workflows.JourneyID(workflows.CrossSell, e.customer)
	if _, err := e.postAt(t, r, "order-spring", workflows.EventPurchase, time.Now().AddDate(0, -5, 0)); err != nil {
		t.Fatal(err)
	}
	var pending int
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM journey_starts`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("a five-month-old order left %d starts pending (%v), want none", pending, err)
	}
	if _, err := e.post(t, r, "order-today", workflows.EventPurchase); err != nil {
		t.Fatal(err)
	}
	// Due a day after the order (crossSellIn's delay); three days pass
	// with nothing started, one more than the default late limit.
	testdb.MustExec(t, e.store, `UPDATE journey_starts SET due_at = due_at - interval '4 days'`)
	if _, err := r.StartDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := routertest.Runs(t, e.temporal, crossSell); n != 0 {
		t.Errorf("%d cross-sell runs, want none for a start three days late", n)
	}
	if err := e.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM journey_starts`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d starts still pending (%v), want the late one dropped", pending, err)
	}
	if v := routedCount(t, reg, workflows.CrossSell, "too_late"); v != 2 {
		t.Errorf("tidings_events_routed_total{cross_sell,too_late} = %v, want 2 (the old order and the late start)", v)
	}
}

// TestOldTriggersStartNoJourney: a customer list imported with last year's
// signups gets no welcome series, nor a delivery from last month a survey;
// a signup from yesterday (within onboarding's two days) still starts one,
// and so does today's delivery. Each refused start is counted as too late.
func TestOldTriggersStartNoJourney(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue, CallTimeout: 5 * time.Second, Metrics: router.NewMetrics(reg)})
	onboarding := workflows.JourneyID(workflows.Onboarding, e.customer)
	survey := workflows.JourneyID(workflows.Survey, e.customer)
	now := time.Now()
	if _, err := e.postAt(t, r, "signup-last-year", workflows.EventSignup, now.AddDate(-1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.postAt(t, r, "delivered-last-month", workflows.EventOrderDelivered, now.AddDate(0, -1, 0)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{onboarding, survey} {
		if n := routertest.Runs(t, e.temporal, id); n != 0 {
			t.Errorf("%s: %d runs for a trigger long past, want none", id, n)
		}
	}
	if v := routedCount(t, reg, workflows.Onboarding, "too_late"); v != 1 {
		t.Errorf("tidings_events_routed_total{onboarding,too_late} = %v, want 1", v)
	}
	if v := routedCount(t, reg, workflows.Survey, "too_late"); v != 1 {
		t.Errorf("tidings_events_routed_total{survey,too_late} = %v, want 1", v)
	}
	if _, err := e.postAt(t, r, "signup-yesterday", workflows.EventSignup, now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.post(t, r, "delivered-today", workflows.EventOrderDelivered); err != nil {
		t.Fatal(err)
	}
	if got := routertest.Heard(t, e.temporal, onboarding, 1); !slices.Equal(got, []string{"signup-yesterday"}) {
		t.Errorf("onboarding heard %v, want the signup of yesterday", got)
	}
	if got := routertest.Heard(t, e.temporal, survey, 1); !slices.Equal(got, []string{"delivered-today"}) {
		t.Errorf("survey heard %v, want today's delivery", got)
	}
}
