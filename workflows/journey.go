package workflows

import (
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // customers' zones must resolve the same on every worker

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// act names the activities by method; it is never dereferenced.
var act *activities.Activities

// Journey outcomes, stored with each run in journey_runs.
const (
	OutcomeConverted    = "converted"     // the goal event arrived
	OutcomeCompleted    = "completed"     // every step ran without a conversion
	OutcomeLapsed       = "lapsed"        // a win-back ended without a purchase
	OutcomeAlreadyRun   = "already_run"   // the journey's once-per-window rule refused the run
	OutcomeCustomerGone = "customer_gone" // the customer was deleted mid-journey
	OutcomeNoResponse   = "no_response"   // a survey got no answer
	OutcomeDetractor    = "detractor"
	OutcomePassive      = "passive"
	OutcomePromoter     = "promoter"
)

// Activity options, chosen per kind of work:
//
//   - send: one message through the send path. 2 minutes per attempt covers
//     an SMTP dialogue or an SMS API call with its own timeouts. Temporary
//     failures (SMTP 4xx, HTTP 429/5xx, timeouts) retry from 10 s doubling to
//     10 min for up to a day; the idempotency key makes each retry safe. A
//     deleted customer, an invalid request and permanent refusals
//     (delivery.PermanentError) are non-retryable.
//   - store: one short PostgreSQL statement; retried every second up to a
//     minute apart for an hour, so a database restart does not end journeys.
//   - batch: pages of sends (a sweep, a care send, a campaign). It
//     heartbeats its progress every second (activities.HeartbeatEvery), so
//     10 s without one means its worker died: the attempt is retried after
//     1 s on another worker and resumes after the last chunk recorded, in
//     under 15 s from the crash (a healthy batch heartbeats however slow
//     its relay is). 30 minutes per attempt is far more than a call's few
//     pages take even at a few messages a second. A batch is retried (up to
//     a minute apart) until it is done: no deadline drops the rest of a
//     campaign or sweep because the database was away for a while.
func withSend(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrCustomerNotFound, activities.ErrInvalidInput, activities.ErrWebhookRejected},
		},
	})
}

func withStore(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            storeRetry(),
	})
}

// storeRetry retries a store call every second, backing off to a minute,
// so a database restart does not end journeys.
func storeRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrCustomerNotFound, activities.ErrInvalidInput},
	}
}

// localStoreVersion guards running a journey's short store calls (the
// once-per-window claim, the profile, the outcome, the conversion) as local
// activities. Runs recorded before it replay them as activity tasks.
const localStoreVersion = "journey-local-store"

// storeCall runs one short store call of a per-customer journey. As a local
// activity it runs inside the workflow task that asks for it: no activity
// task to schedule, poll and complete, and no workflow task to hand the
// result back, so the server persists two transactions fewer per call. A
// journey's start (claim, profile, first send) takes two workflow tasks and
// one activity task instead of four and three, and the server's work is
// what bounds how many journeys start per second (docs/benchmarks.md).
// Sends stay activity tasks: they retry for a day.
func storeCall(ctx workflow.Context, fn, in, out any) error {
	if workflow.GetVersion(ctx, localStoreVersion, workflow.DefaultVersion, 1) == 1 {
		return workflow.ExecuteLocalActivity(withLocalStore(ctx), fn, in).Get(ctx, out)
	}
	return workflow.ExecuteActivity(withStore(ctx), fn, in).Get(ctx, out)
}

// withLocalStore is withStore for local activities: the same timeouts and
// retries; a backoff longer than the workflow task's timeout becomes a
// durable timer.
func withLocalStore(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Hour,
		RetryPolicy:            storeRetry(),
	})
}

func withBatch(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrInvalidInput},
		},
	})
}

// errCustomerGone ends a journey whose customer was deleted.
var errCustomerGone = errors.New("customer no longer exists")

// customerGone reports whether an activity error says the customer is gone.
func customerGone(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.Is(err, errCustomerGone) || (errors.As(err, &appErr) && appErr.Type() == activities.ErrCustomerNotFound)
}

// journey is what every per-customer journey shares: who, which run, the
// customer's clock, the event inbox and the steps sent so far.
type journey struct {
	name       string
	customerID string
	runID      string
	started    time.Time
	loc        *time.Location
	box        *inbox
	// lastSent is the latest step that went out: a conversion is credited
	// to it.
	lastSent string
	sent     []string
}

// newJourney sets up a run started by trigger (the zero Event when a sweep
// started it); stop says which events end it.
func newJourney(ctx workflow.Context, name, customerID string, trigger Event, stop func(Event) bool) *journey {
	return &journey{
		name:       name,
		customerID: customerID,
		runID:      workflow.GetInfo(ctx).WorkflowExecution.RunID,
		started:    workflow.Now(ctx),
		loc:        time.UTC,
		box:        newInbox(ctx, trigger, stop),
	}
}

// claim applies the journey's "once per window" rule (window 0: once ever).
func (j *journey) claim(ctx workflow.Context, trigger string, window time.Duration) (bool, error) {
	var res activities.ClaimResult
	err := storeCall(ctx, act.ClaimJourney, activities.ClaimInput{
		Journey: j.name, RunID: j.runID, CustomerID: j.customerID, Trigger: trigger, At: j.started, Window: window,
	}, &res)
	return res.Claimed, err
}

// profile loads the customer's zone (kept for local scheduling) and, when
// smsTopic is set, whether SMS on that topic is allowed.
func (j *journey) profile(ctx workflow.Context, smsTopic string) (activities.ProfileResult, error) {
	var p activities.ProfileResult
	err := storeCall(ctx, act.LoadProfile, activities.ProfileInput{
		CustomerID: j.customerID, SMSTopic: smsTopic,
	}, &p)
	if err != nil {
		return p, err
	}
	if loc, err := time.LoadLocation(p.TimeZone); err == nil {
		j.loc = loc
	}
	return p, nil
}

