package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// Registered names of the campaign workflows.
const (
	// CampaignRunWorkflow is one customer's run through a campaign's steps.
	CampaignRunWorkflow = "CampaignRun"
	// CampaignRunnerWorkflow is one firing of a scheduled or one-off
	// campaign: it pages the audience and sends or starts runs.
	CampaignRunnerWorkflow = "CampaignRunner"
	// CampaignWakeSignal wakes a run or firing waiting at a paused
	// campaign's gate. Resuming and archiving send it to every workflow the
	// gate noted as waiting, so they act within seconds instead of at their
	// next poll. It carries nothing.
	CampaignWakeSignal = "campaign-wake"
)

// campaignJourney is the descriptor register.go lists: the workflows behind
// marketers' YAML campaigns. `tidings campaigns apply` starts the runner
// (or a schedule does), and the live campaigns route their own events
// (CampaignRoutes); erasure cancels their runs by campaign.
func campaignJourney() Journey {
	return Journey{
		Name:    "campaigns",
		Summary: "marketers' YAML campaigns: a runner per firing, runs per customer",
		Others: []Workflow{
			{Name: CampaignRunnerWorkflow, Func: CampaignRunner},
			{Name: CampaignRunWorkflow, Func: CampaignRun},
		},
	}
}

// campaigns names the campaign activities by method; never dereferenced.
var campaigns *activities.Campaigns

// Campaign run outcomes, stored with each entry.
const (
	OutcomeHeldOut  = activities.OutcomeHeldOut // the control group: nothing sent
	OutcomeArchived = "archived"                // the campaign was archived mid-run
)

// Campaign defaults.
const (
	// CampaignGatePoll is how often a run at a send step re-checks a paused
	// campaign without being woken: the safety net if a wake signal is
	// lost (`tidings campaigns resume` run again wakes them too).
	CampaignGatePoll       = 10 * time.Minute
	DefaultCampaignBatch   = 500
	DefaultCampaignPerRun  = 25 // pages per runner run before continue-as-new
	minCampaignPassGap     = 15 * time.Minute
	DefaultCampaignPasses  = 48
	skipReasonLateOnResume = activities.SkipLateAfterPause
)

// GetVersion change IDs of the campaign workflows.
const (
	// localOnceWaitVersion: a run of a once campaign with local: true waits
	// for the customer's own local send time before its first step.
	localOnceWaitVersion = "campaign-once-local-wait"
	// onceWaitsPauseVersion: a once campaign paused when its time comes
	// waits for resume (and drops what is then stale) instead of never
	// sending.
	onceWaitsPauseVersion = "campaign-once-waits-out-pause"
	// recordLateVersion: a firing resumed too late records the customers it
	// skips, so the report counts them.
	recordLateVersion = "campaign-runner-records-late"
	// earlyEventsVersion: an event wait also counts the events that arrived
	// while the step before it ran (a reply to an email that landed before
	// the send activity completed).
	earlyEventsVersion = "campaign-wait-hears-previous-step"
	// ownTriggerVersion: a run no longer hears the event that started it as
	// the first signal (SignalWithStart hands it over twice), so a campaign
	// whose trigger event is also its goal does not end at once.
	ownTriggerVersion = "campaign-skips-own-trigger"
	// gateWakeVersion: a run or firing waiting at a paused campaign's gate
	// is noted as waiting and wakes on CampaignWakeSignal, not only at the
	// next poll.
	gateWakeVersion = "campaign-gate-wakes-on-signal"
	// firstSendBatchedVersion: a firing of a campaign that runs per
	// customer sends the first step to each page in one batch and starts
	// the runs from the second step, instead of starting the runs first.
	firstSendBatchedVersion = "campaign-runner-batches-first-send"
	// runsAfterPagesVersion: such a firing sends the first step to all the
	// pages of a runner run before it starts their customers' runs.
	runsAfterPagesVersion = "campaign-runner-runs-after-pages"
	// maxPendingEvents bounds the events a run keeps for its next wait.
	maxPendingEvents = 50
)

// CampaignRunID is the workflow ID of a customer's run of a campaign, so a
// customer is in one run of a campaign at a time.
func CampaignRunID(name, customerID string) string {
	return "campaign/" + name + "/" + customerID
}

// CampaignRunnerID is the workflow ID of a one-off campaign's runner.
func CampaignRunnerID(name string, version int) string {
	return fmt.Sprintf("campaign/%s/once/%d", name, version)
}

// CampaignScheduleID is the Temporal Schedule of a scheduled campaign.
func CampaignScheduleID(name string) string { return "campaign/" + name }

