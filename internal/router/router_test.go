package router_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

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
	ts.NewWorker(taskQueue, routertest.Register)
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ann@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	return env{store: s, temporal: ts.GetDefaultClient(), customer: c.ID}
}

// post stores an event the way the API does and routes it if it is new.
func (e env) post(t *testing.T, r *router.Router, eventID, typ string) (created bool, err error) {
	t.Helper()
	rec, err := e.store.RecordEvent(t.Context(), store.EventInput{EventID: eventID, CustomerID: e.customer, Type: typ, OccurredAt: time.Now()})
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

func TestEventPostedWhileTemporalIsDownIsDeliveredLater(t *testing.T) {
	e := newEnv(t)
	// Nothing listens on port 1: this is a Temporal server that is down.
	down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	offline := router.New(e.store, down, router.Options{TaskQueue: taskQueue, CallTimeout: time.Second})
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

func TestCancelJourneysStopsEveryRunningJourney(t *testing.T) {
	e := newEnv(t)
	r := router.New(e.store, e.temporal, router.Options{TaskQueue: taskQueue})
	if _, err := e.post(t, r, "signup-1", workflows.EventSignup); err != nil {
		t.Fatal(err)
	}
	onboarding := workflows.JourneyID(workflows.Onboarding, e.customer)
	routertest.Heard(t, e.temporal, onboarding, 1)
	if err := r.CancelJourneys(t.Context(), e.customer); err != nil {
		t.Fatalf("cancel (with survey and win-back not running): %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		d, err := e.temporal.DescribeWorkflowExecution(ctx, onboarding, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("onboarding status %v, want canceled", d.WorkflowExecutionInfo.Status)
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
