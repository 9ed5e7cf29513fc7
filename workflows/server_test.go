package workflows

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/activities/activitiestest"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/histories"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// realServer is one real (in-process) Temporal server shared by the
// package's real-server scenarios, started by the first that asks.
var realServer = struct {
	once sync.Once
	srv  *temporaltest.TestServer
}{}

// TestMain stops the shared server once the package's tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if realServer.srv != nil {
		realServer.srv.Stop()
	}
	os.Exit(code)
}

// server runs a journey's scenario end to end: a real Temporal server, a
// worker with every registered workflow and the real activities, real
// PostgreSQL (the test's own database), and a send path that keeps the
// ledger. It is where a journey's test records the history the replay test
// keeps it compatible with.
type server struct {
	t      *testing.T
	store  *store.Store
	sender *activitiestest.LedgerSender
	client client.Client
	queue  string
}

// newServer starts a worker on a task queue of the test's own; settings are
// the journeys' parameters its sweeps read.
func newServer(t *testing.T, settings Settings) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	realServer.once.Do(func() { realServer.srv = temporaltest.NewServer() })
	st, _ := testdb.New(t)
	s := &server{t: t, store: st, sender: &activitiestest.LedgerSender{Store: st}, client: realServer.srv.GetDefaultClient(), queue: "workflows-" + strings.ReplaceAll(t.Name(), "/", "-")}
	w := worker.New(s.client, s.queue, worker.Options{})
	Register(w)
	RegisterActivities(w, settings)
	w.RegisterActivity(activities.New(st, s.sender, nil, activities.Settings{CareTeamEmail: "care@shop.example", CouponSecret: []byte("test-secret")}))
	w.RegisterActivity(activities.NewCampaigns(st, st.Pool(), s.sender, nil))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return s
}

// customer adds a customer in zone and returns their ID.
func (s *server) customer(ext, zone string) string {
	s.t.Helper()
	c, _, err := s.store.UpsertCustomer(s.t.Context(), store.CustomerInput{ExternalID: ext, TimeZone: testdb.String(zone),
		Email: testdb.String(ext + "@example.com")})
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID
}

// event stores an event as the API does, so activities find it.
func (s *server) event(customerID, id, typ string, props map[string]any, at time.Time) Event {
	s.t.Helper()
	if _, err := s.store.RecordEvent(s.t.Context(), store.EventInput{EventID: id, CustomerID: customerID, Type: typ, Properties: props, OccurredAt: at}); err != nil {
		s.t.Fatal(err)
	}
	return Event{EventID: id, Type: typ, OccurredAt: at}
}

// start starts a workflow on the server's task queue.
func (s *server) start(id, workflowType string, in any) client.WorkflowRun {
	s.t.Helper()
	run, err := s.client.ExecuteWorkflow(s.t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, workflowType, in)
	if err != nil {
		s.t.Fatalf("start %s: %v", id, err)
	}
	return run
}

// signalWithStart delivers e as the router does: the start input carries
// it, and it is the first signal too.
func (s *server) signalWithStart(id, workflowType string, e Event, in any) client.WorkflowRun {
	s.t.Helper()
	run, err := s.client.SignalWithStartWorkflow(s.t.Context(), id, EventSignal, e,
		client.StartWorkflowOptions{ID: id, TaskQueue: s.queue}, workflowType, in)
	if err != nil {
		s.t.Fatalf("signal-with-start %s: %v", id, err)
	}
	return run
}

// signal delivers e to a running workflow.
func (s *server) signal(run client.WorkflowRun, e Event) {
	s.t.Helper()
	if err := s.client.SignalWorkflow(s.t.Context(), run.GetID(), "", EventSignal, e); err != nil {
		s.t.Fatal(err)
	}
}

// waitSent waits until a message for customer and step went out.
func (s *server) waitSent(customer, step string) delivery.Request {
	s.t.Helper()
	return s.sender.WaitSent(s.t, customer, step)
}

// result waits for the run to end and decodes its result.
func (s *server) result(run client.WorkflowRun, out any) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.t.Context(), time.Minute)
	defer cancel()
	if err := run.Get(ctx, out); err != nil {
		s.t.Fatalf("workflow %s: %v", run.GetID(), err)
	}
}

// record writes the run's history to testdata/<name>.json when
// TIDINGS_WRITE_HISTORIES is set.
func (s *server) record(run client.WorkflowRun, name string) {
	s.t.Helper()
	histories.Record(s.t, s.client, run, "testdata", name)
}