// CampaignRunInput starts one customer's run. Spec is the snapshot of the
// version it started with: applying a new version never changes it.
type CampaignRunInput struct {
	Campaign   string        `json:"campaign"`
	Version    int           `json:"version"`
	Spec       campaign.Spec `json:"spec"`
	CustomerID string        `json:"customer_id"`
	// Trigger is the event that started an event-triggered run.
	Trigger Event `json:"trigger,omitzero"`
	// InAudience is true when a runner started the run from a page of the
	// audience; otherwise the run checks membership itself.
	InAudience bool `json:"in_audience,omitempty"`
	// RunKey, when set, is the entry's run ID (a runner's firing); default
	// the workflow run ID.
	RunKey string `json:"run_key,omitempty"`
	// FirstDone, when set, says the runner already sent the first step to
	// this customer with the rest of their page: the run starts at the
	// second step. EnteredAt is then the entry's time, from which the run
	// looks for a goal reached before it started.
	FirstDone *activities.RunStart `json:"first_done,omitempty"`
	EnteredAt time.Time            `json:"entered_at,omitzero"`
}

// CampaignRunResult is how the run ended.
type CampaignRunResult struct {
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"`
}

// campaignRun is the state of one customer's run.
type campaignRun struct {
	in         CampaignRunInput
	runID      string
	occurrence int
	loc        *time.Location
	events     eventStream
	goalAt     *time.Time
	sent       []string
	// pending holds the events heard since the current step began, for an
	// event wait that follows; keepEvents gates it (earlyEventsVersion).
	pending    []Event
	keepEvents bool
}

// errGoal unwinds the step interpreter when the goal event arrives.
var errGoal = errors.New("goal reached")

// errArchived unwinds it when the campaign is archived.
var errArchived = errors.New("campaign archived")

// CampaignRun (registered as CampaignRunWorkflow) interprets the steps of
// the version snapshot it was started with for one customer: it enters the
// customer (audience, entry rule, holdout), then sends, waits, branches,
// tags and calls webhooks in order until the steps end or the goal event
// arrives.
func CampaignRun(ctx workflow.Context, in CampaignRunInput) (CampaignRunResult, error) {
	c := &campaignRun{
		in: in, runID: orDefault(in.RunKey, workflow.GetInfo(ctx).WorkflowExecution.RunID), loc: time.UTC,
	}
	c.keepEvents = workflow.GetVersion(ctx, earlyEventsVersion, workflow.DefaultVersion, 1) == 1
	var trigger Event
	if workflow.GetVersion(ctx, ownTriggerVersion, workflow.DefaultVersion, 1) == 1 {
		trigger = in.Trigger
	}
	c.events = newEventStream(ctx, trigger)
	spec := &in.Spec
	enter := activities.EnterInput{
		Campaign: in.Campaign, Version: in.Version, CustomerID: in.CustomerID, RunID: c.runID,
		At: workflow.Now(ctx), AgainAfter: spec.AgainAfter, Holdout: spec.Holdout,
		Variant: firstVariant(in.Campaign, in.CustomerID, spec.Steps),
	}
	if spec.Goal != nil {
		enter.GoalEvent, enter.GoalAfter = spec.Goal.Event, spec.Goal.Within
	}
	if !in.InAudience {
		enter.Audience = &spec.Audience
	}
	var en activities.EnterResult
	if err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignEnter, enter).Get(ctx, &en); err != nil {
		if customerGone(err) {
			return CampaignRunResult{Outcome: OutcomeCustomerGone}, nil
		}
		return CampaignRunResult{}, err
	}
	if !en.Entered {
		return CampaignRunResult{Outcome: en.Reason}, nil
	}
	c.occurrence = en.Occurrence
	if loc, err := time.LoadLocation(en.TimeZone); err == nil {
		c.loc = loc
	}
	if en.Holdout {
		return c.finish(ctx, OutcomeHeldOut, nil)
	}
	steps := spec.Steps
	var err error
	if in.FirstDone != nil {
		steps = steps[1:]
		if in.FirstDone.Sent != "" {
			c.sent = append(c.sent, in.FirstDone.Sent)
		}
		err = c.goalSinceEntry(ctx)
	} else {
		err = c.awaitLocalStart(ctx)
	}
	if err == nil {
		err = c.steps(ctx, steps)
	}
	switch {
	case errors.Is(err, errGoal):
		return c.finish(ctx, OutcomeConverted, nil)
	case errors.Is(err, errArchived):
		return c.finish(ctx, OutcomeArchived, nil)
	case err != nil && customerGone(err):
		return c.finish(ctx, OutcomeCustomerGone, nil)
	case err != nil:
		return CampaignRunResult{}, err
	}
	return c.finish(ctx, OutcomeCompleted, nil)
}

func (c *campaignRun) finish(ctx workflow.Context, outcome string, _ error) (CampaignRunResult, error) {
	drain(workflow.GetSignalChannel(ctx, CampaignWakeSignal)) // a wake that came after the gate has nothing to wake
	err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignFinish, activities.CampaignFinishInput{
		Campaign: c.in.Campaign, RunID: c.runID, Outcome: outcome, GoalAt: c.goalAt, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		return CampaignRunResult{}, fmt.Errorf("finish campaign %s run: %w", c.in.Campaign, err)
	}
	return CampaignRunResult{Outcome: outcome, Sent: c.sent}, nil
}

