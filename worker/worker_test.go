package worker_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/activities/activitiestest"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/histories"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/worker"
	"github.com/tidingsdev/tidings/workflows"
)

// TIDINGS_WRITE_HISTORIES=1 makes this test (re)write the histories the
// replay tests in workflows/ check every change against (internal/histories).

type e2e struct {
	t      *testing.T
	store  *store.Store
	sender *activitiestest.LedgerSender
	client client.Client
	queue  string
}

// holdingSender holds messages to one customer until released, so the test
// can stop the worker while a send is in flight.
type holdingSender struct {
	*activitiestest.LedgerSender
	hold     string
	entered  chan struct{}
	release  chan struct{}
	released atomic.Bool
}

func (h *holdingSender) Send(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	if r.CustomerID == h.hold {
		close(h.entered)
		<-h.release
	}
	return h.LedgerSender.Send(ctx, r)
}

// TestJourneysOnARealTemporalServer runs every journey through a real
// (in-process) Temporal server, the worker built by worker.New, real
// PostgreSQL and a send path that keeps the ledger.
func TestJourneysOnARealTemporalServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s, _ := testdb.New(t)
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	e := &e2e{t: t, store: s, sender: &activitiestest.LedgerSender{Store: s}, client: srv.GetDefaultClient(), queue: "tidings-e2e"}
	slow := &holdingSender{LedgerSender: e.sender, hold: e.customer("slow", "UTC"),
		entered: make(chan struct{}), release: make(chan struct{})}

	w, err := worker.New(e.client, worker.Deps{Store: s, Sender: slow, Settings: activities.Settings{
		CareTeamEmail: "care@shop.example", CouponSecret: []byte("e2e-secret"),
	}}, worker.Options{TaskQueue: e.queue, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()

	t.Run("onboarding converts on activation", e.onboarding)
	t.Run("survey detractor alerts the care team", e.survey)
	t.Run("win-back sweep starts journeys that end lapsed", e.winback)
	t.Run("birthday sweep greets once", e.birthday)
	t.Run("anniversary sweep thanks once", e.anniversary)
	t.Run("care send is idempotent per run", e.care)

	// Stopping finishes the send in flight before Run returns.
	e.start(workflows.JourneyID(workflows.Onboarding, slow.hold), workflows.OnboardingWorkflow, workflows.OnboardingInput{CustomerID: slow.hold})
	select {
	case <-slow.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the welcome to the held customer was never attempted")
	}
	stop()
	go func() {
		time.Sleep(200 * time.Millisecond)
		slow.released.Store(true)
		close(slow.release)
	}()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Run returned %v after its context ended", err)
		}
		if !slow.released.Load() {
			t.Error("Run returned while a send was still in flight")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if m, err := testdb.MessageByKey(t.Context(), s, slow.welcomeKey(t)); err != nil || m.Status != store.StatusSent {
		t.Errorf("the in-flight welcome: %+v, %v; want it sent before the worker stopped", m, err)
	}
}

// welcomeKey is the ledger key of the held customer's welcome.
func (h *holdingSender) welcomeKey(t *testing.T) string {
	t.Helper()
	for _, r := range h.Sent() {
		if r.CustomerID == h.hold && r.Step == "welcome" {
			return r.IdempotencyKey
		}
	}
	t.Fatal("the held welcome was never sent")
	return ""
}

func (e *e2e) customer(ext, zone string) string {
	e.t.Helper()
	c, _, err := e.store.UpsertCustomer(e.t.Context(), store.CustomerInput{ExternalID: ext, TimeZone: testdb.String(zone),
		Email: testdb.String(ext + "@example.com")})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

func (e *e2e) start(id, workflowType string, in any) client.WorkflowRun {
	e.t.Helper()
	run, err := e.client.ExecuteWorkflow(e.t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: e.queue}, workflowType, in)
	if err != nil {
		e.t.Fatalf("start %s: %v", id, err)
	}
	return run
}

// waitSent waits until a message for customer and step went out.
func (e *e2e) waitSent(customer, step string) delivery.Request {
	e.t.Helper()
	return e.sender.WaitSent(e.t, customer, step)
}

func (e *e2e) result(run client.WorkflowRun, out any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), time.Minute)
	defer cancel()
	if err := run.Get(ctx, out); err != nil {
		e.t.Fatalf("workflow %s: %v", run.GetID(), err)
	}
}