// localDay is day days after the journey's start date, at minute minutes
// past midnight, in the customer's zone.
func (j *journey) localDay(days, minute int) time.Time {
	y, m, d := j.started.In(j.loc).Date()
	return time.Date(y, m, d+days, minute/60, minute%60, 0, 0, j.loc)
}

// key is the idempotency key of one step of this run.
func (j *journey) key(step string) string {
	return j.name + "/" + j.customerID + "/" + j.runID + "/" + step
}

// send delivers one step (r names step, channel, template, topic and data;
// the journey fills in customer, journey and key), waiting out quiet-hour deferrals with durable
// timers and the same key. It returns false when an event ended the journey
// while waiting. A message that could not be delivered is logged and the
// journey goes on; only a deleted customer ends it.
func (j *journey) send(ctx workflow.Context, r delivery.Request) (bool, error) {
	step := r.Step
	r.CustomerID, r.Journey, r.IdempotencyKey = j.customerID, j.name, j.key(step)
	res, ok, err := j.box.send(ctx, r)
	if err != nil {
		if customerGone(err) {
			return false, errCustomerGone
		}
		workflow.GetLogger(ctx).Warn("step not delivered", "journey", j.name, "customer_id", j.customerID, "step", step, "error", err)
		return true, nil
	}
	if ok && res.Status == delivery.Sent {
		j.lastSent = step
		j.sent = append(j.sent, step)
	}
	return ok, nil
}

// finish records the outcome in PostgreSQL.
func (j *journey) finish(ctx workflow.Context, outcome string) error {
	return storeCall(ctx, act.FinishJourney, activities.FinishInput{
		Journey: j.name, RunID: j.runID, Outcome: outcome, At: workflow.Now(ctx),
	}, nil)
}

// convert records the goal event as a conversion credited to the last step
// sent; the activity reads the order's "amount" and "currency" from the
// stored event as its revenue.
func (j *journey) convert(ctx workflow.Context, e Event) error {
	at := e.OccurredAt
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	return storeCall(ctx, act.RecordConversion, activities.ConversionInput{
		Journey: j.name, RunID: j.runID, CustomerID: j.customerID, Step: j.lastSent,
		EventID: e.EventID, ConvertedAt: at,
	}, nil)
}

// end finishes the run with outcome, turning a deleted customer into its
// own outcome rather than a failed workflow.
func (j *journey) end(ctx workflow.Context, outcome string, err error) (string, error) {
	if err != nil {
		if !customerGone(err) {
			return "", err
		}
		outcome = OutcomeCustomerGone
	}
	if err := j.finish(ctx, outcome); err != nil {
		return "", fmt.Errorf("finish %s run: %w", j.name, err)
	}
	return outcome, nil
}

// inbox receives events on EventSignal while a journey waits, and tells it
// when one must end it. It never hears the run's own trigger again.
type inbox struct {
	events  eventStream
	stop    func(Event) bool
	stopped bool
}

func newInbox(ctx workflow.Context, trigger Event, stop func(Event) bool) *inbox {
	return &inbox{events: newEventStream(ctx, trigger), stop: stop}
}

func (b *inbox) handle(e Event) {
	if !b.stopped && b.stop(e) {
		b.stopped = true
	}
}

// ignoreAll lets the journey send again after the event that stopped it
// (a survey's thank-you after its answer); later events change nothing.
func (b *inbox) ignoreAll() {
	b.stopped = false
	b.stop = func(Event) bool { return false }
}

// drain handles events already delivered, without waiting.
func (b *inbox) drain(workflow.Context) {
	for e, ok := b.events.receiveAsync(); ok; e, ok = b.events.receiveAsync() {
		b.handle(e)
	}
}

// sleep waits d with a durable timer, handling events as they come; it
// returns false as soon as an event ends the journey.
func (b *inbox) sleep(ctx workflow.Context, d time.Duration) bool {
	b.drain(ctx)
	if b.stopped || d <= 0 {
		return !b.stopped
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	fired := false
	for !fired && !b.stopped {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(workflow.Future) { fired = true })
		b.events.addTo(ctx, sel, b.handle)
		sel.Select(ctx)
	}
	return !b.stopped
}

// until sleeps until t (not at all when t has passed).
func (b *inbox) until(ctx workflow.Context, t time.Time) bool {
	return b.sleep(ctx, t.Sub(workflow.Now(ctx)))
}

// minDeferral keeps a deferral loop from spinning if the send path answers
// "deferred" with a time that has already passed.
const minDeferral = time.Minute

// send calls the send activity until the message is no longer deferred,
// waiting each time until DeferUntil. ok is false when an event ended the
// journey first (nothing more is sent then).
func (b *inbox) send(ctx workflow.Context, r delivery.Request) (res delivery.Result, ok bool, err error) {
	for {
		b.drain(ctx)
		if b.stopped {
			return res, false, nil
		}
		if err := workflow.ExecuteActivity(withSend(ctx), act.SendMessage, r).Get(ctx, &res); err != nil {
			return res, true, err
		}
		if res.Status != delivery.Deferred {
			return res, true, nil
		}
		wait := max(res.DeferUntil.Sub(workflow.Now(ctx)), minDeferral)
		if !b.sleep(ctx, wait) {
			return res, false, nil
		}
	}
}

// orDefault returns v, or def when v is the zero value: every journey
// parameter's zero value means its documented default.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// storedEvent is the event FindGoal found in the store, as a signal would
// have carried it.
func storedEvent(g activities.GoalResult) *Event {
	return &Event{EventID: g.EventID, Type: g.Type, OccurredAt: g.OccurredAt}
}
