package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// Onboarding is the journey's name; OnboardingWorkflow its registered
// workflow.
const (
	Onboarding         = "onboarding"
	OnboardingWorkflow = "Onboarding"
)

// onboardingJourney is the descriptor register.go lists.
func onboardingJourney() Journey {
	return Journey{
		Name:    Onboarding,
		Summary: "a welcome at signup, then tips and a nudge until they activate or buy",
		Run:     &Workflow{Name: OnboardingWorkflow, Func: OnboardingJourney},
		Starts:  On(EventSignup),
		Steers:  On(DefaultGoalEvents...),
		Once:    func(Values) time.Duration { return 0 }, // once ever
		LateBy:  func(v Values) time.Duration { return v.Duration("late_limit") },
		Input: func(customerID string, trigger Event, v Values) any {
			return OnboardingInput{
				CustomerID: customerID, Trigger: trigger,
				TipsDay: v.Int("tips_day"), NudgeDay: v.Int("nudge_day"), SendMinute: v.Int("send_time"), Duration: v.Duration("duration"),
			}
		},
		Params: []Param{
			CountParam("tips_day", DefaultTipsDay, 1, 60, "local calendar days after the signup's that the tips email goes out"),
			CountParam("nudge_day", DefaultNudgeDay, 1, 60, "local calendar days after the signup's that the nudge goes out"),
			TimeParam("send_time", DefaultOnboardingMinute, "local time of day of the tips and the nudge"),
			DurationParam("duration", DefaultOnboardingLength, 24*time.Hour, "how long after the signup the journey ends without a conversion"),
			DurationParam("late_limit", DefaultOnboardingLateLimit, time.Hour, "a signup older than this when it arrives (an imported customer list, a replayed backlog) starts no welcome series"),
		},
		Templates: []string{"welcome", "tips", "nudge"},
	}
}

// OnboardingInput starts a customer's onboarding journey. Fields may be added
// (zero values mean the documented defaults); none may be removed.
type OnboardingInput struct {
	CustomerID string `json:"customer_id"`
	Trigger    Event  `json:"trigger"`
	// GoalEvents end the journey as a conversion; default activated and purchase.
	GoalEvents []string `json:"goal_events,omitempty"`
	// TipsDay and NudgeDay count local calendar days after the signup's;
	// defaults 2 and 5.
	TipsDay  int `json:"tips_day,omitempty"`
	NudgeDay int `json:"nudge_day,omitempty"`
	// SendMinute is the local time of day of tips and nudge, in minutes
	// after midnight; default 600 (10:00).
	SendMinute int `json:"send_minute,omitempty"`
	// Duration ends the journey without a conversion; default 14 days.
	Duration time.Duration `json:"duration,omitempty"`
}

// Onboarding defaults (OnboardingInput's zero values).
const (
	DefaultTipsDay          = 2
	DefaultNudgeDay         = 5
	DefaultOnboardingMinute = 10 * 60
	DefaultOnboardingLength = 14 * 24 * time.Hour
	// DefaultOnboardingLateLimit: a welcome two days after the signup still
	// reads as one; later it greets someone long past it.
	DefaultOnboardingLateLimit = 2 * 24 * time.Hour
)

// DefaultGoalEvents end onboarding as a conversion.
var DefaultGoalEvents = []string{EventActivated, EventPurchase}

// OnboardingResult is how a customer's onboarding ended.
type OnboardingResult struct {
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"`
	// Goal is the event that converted the customer, if one did.
	Goal *Event `json:"goal,omitempty"`
}

// onboarding is one customer's run: welcome now, tips on day 2 and a nudge
// on day 5 at 10:00 local unless the goal event came first, then the end.
type onboarding struct {
	*journey
	in    OnboardingInput
	goals []string
	goal  *Event
	// checkStored is false for runs begun before stored goal events were
	// checked (see storedGoalVersion).
	checkStored bool
}

// storedGoalVersion guards the stored-goal check added after the first
// release: runs recorded without it replay without it.
const storedGoalVersion = "onboarding-stored-goal"

// OnboardingJourney (registered as OnboardingWorkflow) welcomes a new customer and helps them to their first success.
// A second signup while it runs is only a signal and changes nothing; a
// signup after it ended is refused by the once-ever claim.
func OnboardingJourney(ctx workflow.Context, in OnboardingInput) (OnboardingResult, error) {
	o := &onboarding{in: in}
	o.setup(ctx)
	outcome, err := o.run(ctx)
	outcome, err = o.end(ctx, outcome, err)
	return OnboardingResult{Outcome: outcome, Sent: o.sent, Goal: o.goal}, err
}