// goalSinceEntry ends a run started after its first step if the goal was
// reached before it started: signals reach only a running workflow, so an
// event routed while the runner sent the page is found in the store.
func (c *campaignRun) goalSinceEntry(ctx workflow.Context) error {
	g := c.in.Spec.Goal
	if g == nil {
		return nil
	}
	var found activities.GoalResult
	err := workflow.ExecuteActivity(withStore(ctx), act.FindGoal, activities.GoalInput{
		CustomerID: c.in.CustomerID, Types: []string{g.Event}, Since: c.in.EnteredAt,
	}).Get(ctx, &found)
	if err != nil {
		return err
	}
	if e := storedEvent(found); found.Found && c.isGoal(ctx, *e) {
		return c.reachGoal(ctx, *e)
	}
	return nil
}

// awaitLocalStart holds a run of a once campaign with local: true until the
// campaign's wall-clock time in the customer's own zone: the runner starts
// every run at the earliest zone's time.
func (c *campaignRun) awaitLocalStart(ctx workflow.Context) error {
	t := c.in.Spec.Trigger
	if t.Kind != campaign.TriggerOnce || !t.Local || workflow.GetVersion(ctx, localOnceWaitVersion, workflow.DefaultVersion, 1) != 1 {
		return nil
	}
	_, err := c.sleep(ctx, campaign.LocalAt(t.At, c.loc.String()).Sub(workflow.Now(ctx)), nil)
	return err
}

// firstVariant is the arm recorded with the entry: the customer's variant
// of the first A/B send step (arms are picked by one bucket per campaign, so
// it is their arm at every split step).
func firstVariant(name, customerID string, steps []campaign.Step) string {
	var v string
	campaign.Walk(steps, func(st *campaign.Step) {
		if v == "" && st.Send != nil {
			if arm := campaign.PickVariant(name, customerID, st.Send); arm != nil {
				v = arm.Name
			}
		}
	})
	return v
}

// steps runs a list of steps in order. An event wait also sees the events
// heard while the step before it ran; every other step starts afresh.
func (c *campaignRun) steps(ctx workflow.Context, steps []campaign.Step) error {
	for _, st := range steps {
		if err := c.hear(ctx); err != nil {
			return err
		}
		if st.Wait == nil || st.Wait.Event == "" {
			c.pending = nil
		}
		if err := c.step(ctx, st); err != nil {
			return err
		}
	}
	return c.hear(ctx)
}

func (c *campaignRun) step(ctx workflow.Context, st campaign.Step) error {
	switch st.Kind {
	case campaign.StepSend:
		return c.send(ctx, st)
	case campaign.StepWait:
		return c.wait(ctx, st.Wait)
	case campaign.StepBranch:
		var res activities.ConditionResult
		err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignCondition, activities.ConditionInput{
			CustomerID: c.in.CustomerID, Condition: st.Branch.If,
		}).Get(ctx, &res)
		if err != nil {
			return err
		}
		if res.Holds {
			return c.steps(ctx, st.Branch.Then)
		}
		return c.steps(ctx, st.Branch.Else)
	case campaign.StepTag, campaign.StepUntag, campaign.StepSet:
		in := activities.ProfileStepInput{CustomerID: c.in.CustomerID, Kind: st.Kind, Tag: st.Tag}
		if st.Set != nil {
			in.Attribute, in.Value = st.Set.Attribute, st.Set.Value
		}
		return workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignProfile, in).Get(ctx, nil)
	case campaign.StepWebhook:
		err := workflow.ExecuteActivity(withSend(ctx), campaigns.CampaignWebhook, activities.WebhookInput{
			URL: st.Webhook.URL, Campaign: c.in.Campaign, Version: c.in.Version, Step: st.ID, CustomerID: c.in.CustomerID,
			Key: campaign.RunKey(c.in.Campaign, c.in.Version, c.in.CustomerID, st.ID, c.occurrence),
		}).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("campaign webhook failed", "campaign", c.in.Campaign, "step", st.ID, "error", err)
		}
		return nil
	}
	return temporal.NewNonRetryableApplicationError("unknown campaign step kind "+st.Kind, activities.ErrInvalidInput, nil)
}

