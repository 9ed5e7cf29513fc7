package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Router delivers stored events to journeys, as the API does after storing
// them; *router.Router implements it.
type Router interface {
	Route(ctx context.Context, ids ...int64) ([]int64, error)
	Drain(ctx context.Context) (int, error)
}

// Temporal starts the sweeps; client.Client implements it.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Deps are what the scenario acts through.
type Deps struct {
	Store     Store
	Router    Router
	Temporal  Temporal
	TaskQueue string
	// Out receives one line per thing the scenario did, for the newcomer.
	Out io.Writer
}

// Options tune the scenario; zero values mean the defaults.
type Options struct {
	// Customers is the size of the company (DefaultCustomers); Seed its
	// seed (DefaultSeed).
	Customers int
	Seed      uint64
	// QuietHours are the send path's ("21:00-09:00"): deliveries are posted
	// for customers outside them, and the report says who waits.
	QuietHours string
	// Signups and Deliveries are how many of each one start posts (8 each).
	Signups, Deliveries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Shortened waits, so journeys unfold in minutes instead of days.
const (
	SurveyDelay  = 30 * time.Second
	SurveyWait   = 3 * time.Minute
	WinbackGap   = time.Minute
	CommentWait  = time.Minute
	sweepTimeout = 2 * time.Minute
)

// Settings returns s with the waits the dev router uses with --demo: a
// delivered order is surveyed after 30 seconds instead of a day, and the
// reminder follows three minutes later. Onboarding keeps its calendar days:
// the welcome goes out at once anyway.
func Settings(s workflows.Settings) workflows.Settings {
	out := workflows.Settings{}
	for j, v := range s {
		for p, x := range v {
			out.Set(j, p, x)
		}
	}
	return out.Set(workflows.Survey, "delay", SurveyDelay).Set(workflows.Survey, "answer_wait", SurveyWait).
		Set(workflows.Survey, "reminder_wait", SurveyWait).Set(workflows.Survey, "comment_wait", CommentWait)
}

// Workflow IDs of the sweeps the scenario starts.
const (
	BirthdaySweepID = "demo-birthday-sweep"
	WinbackSweepID  = "demo-winback-sweep"
	RefreshSweepID  = "demo-refresh"
)

// Report is what one run of the scenario did.
type Report struct {
	Loaded     Loaded
	Signups    []string
	Deliveries []string
	Birthdays  workflows.BirthdaySweepResult
	Winbacks   workflows.WinbackSweepResult
	Refresh    activities.RefreshResult
}

// Run loads the company, delivers its past orders to the journeys (so a
// win-back never mistakes an old order for a new one), posts sign-ups and
// deliveries through the event path, and runs the birthday and win-back
// sweeps once. Each start picks customers not used before, so every start
// shows new mail.
func Run(ctx context.Context, d Deps, opt Options) (Report, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Seed == 0 {
		opt.Seed = DefaultSeed
	}
	if opt.Signups <= 0 {
		opt.Signups = 8
	}
	if opt.Deliveries <= 0 {
		opt.Deliveries = 8
	}
	out := d.Out
	if out == nil {
		out = io.Discard
	}
	var rep Report
	l, err := Load(ctx, d.Store, opt.Customers, opt.Seed, opt.Now())
	if err != nil {
		return rep, err
	}
	rep.Loaded = l
	fmt.Fprintf(out, "demo: %d customers (%d new, %d updated, %d unchanged), %d past orders (%d new), %d product views (%d new), loaded as of %s\n",
		len(l.Customers), l.Import.Inserted, l.Import.Updated, l.Import.Unchanged, l.Orders, l.NewOrders,
		l.Views, l.NewViews, l.Anchor.Format("2006-01-02 15:04 MST"))
	if _, err := d.Router.Drain(ctx); err != nil {
		return rep, fmt.Errorf("deliver past orders to journeys: %w", err)
	}

	awake := awakeTest(opt.QuietHours)
	now := opt.Now()
	if rep.Signups, err = post(ctx, d, l, now, opt.Signups, "signup", func(c Customer) bool {
		return c.Cohort == CohortNew
	}, func(c Customer) string { return "demo-signup-" + c.Input.ExternalID }); err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "demo: %d sign-ups posted: welcome emails arrive now (the welcome ignores quiet hours)\n", len(rep.Signups))
	if rep.Deliveries, err = post(ctx, d, l, now, opt.Deliveries, workflows.EventOrderDelivered, func(c Customer) bool {
		return deliverable(c) && awake(now, c)
	}, func(c Customer) string { return "demo-delivered-" + c.Orders[len(c.Orders)-1].ID }); err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "demo: %d orders delivered to customers awake now: surveys arrive in %s, a reminder %s later if unanswered\n",
		len(rep.Deliveries), SurveyDelay, SurveyWait)

	// The hourly refresh, once now: the saved segments get a first size.
	if err := sweep(ctx, d, RefreshSweepID, workflows.RefreshSweepWorkflow, workflows.RefreshSweepInput{}, &rep.Refresh); err != nil {
		return rep, err
	}
	fmt.Fprintf(out, "demo: refresh: %d customers scored, %d segment and campaign audiences measured (their sizes over time grow with each hourly refresh)\n",
		rep.Refresh.Customers, rep.Refresh.Audiences)
	if err := sweep(ctx, d, BirthdaySweepID, workflows.BirthdaySweepWorkflow, workflows.BirthdaySweepInput{}, &rep.Birthdays); err != nil {
		return rep, err
	}
	b := rep.Birthdays.Counts
	fmt.Fprintf(out, "demo: birthday sweep: %d greeted, %d held for their morning (quiet hours), %d skipped (consent, caps)\n",
		b.Sent, b.Deferred, b.Skipped)
	in := workflows.WinbackSweepInput{Journey: workflows.WinbackInput{StepGap: WinbackGap}}
	if err := sweep(ctx, d, WinbackSweepID, workflows.WinbackSweepWorkflow, in, &rep.Winbacks); err != nil {
		return rep, err
	}
	asleep := 0
	for _, c := range l.Customers {
		if c.Cohort == CohortLapsed && !awake(now, c) {
			asleep++
		}
	}
	if rep.Winbacks.Started == 0 {
		fmt.Fprintf(out, "demo: win-back sweep: no lapsed customer due (each gets one win-back in 180 days; the earlier ones are in the catcher)\n")
		return rep, nil
	}
	fmt.Fprintf(out, "demo: win-back sweep: %d lapsed customers started: \"we miss you\" now, the offer and the last chance %s apart (by SMS too where allowed); the %d asleep now hear at 09:00 their time\n",
		rep.Winbacks.Started, WinbackGap, asleep)
	return rep, nil
}