func (o *onboarding) setup(ctx workflow.Context) {
	o.goals = o.in.GoalEvents
	if len(o.goals) == 0 {
		o.goals = DefaultGoalEvents
	}
	o.journey = newJourney(ctx, Onboarding, o.in.CustomerID, o.in.Trigger, o.onEvent)
}

// onEvent ends the journey at the first goal event.
func (o *onboarding) onEvent(e Event) bool {
	if !slices.Contains(o.goals, e.Type) {
		return false
	}
	o.goal = &e
	return true
}

func (o *onboarding) run(ctx workflow.Context) (string, error) {
	ok, err := o.claim(ctx, o.in.Trigger.EventID, 0)
	if err != nil || !ok {
		return OutcomeAlreadyRun, err
	}
	if _, err := o.profile(ctx, ""); err != nil {
		return "", err
	}
	o.checkStored = workflow.GetVersion(ctx, storedGoalVersion, workflow.DefaultVersion, 1) >= 1
	minute := orDefault(o.in.SendMinute, DefaultOnboardingMinute)
	steps := []func(workflow.Context) (bool, error){
		o.welcome,
		o.at(orDefault(o.in.TipsDay, DefaultTipsDay), minute, o.tips),
		o.at(orDefault(o.in.NudgeDay, DefaultNudgeDay), minute, o.nudge),
		o.waitForGoal,
	}
	for _, step := range steps {
		goOn, err := step(ctx)
		if err != nil {
			return "", err
		}
		if !goOn {
			return o.converted(ctx)
		}
	}
	return OutcomeCompleted, nil
}

// at runs step at local day and minute, unless the goal was reached first:
// by a signal while waiting, or by an event stored before the journey could
// hear it.
func (o *onboarding) at(day, minute int, step func(workflow.Context) (bool, error)) func(workflow.Context) (bool, error) {
	return func(ctx workflow.Context) (bool, error) {
		if !o.box.until(ctx, o.localDay(day, minute)) {
			return false, nil
		}
		if reached, err := o.storedGoal(ctx); err != nil || reached {
			return false, err
		}
		return step(ctx)
	}
}

// storedGoal checks the stored events for a goal since the signup.
func (o *onboarding) storedGoal(ctx workflow.Context) (bool, error) {
	if !o.checkStored {
		return false, nil
	}
	since := o.in.Trigger.OccurredAt
	if since.IsZero() {
		since = o.started
	}
	var g activities.GoalResult
	err := workflow.ExecuteActivity(withStore(ctx), act.FindGoal, activities.GoalInput{
		CustomerID: o.customerID, Types: o.goals, Since: since,
	}).Get(ctx, &g)
	if err != nil || !g.Found {
		return false, err
	}
	o.goal = storedEvent(g)
	return true, nil
}

// welcome goes out at once, whatever the hour: the customer just signed up
// and expects it. It is a care message, not a receipt: it carries the
// one-click unsubscribe and is not sent to someone who opted out of email.
func (o *onboarding) welcome(ctx workflow.Context) (bool, error) {
	return o.send(ctx, delivery.Request{Step: "welcome", Channel: delivery.Email, Template: "welcome",
		Topic: delivery.TopicCare, IgnoreQuietHours: true})
}

func (o *onboarding) tips(ctx workflow.Context) (bool, error) {
	return o.send(ctx, delivery.Request{Step: "tips", Channel: delivery.Email, Template: "tips", Topic: delivery.TopicMarketing})
}

// nudge goes by SMS to customers who allowed marketing SMS, by email to the
// rest. Consent is read now, not at signup: it may have changed since.
func (o *onboarding) nudge(ctx workflow.Context) (bool, error) {
	p, err := o.profile(ctx, delivery.TopicMarketing)
	if err != nil {
		return false, err
	}
	channel := delivery.Email
	if p.SMSConsent {
		channel = delivery.SMS
	}
	return o.send(ctx, delivery.Request{Step: "nudge", Channel: channel, Template: "nudge", Topic: delivery.TopicMarketing})
}

func (o *onboarding) waitForGoal(ctx workflow.Context) (bool, error) {
	return o.box.until(ctx, o.started.Add(orDefault(o.in.Duration, DefaultOnboardingLength))), nil
}

func (o *onboarding) converted(ctx workflow.Context) (string, error) {
	if o.goal == nil {
		return OutcomeCompleted, nil
	}
	return OutcomeConverted, o.convert(ctx, *o.goal)
}