// send waits out a pause (skipping the send if the campaign resumed too
// long after it fell due), then sends through the one send path, waiting
// out quiet-hour deferrals with the same key.
func (c *campaignRun) send(ctx workflow.Context, st campaign.Step) error {
	due := workflow.Now(ctx)
	variant := campaign.PickVariant(c.in.Campaign, c.in.CustomerID, st.Send)
	if err := c.gate(ctx); err != nil {
		return err
	}
	if late := workflow.Now(ctx).Sub(due); late > orDefault(c.in.Spec.LateAfter, campaign.DefaultLateAfter) {
		workflow.GetLogger(ctx).Info("campaign send skipped: late after pause", "campaign", c.in.Campaign, "step", st.ID, "late", late)
		return workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignSkip, activities.SkipInput{
			Campaign: c.in.Campaign, CustomerID: c.in.CustomerID, Occurrence: c.occurrence, Step: st.ID,
			Variant: variantOf(variant), Reason: skipReasonLateOnResume,
		}).Get(ctx, nil)
	}
	r := campaign.Message(c.in.Campaign, c.in.Version, c.in.CustomerID, st, variant, c.occurrence)
	for {
		var res delivery.Result
		err := workflow.ExecuteActivity(withSend(ctx), act.SendMessage, r).Get(ctx, &res)
		if err != nil {
			if customerGone(err) {
				return err
			}
			workflow.GetLogger(ctx).Warn("campaign step not delivered", "campaign", c.in.Campaign, "step", st.ID, "error", err)
			return nil
		}
		if res.Status != delivery.Deferred {
			if res.Status == delivery.Sent {
				c.sent = append(c.sent, r.Step)
			}
			return nil
		}
		if _, err := c.sleep(ctx, max(res.DeferUntil.Sub(workflow.Now(ctx)), minDeferral), nil); err != nil {
			return err
		}
	}
}

func variantOf(v *campaign.Variant) string {
	if v == nil {
		return ""
	}
	return v.Name
}

// gate returns once the campaign may send, waiting while it is paused and
// hearing events (the goal) meanwhile.
func (c *campaignRun) gate(ctx workflow.Context) error {
	return waitActive(ctx, c.in.Campaign, func(d time.Duration, wake workflow.ReceiveChannel) error {
		_, err := c.listen(ctx, d, nil, wake)
		return err
	})
}