// saveHistory writes the run's history for the replay tests when asked to.
func (e *e2e) saveHistory(run client.WorkflowRun, name string) {
	e.t.Helper()
	histories.Record(e.t, e.client, run, filepath.Join("..", "workflows", "testdata"), name)
}

func (e *e2e) onboarding(t *testing.T) {
	c := e.customer("onboard", "Asia/Shanghai")
	run := e.start(workflows.JourneyID(workflows.Onboarding, c), workflows.OnboardingWorkflow,
		workflows.OnboardingInput{CustomerID: c, Trigger: workflows.Event{EventID: "signup-1", Type: workflows.EventSignup}})
	e.waitSent(c, "welcome")
	if err := e.client.SignalWorkflow(t.Context(), run.GetID(), "", workflows.EventSignal,
		workflows.Event{EventID: "act-1", Type: workflows.EventActivated, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var res workflows.OnboardingResult
	e.result(run, &res)
	if res.Outcome != workflows.OutcomeConverted {
		t.Errorf("outcome %q, want converted", res.Outcome)
	}
	convs, err := testdb.Conversions(t.Context(), e.store, workflows.Onboarding)
	if err != nil || len(convs) != 1 || convs[0].Step != "welcome" || convs[0].EventID != "act-1" {
		t.Errorf("conversions %+v (%v), want act-1 credited to welcome", convs, err)
	}
	runs, _ := e.store.JourneyRuns(t.Context(), workflows.Onboarding, c)
	if len(runs) != 1 || runs[0].Outcome != workflows.OutcomeConverted {
		t.Errorf("journey runs %+v, want one, converted", runs)
	}
	e.saveHistory(run, "onboarding_converted")

	// A second onboarding for the same customer is refused by the once-ever rule.
	again := e.start(workflows.JourneyID(workflows.Onboarding, c), workflows.OnboardingWorkflow, workflows.OnboardingInput{CustomerID: c})
	var second workflows.OnboardingResult
	e.result(again, &second)
	if second.Outcome != workflows.OutcomeAlreadyRun || len(second.Sent) != 0 {
		t.Errorf("second onboarding %+v, want already_run with nothing sent", second)
	}
}

func (e *e2e) survey(t *testing.T) {
	c := e.customer("surveyed", "America/New_York")
	run := e.start(workflows.JourneyID(workflows.Survey, c), workflows.SurveyWorkflow, workflows.SurveyInput{
		CustomerID: c, Trigger: workflows.Event{EventID: "d-1", Type: workflows.EventOrderDelivered}, Delay: time.Second,
	})
	asked := e.waitSent(c, "survey")
	// The answer as the API stores it; the journey hears its ID only.
	msg := delivery.MessageID(asked.IdempotencyKey)
	if _, _, err := e.store.RecordSurveyAnswer(t.Context(), store.SurveyResponse{CustomerID: c, Survey: "nps", Score: 2, MessageID: msg}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetSurveyComment(t.Context(), msg, "never arrived"); err != nil {
		t.Fatal(err)
	}
	answer := store.EventInput{EventID: "ans-1", CustomerID: c, Type: workflows.EventSurveyAnswered, OccurredAt: time.Now(),
		Properties: map[string]any{"score": 2, "comment": "never arrived", "survey": "nps", "message_id": msg}}
	if _, err := e.store.RecordEvent(t.Context(), answer); err != nil {
		t.Fatal(err)
	}
	if err := e.client.SignalWorkflow(t.Context(), run.GetID(), "", workflows.EventSignal, workflows.Event{
		EventID: answer.EventID, Type: answer.Type, OccurredAt: answer.OccurredAt,
	}); err != nil {
		t.Fatal(err)
	}
	var res workflows.SurveyResult
	e.result(run, &res)
	if res.Outcome != workflows.OutcomeDetractor || res.Score == nil || *res.Score != 2 {
		t.Errorf("result %+v, want a detractor scoring 2", res)
	}
	alert := e.waitSent(c, "detractor_alert")
	if alert.ToAddress != "care@shop.example" || alert.Data["comment"] != "never arrived" {
		t.Errorf("alert %+v, want the comment sent to the care team", alert)
	}
	e.waitSent(c, "thanks")
	e.saveHistory(run, "survey_detractor_stored_answer")
}

func (e *e2e) winback(t *testing.T) {
	c := e.customer("lapsed", "Europe/Berlin")
	if _, err := e.store.RecordEvent(t.Context(), store.EventInput{EventID: "old-order", CustomerID: c, Type: store.PurchaseEvent,
		Properties: map[string]any{"amount": 20}, OccurredAt: time.Now().Add(-90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sweep := e.start("winback-sweep-e2e", workflows.WinbackSweepWorkflow, workflows.WinbackSweepInput{
		Journey: workflows.WinbackInput{StepGap: 500 * time.Millisecond},
	})
	var res workflows.WinbackSweepResult
	e.result(sweep, &res)
	if res.Started != 1 {
		t.Fatalf("sweep %+v, want one journey started", res)
	}
	e.saveHistory(sweep, "winback_sweep")
	journey := e.client.GetWorkflow(t.Context(), workflows.JourneyID(workflows.Winback, c), "")
	var wb workflows.WinbackResult
	e.result(journey, &wb)
	if wb.Outcome != workflows.OutcomeLapsed || !slices.Equal(wb.Sent, []string{"miss_you", "offer", "last_chance"}) {
		t.Errorf("win-back %+v, want three steps and lapsed", wb)
	}
	cust, _ := e.store.Customer(t.Context(), c)
	if !slices.Contains(cust.Tags, "lapsed") {
		t.Errorf("tags %v, want lapsed", cust.Tags)
	}
	e.saveHistory(journey, "winback_lapsed")

	// The next day's sweep leaves the customer alone: a win-back ran recently.
	again := e.start("winback-sweep-e2e-2", workflows.WinbackSweepWorkflow, workflows.WinbackSweepInput{})
	var second workflows.WinbackSweepResult
	e.result(again, &second)
	if second.Started != 0 {
		t.Errorf("second sweep started %d journeys, want none within 180 days", second.Started)
	}
}

func (e *e2e) birthday(t *testing.T) {
	c, _, err := e.store.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "bday", TimeZone: testdb.String("Asia/Shanghai"),
		Email: testdb.String("bday@example.com"), Birthday: testdb.String("2000-02-29")})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 2, 28, 3, 0, 0, 0, time.UTC) // 11:00 on Feb 28 in Shanghai, a common year
	for i, id := range []string{"birthday-sweep-e2e", "birthday-sweep-e2e-again"} {
		run := e.start(id, workflows.BirthdaySweepWorkflow, workflows.BirthdaySweepInput{At: at})
		var res workflows.BirthdaySweepResult
		e.result(run, &res)
		if want := 1 - i; res.Counts.Sent != want {
			t.Errorf("sweep %d sent %d, want %d", i+1, res.Counts.Sent, want)
		}
		if i == 0 {
			e.saveHistory(run, "birthday_sweep")
		}
	}
	g := e.waitSent(c.ID, "greeting")
	if g.IdempotencyKey != "birthday/"+c.ID+"/2027" {
		t.Errorf("greeting key %s, want birthday/<customer>/2027", g.IdempotencyKey)
	}
}

func (e *e2e) care(t *testing.T) {
	var vips []string
	for _, ext := range []string{"vip-1", "vip-2"} {
		id := e.customer(ext, "UTC")
		if err := e.store.AddCustomerTag(t.Context(), id, "vip"); err != nil {
			t.Fatal(err)
		}
		vips = append(vips, id)
	}
	in := workflows.CareSendInput{Template: "care", Tag: "vip", RunKey: "vip-checkin-2027-01"}
	for i, id := range []string{"care-e2e", "care-e2e-retriggered"} {
		run := e.start(id, workflows.CareSendWorkflow, in)
		var res workflows.CareSendResult
		e.result(run, &res)
		if want := len(vips) * (1 - i); res.Counts.Sent != want {
			t.Errorf("run %d sent %d, want %d", i+1, res.Counts.Sent, want)
		}
		if i == 0 {
			e.saveHistory(run, "care_send")
		}
	}
}