// deliverable reports whether the scenario may deliver an order to c, so
// that the survey it starts and its reminder both arrive: a recent buyer
// who reads email and gets no other capped email today (the birthday
// greeting would leave the reminder over the daily cap of two).
func deliverable(c Customer) bool {
	return c.Cohort == CohortRecent && !c.EmailOptOut && !c.BirthdayToday
}

// post records one event of type typ for up to n customers that want
// selects and that have none of that type yet, and routes them as the API
// does: stored first, then delivered to their journeys.
func post(ctx context.Context, d Deps, l Loaded, at time.Time, n int, typ string, want func(Customer) bool, eventID func(Customer) string) ([]string, error) {
	var picked []string
	var ids []int64
	for _, c := range l.Customers {
		if len(picked) == n {
			break
		}
		if !want(c) {
			continue
		}
		id := l.IDs[c.Input.ExternalID]
		prior, err := d.Store.CustomerEvents(ctx, id, typ, time.Time{}, 1)
		if err != nil {
			return nil, err
		}
		if len(prior) > 0 {
			continue
		}
		recs, err := d.Store.RecordEvents(ctx, []store.EventInput{{EventID: eventID(c), CustomerID: id, Type: typ, OccurredAt: at}})
		if err != nil {
			return nil, fmt.Errorf("record demo %s of %s: %w", typ, c.Input.ExternalID, err)
		}
		if recs[0].Created {
			ids = append(ids, recs[0].ID)
		}
		picked = append(picked, c.Input.ExternalID)
	}
	if _, err := d.Router.Route(ctx, ids...); err != nil {
		// Stored events wait in the outbox; the router's loop delivers them.
		return picked, fmt.Errorf("route demo %s events: %w", typ, err)
	}
	return picked, nil
}

// sweep starts a sweep (or joins one still running from an earlier start)
// and waits for its result.
func sweep(ctx context.Context, d Deps, id, workflowType string, in, out any) error {
	run, err := d.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: d.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflowType, in)
	if err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	if err := run.Get(ctx, out); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}

// awakeTest reports whether it is outside quiet hours for a customer now and
// for the next hour, so a message due in minutes is not held until morning.
func awakeTest(quiet string) func(time.Time, Customer) bool {
	start, end, err := config.ParseQuietHours(quiet)
	if err != nil || quiet == "" {
		start, end = 0, 0
	}
	inQuiet := func(minute int) bool {
		switch {
		case start == end:
			return false
		case start < end:
			return minute >= start && minute < end
		default:
			return minute >= start || minute < end
		}
	}
	zone := zones{}
	return func(now time.Time, c Customer) bool {
		for _, t := range []time.Time{now, now.Add(time.Hour)} {
			local := t.In(zone.get(*c.Input.TimeZone))
			if inQuiet(local.Hour()*60 + local.Minute()) {
				return false
			}
		}
		return true
	}
}