// waitActive returns once the campaign is active, and errArchived if it is
// archived. While it is paused it waits with sleep: until woken by
// CampaignWakeSignal (wake is nil in histories from before the signal) or
// for CampaignGatePoll, then checks again.
func waitActive(ctx workflow.Context, name string, sleep func(d time.Duration, wake workflow.ReceiveChannel) error) error {
	var wake workflow.ReceiveChannel
	if workflow.GetVersion(ctx, gateWakeVersion, workflow.DefaultVersion, 1) == 1 {
		wake = workflow.GetSignalChannel(ctx, CampaignWakeSignal)
	}
	for {
		// A wake that arrived before this check is answered by it.
		drain(wake)
		var g activities.GateResult
		if err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignGate, activities.GateInput{Campaign: name, Wake: wake != nil}).Get(ctx, &g); err != nil {
			return err
		}
		switch g.Status {
		case campaign.StatusArchived:
			return errArchived
		case campaign.StatusPaused:
			if err := sleep(CampaignGatePoll, wake); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// drain discards the signals already waiting on ch (nil: none).
func drain(ch workflow.ReceiveChannel) {
	for ch != nil && ch.ReceiveAsync(nil) {
	}
}

// sleepOrWake sleeps d, or until wake (if not nil) receives a signal.
func sleepOrWake(ctx workflow.Context, d time.Duration, wake workflow.ReceiveChannel) error {
	if wake == nil {
		return workflow.Sleep(ctx, d)
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.AddReceive(wake, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
	sel.Select(ctx)
	return ctx.Err()
}

func (c *campaignRun) wait(ctx workflow.Context, w *campaign.Wait) error {
	switch {
	case w.Event != "":
		want := func(e Event) bool { return e.Type == w.Event && c.matches(ctx, w.Where, e) }
		heard := slices.ContainsFunc(c.pending, want)
		c.pending = nil
		if !heard {
			var err error
			if heard, err = c.sleep(ctx, w.Timeout, want); err != nil {
				return err
			}
		}
		if heard {
			return c.steps(ctx, w.OnEvent)
		}
		return c.steps(ctx, w.OnTimeout)
	case w.UntilMinute >= 0:
		now := workflow.Now(ctx).In(c.loc)
		y, m, d := now.Date()
		at := time.Date(y, m, d, w.UntilMinute/60, w.UntilMinute%60, 0, 0, c.loc)
		if !at.After(now) {
			at = time.Date(y, m, d+1, w.UntilMinute/60, w.UntilMinute%60, 0, 0, c.loc)
		}
		_, err := c.sleep(ctx, at.Sub(now), nil)
		return err
	default:
		_, err := c.sleep(ctx, w.Duration, nil)
		return err
	}
}

// isGoal reports whether e is the campaign's goal event.
func (c *campaignRun) isGoal(ctx workflow.Context, e Event) bool {
	g := c.in.Spec.Goal
	return g != nil && e.Type == g.Event && c.matches(ctx, g.Where, e)
}

// matches reports whether e has the properties where names, reading them
// from the stored event: the signal carries only the event's ID.
func (c *campaignRun) matches(ctx workflow.Context, where map[string]any, e Event) bool {
	if len(where) == 0 || !storedFacts(ctx, e) {
		return campaign.Matches(where, e.Properties)
	}
	var res activities.MatchResult
	err := storeCall(ctx, act.MatchEvent, activities.MatchInput{CustomerID: c.in.CustomerID, EventID: e.EventID, Where: where}, &res)
	if err != nil {
		workflow.GetLogger(ctx).Warn("campaign event not matched", "campaign", c.in.Campaign, "event_id", e.EventID, "error", err)
	}
	return res.Matches
}

// reachGoal notes the goal event's time.
func (c *campaignRun) reachGoal(ctx workflow.Context, e Event) error {
	at := e.OccurredAt
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	c.goalAt = &at
	return errGoal
}

// hear handles events already delivered without waiting: the goal ends
// the run, others are kept for an event wait that follows.
func (c *campaignRun) hear(ctx workflow.Context) error {
	for e, ok := c.events.receiveAsync(); ok; e, ok = c.events.receiveAsync() {
		if c.isGoal(ctx, e) {
			return c.reachGoal(ctx, e)
		}
		c.keep(e)
	}
	return nil
}

// keep notes an event for the next event wait; the event that started the
// run is not a reply to it.
func (c *campaignRun) keep(e Event) {
	if !c.keepEvents || (e.EventID != "" && e.EventID == c.in.Trigger.EventID) {
		return
	}
	c.pending = append(c.pending, e)
	if n := len(c.pending); n > maxPendingEvents {
		c.pending = c.pending[n-maxPendingEvents:]
	}
}

// sleep waits d with a durable timer while hearing events. It returns
// errGoal when the goal arrives, and true when want (if given) matched an
// event before the timer fired.
func (c *campaignRun) sleep(ctx workflow.Context, d time.Duration, want func(Event) bool) (bool, error) {
	return c.listen(ctx, d, want, nil)
}

// listen is sleep that also ends early when wake (if not nil) receives a
// signal.
func (c *campaignRun) listen(ctx workflow.Context, d time.Duration, want func(Event) bool, wake workflow.ReceiveChannel) (bool, error) {
	if err := c.hear(ctx); err != nil {
		return false, err
	}
	if d <= 0 {
		return false, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	var (
		fired, matched, woken bool
		goal                  *Event
	)
	for !fired && !matched && !woken && goal == nil {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(timer, func(f workflow.Future) { fired = true })
		if wake != nil {
			sel.AddReceive(wake, func(ch workflow.ReceiveChannel, _ bool) {
				ch.Receive(ctx, nil)
				woken = true
			})
		}
		c.events.addTo(ctx, sel, func(e Event) {
			switch {
			case c.isGoal(ctx, e):
				goal = &e
			case want != nil && want(e):
				matched = true
			default:
				c.keep(e)
			}
		})
		sel.Select(ctx)
	}
	if goal != nil {
		return false, c.reachGoal(ctx, *goal)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return matched, nil
}

// CampaignRunnerInput is one firing of a scheduled campaign, or the one run
// of a one-off campaign. Version 0 takes the version current when it starts
// (a schedule passes only the name); the rest carries progress across
// continue-as-new.
type CampaignRunnerInput struct {
	Campaign string `json:"campaign"`
	Version  int    `json:"version,omitempty"`
	// RunKey identifies the firing (default: the workflow ID, which a
	// schedule derives from the scheduled time); entries and keys derive
	// from it, so a re-triggered firing sends nobody twice.
	RunKey    string    `json:"run_key,omitempty"`
	At        time.Time `json:"at,omitzero"`
	BatchSize int       `json:"batch_size,omitempty"`

	Spec   *campaign.Spec                 `json:"spec,omitempty"`
	Cursor string                         `json:"cursor,omitempty"`
	Pass   int                            `json:"pass,omitempty"`
	Result CampaignRunnerResult           `json:"result,omitzero"`
	Due    activities.CampaignBatchResult `json:"due,omitzero"`
	// SkipLate: this pass was resumed too late; the rest of its customers
	// are recorded as skipped rather than sent.
	SkipLate bool `json:"skip_late,omitempty"`
	// Retry are the messages of earlier pages waiting for their own retry
	// after a temporary failure; the next batch sends them.
	Retry []activities.RetryMessage `json:"retry,omitempty"`
	// AB is where a firing of a campaign that picks an A/B winner is.
	AB *ABProgress `json:"ab,omitempty"`
}

// ABProgress is the part of the audience a firing that picks an A/B winner
// is sending: the test share (Share activities.ShareTest), then the rest
// the Winner (activities.ShareRest); a later firing of a version whose
// test is decided sends everyone the Winner (Share empty).
type ABProgress struct {
	Share  string `json:"share,omitempty"`
	Winner string `json:"winner,omitempty"`
}

// CampaignRunnerResult tallies a firing.
type CampaignRunnerResult struct {
	Version        int               `json:"version"`
	Entered        int               `json:"entered"`
	HeldOut        int               `json:"held_out"`
	Refused        int               `json:"refused"`
	Started        int               `json:"started"`
	AlreadyRunning int               `json:"already_running"`
	Counts         activities.Counts `json:"counts"`
	Paused         bool              `json:"paused,omitempty"`
	// SkippedLate is true when a pause outlasted the campaign's late_after
	// and the rest of the firing was dropped.
	SkippedLate bool `json:"skipped_late,omitempty"`
	// Winner is the A/B variant the rest of the audience was sent.
	Winner string `json:"winner,omitempty"`
}

// CampaignRunner (registered as CampaignRunnerWorkflow) sends a campaign to
// its audience, paging it by customer ID. A single-send campaign sends in
// batches from this workflow (no workflow per recipient); a campaign with
// more steps starts one CampaignRun per customer, because each customer then
// has their own timeline, after sending the page its first step in a batch
// when that is a send. Customers whose local send time has not come (once,
// local: true) or whose quiet hours deferred them are visited again in a
// later pass. A campaign that picks an A/B winner sends the test share, waits
// out the test window, has the winner chosen and sends the rest of the
// audience the winner.
func CampaignRunner(ctx workflow.Context, in CampaignRunnerInput) (CampaignRunnerResult, error) {
	if in.RunKey == "" {
		in.RunKey = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	if in.At.IsZero() {
		in.At = workflow.Now(ctx)
	}
	if in.Spec == nil {
		var lc activities.LoadCampaignResult
		err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignLoad, activities.LoadCampaignInput{
			Campaign: in.Campaign, Version: in.Version,
		}).Get(ctx, &lc)
		if err != nil {
			return in.Result, err
		}
		// A scheduled firing of a paused campaign is simply skipped (its
		// schedule is paused too); a once campaign has only this firing, so
		// it waits for resume in the page loop below.
		waitOut := lc.Status == campaign.StatusPaused && lc.Spec.Trigger.Kind == campaign.TriggerOnce &&
			workflow.GetVersion(ctx, onceWaitsPauseVersion, workflow.DefaultVersion, 1) == 1
		if lc.Status != campaign.StatusActive && !waitOut {
			in.Result.Paused = true
			workflow.GetLogger(ctx).Info("campaign not active; firing skipped", "campaign", in.Campaign, "status", lc.Status)
			return in.Result, nil
		}
		in.Version, in.Spec = lc.Version, &lc.Spec
		in.Result.Version = lc.Version
	}
	if st := in.Spec.WinnerStep(); st != nil && in.AB == nil {
		// A later firing of a version whose test is decided sends the
		// winner to everyone; otherwise this firing runs the test.
		w, err := campaignWinner(ctx, &in, false)
		if err != nil {
			return in.Result, err
		}
		in.AB = &ABProgress{Share: activities.ShareTest}
		if w != "" {
			in.AB = &ABProgress{Winner: w}
			in.Result.Winner = w
		}
	}
	batch := orDefault(in.BatchSize, DefaultCampaignBatch)
	// The runs kept for later are started before the firing ends,
	// continues as new or waits.
	var later laterRuns
	end := func() (CampaignRunnerResult, error) {
		err := later.start(ctx, &in, batch)
		return in.Result, err
	}
	// A firing that fails still starts the runs of the customers it sent
	// the first step to, so their later steps are not lost with it.
	fail := func(err error) (CampaignRunnerResult, error) {
		if serr := later.start(ctx, &in, batch); serr != nil {
			err = errors.Join(err, serr)
		}
		return in.Result, err
	}
	for pages := 0; ; pages++ {
		if pages == DefaultCampaignPerRun {
			if err := later.start(ctx, &in, batch); err != nil {
				return in.Result, err
			}
			return in.Result, workflow.NewContinueAsNewError(ctx, CampaignRunnerWorkflow, in)
		}
		if !in.SkipLate {
			paused := workflow.Now(ctx)
			err := waitActive(ctx, in.Campaign, func(d time.Duration, wake workflow.ReceiveChannel) error { return sleepOrWake(ctx, d, wake) })
			switch {
			case errors.Is(err, errArchived):
				return end()
			case err != nil:
				return fail(err)
			case workflow.Now(ctx).Sub(paused) > orDefault(in.Spec.LateAfter, campaign.DefaultLateAfter):
				// Resumed too late: the rest of this firing is stale, and
				// sending it now would flood customers with old news.
				workflow.GetLogger(ctx).Info("campaign firing resumed too late; skipping the rest", "campaign", in.Campaign)
				in.Result.SkippedLate = true
				if workflow.GetVersion(ctx, recordLateVersion, workflow.DefaultVersion, 1) != 1 || !hasSend(in.Spec.Steps) {
					return end()
				}
				in.SkipLate = true
			}
		}
		var page activities.CampaignBatchResult
		var err error
		switch {
		case in.Spec.Batchable() || in.SkipLate:
			err = workflow.ExecuteActivity(withBatch(ctx), campaigns.CampaignBatch, in.batchInput(batch)).Get(ctx, &page)
		case in.Spec.FirstSendBatched() && workflow.GetVersion(ctx, firstSendBatchedVersion, workflow.DefaultVersion, 1) == 1:
			page, err = sendFirstAndStartRuns(ctx, &in, batch, &later)
		default:
			page, err = startCampaignRuns(ctx, &in, batch)
		}
		if err != nil {
			return fail(err)
		}
		in.Cursor, in.Retry = page.Cursor, page.Retry
		in.Result.Entered += page.Entered
		in.Result.HeldOut += page.HeldOut
		in.Result.Refused += page.Refused
		in.Result.Counts.Add(activities.Counts{Sent: page.Counts.Sent, Skipped: page.Counts.Skipped, Failed: page.Counts.Failed})
		in.Due.NotDue += page.NotDue
		if !page.NextDue.IsZero() && (in.Due.NextDue.IsZero() || page.NextDue.Before(in.Due.NextDue)) {
			in.Due.NextDue = page.NextDue
		}
		if !page.Done {
			continue
		}
		if err := later.start(ctx, &in, batch); err != nil {
			return in.Result, err
		}
		if in.Due.NotDue == 0 || in.Pass+1 >= DefaultCampaignPasses {
			if in.AB == nil || in.AB.Share != activities.ShareTest {
				return in.Result, nil
			}
			if err := awaitWinner(ctx, &in); err != nil {
				return in.Result, err
			}
			continue
		}
		if err := workflow.Sleep(ctx, max(in.Due.NextDue.Sub(workflow.Now(ctx)), minCampaignPassGap)); err != nil {
			return in.Result, err
		}
		in.Pass++
		in.Cursor = ""
		in.Due = activities.CampaignBatchResult{}
		in.SkipLate = false
	}
}

// awaitWinner ends the test of a firing that picks an A/B winner: it waits
// out the test window after the test's last send, has the winner chosen
// and recorded, and sets the firing to send the rest of the audience the
// winner from the first page. A firing resumed too late decides at once
// and records the rest as skipped too.
func awaitWinner(ctx workflow.Context, in *CampaignRunnerInput) error {
	if !in.SkipLate {
		if err := workflow.Sleep(ctx, in.Spec.WinnerStep().Send.Winner.After); err != nil {
			return err
		}
	}
	w, err := campaignWinner(ctx, in, true)
	if err != nil {
		return err
	}
	in.AB = &ABProgress{Share: activities.ShareRest, Winner: w}
	in.Result.Winner = w
	in.Pass, in.Cursor, in.Due = 0, "", activities.CampaignBatchResult{}
	return nil
}

// campaignWinner asks for the version's A/B winner ("" while none is
// chosen); decide chooses it now if none is.
func campaignWinner(ctx workflow.Context, in *CampaignRunnerInput, decide bool) (string, error) {
	var res activities.WinnerResult
	err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignWinner, activities.WinnerInput{
		Campaign: in.Campaign, Version: in.Version, Step: *in.Spec.WinnerStep(), Decide: decide, At: workflow.Now(ctx),
	}).Get(ctx, &res)
	return res.Winner, err
}

// hasSend reports whether any step sends a message.
func hasSend(steps []campaign.Step) bool {
	found := false
	campaign.Walk(steps, func(st *campaign.Step) { found = found || st.Send != nil })
	return found
}

// batchInput is the CampaignBatch call for the firing's next page.
func (in *CampaignRunnerInput) batchInput(batch int) activities.CampaignBatchInput {
	b := activities.CampaignBatchInput{
		Campaign: in.Campaign, Version: in.Version, Spec: *in.Spec, RunKey: in.RunKey, At: in.At,
		Cursor: in.Cursor, BatchSize: batch, SkipLate: in.SkipLate, Retry: in.Retry,
	}
	if in.AB != nil {
		b.Share, b.Winner = in.AB.Share, in.AB.Winner
	}
	return b
}

// startCampaignRuns pages the audience and starts a run per customer.
func startCampaignRuns(ctx workflow.Context, in *CampaignRunnerInput, batch int) (activities.CampaignBatchResult, error) {
	var page activities.AudiencePageResult
	err := workflow.ExecuteActivity(withStore(ctx), campaigns.CampaignAudiencePage, activities.AudiencePageInput{
		Audience: in.Spec.Audience, At: in.At, After: in.Cursor, Limit: batch,
	}).Get(ctx, &page)
	if err != nil {
		return activities.CampaignBatchResult{}, err
	}
	runs := make([]CampaignRunInput, len(page.CustomerIDs))
	for i, id := range page.CustomerIDs {
		runs[i] = in.runInput(id)
	}
	if err := startRuns(ctx, in, runs); err != nil {
		return activities.CampaignBatchResult{}, err
	}
	res := activities.CampaignBatchResult{Done: page.Done}
	if n := len(page.CustomerIDs); n > 0 {
		res.Cursor = page.CustomerIDs[n-1]
	} else {
		res.Cursor = in.Cursor
	}
	return res, nil
}

// sendFirstAndStartRuns sends the first step to the next page through the
// batched send path (CampaignBatch), as a single-send campaign is sent, and
// then starts the run of each customer it is done with from the second
// step: the first message of an audience that starts together goes out as
// fast as a one-off campaign's, and each customer still has their own run
// for the waits and branches after it. Firings since runsAfterPagesVersion
// keep the runs in later, started when the runner has sent its pages.
func sendFirstAndStartRuns(ctx workflow.Context, in *CampaignRunnerInput, batch int, later *laterRuns) (activities.CampaignBatchResult, error) {
	var page activities.CampaignBatchResult
	if err := workflow.ExecuteActivity(withBatch(ctx), campaigns.CampaignBatch, in.batchInput(batch)).Get(ctx, &page); err != nil {
		return page, err
	}
	runs := make([]CampaignRunInput, len(page.Runs))
	for i := range page.Runs {
		runs[i] = in.runInput(page.Runs[i].CustomerID)
		runs[i].FirstDone, runs[i].EnteredAt = &page.Runs[i], in.At
	}
	page.Runs = nil
	if workflow.GetVersion(ctx, runsAfterPagesVersion, workflow.DefaultVersion, 1) == 1 {
		*later = append(*later, runs...)
		return page, nil
	}
	return page, startRuns(ctx, in, runs)
}

// runInput is the run of one customer of the firing's audience.
func (in *CampaignRunnerInput) runInput(customerID string) CampaignRunInput {
	return CampaignRunInput{
		Campaign: in.Campaign, Version: in.Version, Spec: *in.Spec, CustomerID: customerID, InAudience: true,
		RunKey: in.RunKey + "/" + customerID,
	}
}

// startRuns starts each run as an abandoned child (it outlives the
// runner). A customer already in a run of the campaign is counted, not an
// error.
func startRuns(ctx workflow.Context, in *CampaignRunnerInput, runs []CampaignRunInput) error {
	futures := make([]workflow.ChildWorkflowFuture, len(runs))
	for i, r := range runs {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            CampaignRunID(in.Campaign, r.CustomerID),
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, CampaignRunWorkflow, r)
	}
	for _, f := range futures {
		err := f.GetChildWorkflowExecution().Get(ctx, nil)
		var running *temporal.ChildWorkflowExecutionAlreadyStartedError
		switch {
		case err == nil:
			in.Result.Started++
		case errors.As(err, &running):
			in.Result.AlreadyRunning++
		default:
			return err
		}
	}
	return nil
}

// laterRuns are the runs a firing will start once it has sent the first
// step to every page of this runner run: Temporal starts runs far more
// slowly than the send path sends, and each customer's next step is
// reckoned from their entry, not from their run's start.
type laterRuns []CampaignRunInput

// start starts them, a page at a time (one workflow task's commands stay
// small), and forgets them.
func (l *laterRuns) start(ctx workflow.Context, in *CampaignRunnerInput, batch int) error {
	runs := *l
	*l = nil
	for chunk := range slices.Chunk(runs, batch) {
		if err := startRuns(ctx, in, chunk); err != nil {
			return err
		}
	}
	return nil
}

// LiveCampaign is a campaign's current version as event routing sees it.
type LiveCampaign struct {
	Name    string
	Version int
	Status  string
	Spec    campaign.Spec
}

// CampaignRoutes is the campaigns' part of the routing table: an event
// starts a run of each live event-triggered campaign whose trigger it
// matches (the run itself checks audience and entry rule), and is signalled
// to the customer's runs that wait for it or count it as their goal. A
// paused campaign's runs start too and wait at their first send, so on
// resume what fell due during the pause is sent, or skipped when it is more
// than late_after old, exactly as for runs that were under way.
func CampaignRoutes(customerID string, e Event, live []LiveCampaign) []Route {
	var out []Route
	for _, lc := range live {
		r := Route{Journey: campaign.Journey(lc.Name), WorkflowID: CampaignRunID(lc.Name, customerID), WorkflowType: CampaignRunWorkflow}
		t := lc.Spec.Trigger
		if lc.Status != campaign.StatusArchived && t.Kind == campaign.TriggerEvent && t.Event == e.Type && campaign.Matches(t.Where, e.Properties) {
			r.StartIfAbsent = true
			r.Start = CampaignRunInput{Campaign: lc.Name, Version: lc.Version, Spec: lc.Spec, CustomerID: customerID, Trigger: e.Ref()}
			out = append(out, r)
			continue
		}
		for _, typ := range lc.Spec.EventsHeard() {
			if typ == e.Type {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
