package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// CrossSell is the journey's name and template; CrossSellWorkflow its
// registered workflow.
const (
	CrossSell         = "cross_sell"
	CrossSellWorkflow = "CrossSell"
)

// Cross-sell defaults (CrossSellInput's zero values).
const (
	DefaultCrossSellDelay      = 3 * 24 * time.Hour
	DefaultCrossSellMinute     = 10 * 60
	DefaultCrossSellWindow     = 30 * 24 * time.Hour
	DefaultCrossSellGoalWindow = 7 * 24 * time.Hour
	DefaultCrossSellLateLimit  = 2 * 24 * time.Hour
)

// crossSellJourney is the descriptor register.go lists.
func crossSellJourney() Journey {
	return Journey{
		Name:    CrossSell,
		Summary: "after a purchase: one email a few days later, ended by the next purchase",
		Run:     &Workflow{Name: CrossSellWorkflow, Func: CrossSellJourney},
		// A purchase starts a run, and a run going hears the next one: a
		// purchase is its start and its goal (the shared journey code drops
		// the copy of the trigger SignalWithStart delivers).
		Starts: On(EventPurchase),
		Once:   func(v Values) time.Duration { return v.Duration("window") },
		// Nothing happens before the delay, so the run is created only then:
		// a purchase costs ingest a row, not a Temporal run.
		StartAfter: func(v Values) time.Duration { return v.Duration("delay") },
		LateBy:     func(v Values) time.Duration { return v.Duration("late_limit") },
		Input: func(customerID string, trigger Event, v Values) any {
			return CrossSellInput{CustomerID: customerID, Trigger: trigger, Delay: v.Duration("delay"),
				SendMinute: v.Int("send_time"), Window: v.Duration("window"), GoalWindow: v.Duration("goal_window")}
		},
		Params: []Param{
			DurationParam("delay", DefaultCrossSellDelay, time.Second, "how long after the purchase the email is due (then sent at send_time)"),
			TimeParam("send_time", DefaultCrossSellMinute, "local time of day the email goes out"),
			DurationParam("window", DefaultCrossSellWindow, time.Hour, "at most one cross-sell per customer in this long"),
			DurationParam("goal_window", DefaultCrossSellGoalWindow, time.Second, "how long after the email the next purchase is credited to it"),
			DurationParam("late_limit", DefaultCrossSellLateLimit, time.Hour, "a purchase whose email would go out later than this past its due time (an imported history, a long outage) gets none"),
		},
		Templates: []string{CrossSell},
	}
}

// CrossSellInput starts a customer's cross-sell after a purchase. Zero
// values mean the defaults.
type CrossSellInput struct {
	CustomerID string `json:"customer_id"`
	Trigger    Event  `json:"trigger"`
	// Delay after the purchase before the email is due; default 3 days.
	Delay time.Duration `json:"delay,omitempty"`
	// SendMinute is the local time of day of the email, in minutes after
	// midnight; default 600 (10:00).
	SendMinute int `json:"send_minute,omitempty"`
	// Window allows one cross-sell per customer per window; default 30 days.
	Window time.Duration `json:"window,omitempty"`
	// GoalWindow is how long after the email a purchase converts; default 7 days.
	GoalWindow time.Duration `json:"goal_window,omitempty"`
}

// CrossSellResult is how a cross-sell ended.
type CrossSellResult struct {
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"`
	// Purchase is the next order, if one came.
	Purchase *Event `json:"purchase,omitempty"`
}

// crossSell is one customer's run: wait, one email at the send time, then
// wait for the next purchase. That purchase ends it whenever it comes, and
// counts as its conversion (credited to the email once it went out).
type crossSell struct {
	*journey
	in       CrossSellInput
	purchase *Event
	// deferred is set for runs that may start after their trigger (the
	// router defers them): they reckon from the purchase, and look for a
	// purchase stored before they started.
	deferred bool
}

// deferredStartVersion guards what a deferred start needs: runs recorded
// before it reckon from their own start and replay so.
const deferredStartVersion = "cross-sell-deferred-start"

// CrossSellJourney (registered as CrossSellWorkflow) suggests what goes
// with a purchase, once, a few days after it, at most once per window.
func CrossSellJourney(ctx workflow.Context, in CrossSellInput) (CrossSellResult, error) {
	x := &crossSell{in: in}
	x.journey = newJourney(ctx, CrossSell, in.CustomerID, in.Trigger, func(e Event) bool {
		if e.Type != EventPurchase {
			return false
		}
		x.purchase = &e
		return true
	})
	outcome, err := x.run(ctx)
	outcome, err = x.end(ctx, outcome, err)
	return CrossSellResult{Outcome: outcome, Sent: x.sent, Purchase: x.purchase}, err
}

func (x *crossSell) run(ctx workflow.Context) (string, error) {
	x.deferred = workflow.GetVersion(ctx, deferredStartVersion, workflow.DefaultVersion, 1) >= 1
	ok, err := x.claim(ctx, x.in.Trigger.EventID, orDefault(x.in.Window, DefaultCrossSellWindow))
	if err != nil || !ok {
		return OutcomeAlreadyRun, err
	}
	found, err := x.storedPurchase(ctx)
	if err != nil {
		return "", err
	}
	if found {
		return OutcomeConverted, x.convert(ctx, *x.purchase)
	}
	if _, err := x.profile(ctx, ""); err != nil {
		return "", err
	}
	goOn := x.box.until(ctx, x.due())
	if goOn {
		goOn, err = x.send(ctx, delivery.Request{Step: CrossSell, Channel: delivery.Email, Template: CrossSell, Topic: delivery.TopicMarketing})
		if err != nil {
			return "", err
		}
	}
	if goOn && x.box.sleep(ctx, orDefault(x.in.GoalWindow, DefaultCrossSellGoalWindow)) {
		return OutcomeCompleted, nil
	}
	return OutcomeConverted, x.convert(ctx, *x.purchase)
}

// storedPurchase looks for the next purchase among the stored events: one
// made before a deferred run started (or before its claim) was never
// signalled to it.
func (x *crossSell) storedPurchase(ctx workflow.Context) (bool, error) {
	if !x.deferred {
		return false, nil
	}
	var g activities.GoalResult
	err := storeCall(ctx, act.FindGoal, activities.GoalInput{
		CustomerID: x.customerID, Types: []string{EventPurchase}, Since: x.in.Trigger.OccurredAt, Except: x.in.Trigger.EventID,
	}, &g)
	if err != nil || !g.Found {
		return false, err
	}
	x.purchase = storedEvent(g)
	return true, nil
}

// due is the first send time, in the customer's zone, at least Delay after
// the purchase (after the run's start, for runs recorded before starts
// were deferred).
func (x *crossSell) due() time.Time {
	from := x.started
	if x.deferred && !x.in.Trigger.OccurredAt.IsZero() {
		from = x.in.Trigger.OccurredAt
	}
	earliest := from.Add(orDefault(x.in.Delay, DefaultCrossSellDelay)).In(x.loc)
	minute := orDefault(x.in.SendMinute, DefaultCrossSellMinute)
	y, m, d := earliest.Date()
	at := time.Date(y, m, d, minute/60, minute%60, 0, 0, x.loc)
	if at.Before(earliest) {
		at = time.Date(y, m, d+1, minute/60, minute%60, 0, 0, x.loc)
	}
	return at
}
