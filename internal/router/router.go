// Package router delivers stored customer events to the journeys and
// campaign runs they concern. The event row in PostgreSQL is written first; routing is a second
// step that may fail (Temporal unreachable) without losing anything, because
// unrouted rows form an outbox that Run drains until they are delivered.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Temporal is what the router needs of a Temporal client.
type Temporal interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	CancelWorkflow(ctx context.Context, workflowID, runID string) error
}

// Outbox is what the router needs of the store: the events to route and
// the journey starts routing deferred.
type Outbox interface {
	DeliverOutbox(ctx context.Context, ids []int64, limit int, deliver store.DeliverFunc) ([]int64, error)
	StartDue(ctx context.Context, now time.Time, limit int, start store.StartFunc) (int, error)
}

// Campaigns lists the live campaigns (current version and status);
// *store.Store implements it.
type Campaigns interface {
	LiveCampaigns(ctx context.Context) ([]store.LiveCampaign, error)
}

// Runs tells which journeys a customer is in; *store.Store implements it.
type Runs interface {
	OpenJourneys(ctx context.Context, customerID string, journeys []string) ([]string, error)
	RefusedStarts(ctx context.Context, customerID string, windows map[string]time.Duration, now time.Time) ([]string, error)
}

// Options tune a Router; zero values mean the defaults.
type Options struct {
	// TaskQueue is where started journeys run (TIDINGS_TEMPORAL_TASK_QUEUE).
	TaskQueue string
	// CallTimeout bounds one call to Temporal, so a request that routes an
	// event never hangs on an unreachable server (default 5s).
	CallTimeout time.Duration
	// BatchSize is how many outbox rows one drain transaction takes (default 100).
	BatchSize int
	// Journeys are the operator's journey parameters (the policy file's
	// journeys: section); a run an event starts takes them, and what is not
	// set takes the journey's default.
	Journeys workflows.Settings
	// Campaigns is where event-triggered campaigns and the goal and wait
	// events of campaign runs come from; nil means the outbox itself when
	// it lists campaigns (the store does).
	Campaigns Campaigns
	// CampaignsTTL is how long the list of live campaigns is reused before
	// it is read again (default DefaultCampaignsTTL), so routing a stream of
	// events costs one query a second, not one per event and campaign. A
	// version applied is what new runs take from then on; the status needs
	// no freshness, since runs check it in the database before every send.
	CampaignsTTL time.Duration
	// Runs is asked before an event is signalled to a journey it would not
	// start, and the signal is left out when the customer is not in that
	// journey; nil means the outbox itself when it knows the runs (the
	// store does), and without it every such event is signalled.
	Runs    Runs
	Metrics *Metrics
	Log     *slog.Logger
}

// DefaultCampaignsTTL is how stale the router's list of live campaigns may
// be: a campaign applied is routed to within a second.
const DefaultCampaignsTTL = time.Second

// Router delivers events with SignalWithStart or Signal per
// workflows.RoutesFor and marks them routed.
type Router struct {
	outbox   Outbox
	temporal Temporal
	opt      Options

	mu       sync.Mutex
	live     []workflows.LiveCampaign
	liveRead time.Time
}

// New returns a Router.
func New(outbox Outbox, temporal Temporal, opt Options) *Router {
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = 5 * time.Second
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 100
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.CampaignsTTL <= 0 {
		opt.CampaignsTTL = DefaultCampaignsTTL
	}
	if opt.Campaigns == nil {
		if c, ok := outbox.(Campaigns); ok {
			opt.Campaigns = c
		}
	}
	if opt.Runs == nil {
		if rs, ok := outbox.(Runs); ok {
			opt.Runs = rs
		}
	}
	return &Router{outbox: outbox, temporal: temporal, opt: opt}
}

// liveCampaigns returns the live campaigns, read at most once per
// CampaignsTTL. A version whose spec does not decode is left out (and
// logged) rather than holding up every event.
func (r *Router) liveCampaigns(ctx context.Context) ([]workflows.LiveCampaign, error) {
	if r.opt.Campaigns == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.liveRead.IsZero() && time.Since(r.liveRead) < r.opt.CampaignsTTL {
		return r.live, nil
	}
	vs, err := r.opt.Campaigns.LiveCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	live := make([]workflows.LiveCampaign, 0, len(vs))
	for _, v := range vs {
		lc := workflows.LiveCampaign{Name: v.Campaign, Version: v.Version, Status: v.Status}
		if err := json.Unmarshal(v.Spec, &lc.Spec); err != nil {
			r.opt.Log.Error("campaign version does not decode; its events are not routed", "campaign", v.Campaign, "version", v.Version, "err", err)
			continue
		}
		live = append(live, lc)
	}
	r.live, r.liveRead = live, time.Now()
	return live, nil
}

// Route delivers the given stored events now (the API calls it right after
// storing them). Events another process is routing, or that were routed
// already, are skipped. It returns the IDs it routed; an error leaves the
// rest in the outbox for Drain.
func (r *Router) Route(ctx context.Context, ids ...int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return r.outbox.DeliverOutbox(ctx, ids, len(ids), r.deliver)
}

// Drain delivers every unrouted event, oldest first, batch by batch, and
// returns how many it delivered. It stops at the first failure.
func (r *Router) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		routed, err := r.outbox.DeliverOutbox(ctx, nil, r.opt.BatchSize, r.deliver)
		n := len(routed)
		total += n
		if err != nil || n < r.opt.BatchSize {
			return total, err
		}
	}
}

// StartDue starts the deferred journey runs that are due, batch by batch,
// and returns how many it started. It stops at the first failure; the
// start stays recorded for the next try.
func (r *Router) StartDue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.outbox.StartDue(ctx, time.Now(), r.opt.BatchSize, r.startDeferred)
		total += n
		if err != nil || n < r.opt.BatchSize {
			return total, err
		}
	}
}

// startDeferred makes a start routing deferred, with the journey's
// settings in force now. A start of a journey no longer registered is
// dropped (and logged) rather than holding up the others.
func (r *Router) startDeferred(ctx context.Context, js store.JourneyStart) error {
	trigger := workflows.Event{EventID: js.EventID, Type: js.EventType, OccurredAt: js.OccurredAt}
	rt, err := workflows.DeferredRoute(js.Journey, js.CustomerID, trigger, r.opt.Journeys)
	if err != nil {
		r.opt.Log.Error("deferred journey start dropped", "journey", js.Journey, "customer_id", js.CustomerID, "event_id", js.EventID, "err", err)
		return nil
	}
	if rt.TooLate(js.DueAt, time.Now()) {
		r.opt.Metrics.routed(rt.Journey, outcomeTooLate)
		r.opt.Log.Warn("deferred journey start dropped: past its late limit", "journey", js.Journey, "customer_id", js.CustomerID,
			"event_id", js.EventID, "due_at", js.DueAt, "late_limit", rt.LateBy)
		return nil
	}
	if len(r.startable(ctx, js.CustomerID, []workflows.Route{rt})) == 0 {
		return nil // a run within the window since: the claim would refuse it
	}
	outcome, err := r.deliverRoute(ctx, rt, trigger)
	r.opt.Metrics.routed(rt.Journey, outcome)
	if err != nil {
		return fmt.Errorf("start %s for event %s: %w", rt.WorkflowID, js.EventID, err)
	}
	return nil
}

// Run drains the outbox and makes the deferred starts due every interval
// until ctx ends, backing off exponentially (up to five minutes) while
// Temporal is unreachable. The worker and `tidings api` both run it;
// several copies share the work.
func (r *Router) Run(ctx context.Context, interval time.Duration) {
	wait := interval
	for {
		n, err := r.Drain(ctx)
		if err == nil {
			var started int
			started, err = r.StartDue(ctx)
			n += started
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = min(wait*2, 5*time.Minute)
			r.opt.Log.Warn("event outbox: delivery failed, will retry", "delivered", n, "retry_in", wait, "err", err)
		default:
			wait = interval
			if n > 0 {
				r.opt.Log.Info("event outbox: delivered", "delivered", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Concerns reports whether an event is for any journey or live campaign.
// One that is not can be stored as routed and skip the outbox. When the
// campaigns cannot be read it answers true, leaving the decision to the
// outbox.
func (r *Router) Concerns(ctx context.Context, customerID string, ev workflows.Event) bool {
	if len(workflows.RoutesFor(customerID, ev, r.opt.Journeys)) > 0 {
		return true
	}
	live, err := r.liveCampaigns(ctx)
	return err != nil || len(workflows.CampaignRoutes(customerID, ev, live)) > 0
}

// deliver sends one event to every journey RoutesFor names and to the
// campaign runs it starts or concerns, and returns the starts it defers.
func (r *Router) deliver(ctx context.Context, e store.Event) ([]store.JourneyStart, error) {
	ev := workflows.Event{EventID: e.EventID, Type: e.Type, Properties: e.Properties, OccurredAt: e.OccurredAt}
	live, err := r.liveCampaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("route event %s: %w", e.EventID, err)
	}
	routes := append(r.running(ctx, e.CustomerID, r.startable(ctx, e.CustomerID, workflows.RoutesFor(e.CustomerID, ev, r.opt.Journeys))),
		workflows.CampaignRoutes(e.CustomerID, ev, live)...)
	// Routing reads the properties (a campaign trigger's where:); the
	// journeys hear only the event's ID, type and time, so nothing a
	// customer wrote or bought persists in Temporal.
	var deferred []store.JourneyStart
	now := time.Now()
	for _, rt := range routes {
		if rt.StartIfAbsent && rt.StartAfter == 0 && rt.TooLate(e.OccurredAt, now) {
			// A welcome for a signup months old (an imported list, a
			// backlog replayed) would greet a customer who is long past it.
			r.opt.Metrics.routed(rt.Journey, outcomeTooLate)
			r.opt.Log.Info("journey not started: its trigger is past the late limit", "journey", rt.Journey,
				"customer_id", e.CustomerID, "event_id", e.EventID, "occurred_at", e.OccurredAt, "late_limit", rt.LateBy)
			continue
		}
		if rt.StartAfter > 0 {
			due := e.OccurredAt.Add(rt.StartAfter)
			if rt.TooLate(due, now) {
				r.opt.Metrics.routed(rt.Journey, outcomeTooLate)
				continue
			}
			deferred = append(deferred, store.JourneyStart{Journey: rt.Journey, CustomerID: e.CustomerID,
				EventID: e.EventID, EventType: e.Type, OccurredAt: e.OccurredAt, DueAt: due})
			r.opt.Metrics.routed(rt.Journey, outcomeDeferred)
			continue
		}
		outcome, err := r.deliverRoute(ctx, rt, ev.Ref())
		r.opt.Metrics.routed(rt.Journey, outcome)
		if err != nil {
			return nil, fmt.Errorf("route event %s to %s: %w", e.EventID, rt.WorkflowID, err)
		}
		r.opt.Log.Debug("event routed", "event_id", e.EventID, "type", e.Type, "workflow_id", rt.WorkflowID, "outcome", outcome)
	}
	return deferred, nil
}

// running drops the signals to journeys the customer is not in, as the
// journey runs table knows them, and counts them as not running. Most
// purchases come from customers in no onboarding or win-back, and each
// signal would cost the Temporal server a lookup to answer "not found".
//
// A journey claims its run in its first step, so one just started is not
// in the table yet and an event for it in that moment is not signalled: it
// is stored, and the journey reads the stored events after its claim
// (onboarding before each step, win-back before its first message; a
// survey's answer can only follow its question). When the table cannot be
// read every signal goes out: a call too many loses nothing.
//
// A start routing would defer goes out at once when the customer is in
// the journey: the running run hears the event (its goal) now. When the
// table cannot be read the start is deferred, and the run, once started,
// finds the event among the stored ones.
func (r *Router) running(ctx context.Context, customerID string, routes []workflows.Route) []workflows.Route {
	var ask []string
	for _, rt := range routes {
		if (!rt.StartIfAbsent || rt.StartAfter > 0) && !slices.Contains(ask, rt.Journey) {
			ask = append(ask, rt.Journey)
		}
	}
	if r.opt.Runs == nil || len(ask) == 0 {
		return routes
	}
	open, err := r.opt.Runs.OpenJourneys(ctx, customerID, ask)
	if err != nil {
		r.opt.Log.Warn("journey runs unreadable; signalling every journey the event concerns", "customer_id", customerID, "err", err)
		return routes
	}
	kept := routes[:0]
	for _, rt := range routes {
		in := slices.Contains(open, rt.Journey)
		if rt.StartIfAbsent || in {
			if in {
				// The run going hears the event, however old: it starts
				// nothing, so no late limit applies.
				rt.StartAfter, rt.LateBy = 0, 0
			}
			kept = append(kept, rt)
			continue
		}
		r.opt.Metrics.routed(rt.Journey, outcomeNotRunning)
	}
	return kept
}

// startable drops the starts a journey's once-per-window rule would refuse
// (a run of it within the window, finished, none open) and counts them as
// already run: the run would only claim, be refused and end, and each such
// start costs the Temporal server a run. A repeat purchase within the
// cross-sell's 30 days, a second delivery within the survey's, costs one
// indexed query instead. When the table cannot be read every start goes
// out: the run's own claim still refuses it.
func (r *Router) startable(ctx context.Context, customerID string, routes []workflows.Route) []workflows.Route {
	windows := map[string]time.Duration{}
	for _, rt := range routes {
		if rt.StartIfAbsent && rt.Once {
			windows[rt.Journey] = rt.Window
		}
	}
	if r.opt.Runs == nil || len(windows) == 0 {
		return routes
	}
	refused, err := r.opt.Runs.RefusedStarts(ctx, customerID, windows, time.Now())
	if err != nil {
		r.opt.Log.Warn("journey runs unreadable; starting every journey the event concerns", "customer_id", customerID, "err", err)
		return routes
	}
	kept := routes[:0]
	for _, rt := range routes {
		if rt.StartIfAbsent && slices.Contains(refused, rt.Journey) {
			r.opt.Metrics.routed(rt.Journey, outcomeAlreadyRun)
			continue
		}
		kept = append(kept, rt)
	}
	return kept
}

// Route outcomes, as counted in tidings_events_routed_total.
const (
	outcomeDelivered  = "delivered"
	outcomeAlreadyRun = "already_run"
	outcomeNotRunning = "not_running"
	outcomeDeferred   = "deferred"
	outcomeTooLate    = "too_late"
	outcomeFailed     = "failed"
)

func (r *Router) deliverRoute(ctx context.Context, rt workflows.Route, ev workflows.Event) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opt.CallTimeout)
	defer cancel()
	if rt.StartIfAbsent {
		_, err := r.temporal.SignalWithStartWorkflow(ctx, rt.WorkflowID, workflows.EventSignal, ev,
			client.StartWorkflowOptions{
				ID:        rt.WorkflowID,
				TaskQueue: r.opt.TaskQueue,
				// A running journey hears the event; it is never restarted or
				// duplicated, because a customer is in a journey once at a time.
				WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
				// A finished journey may run again (a second delivery earns a
				// second survey); rules like "onboard once ever" live in
				// PostgreSQL, because Temporal forgets closed runs.
				WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			}, rt.WorkflowType, rt.Start)
		if err != nil {
			return outcomeFailed, err
		}
		return outcomeDelivered, nil
	}
	err := r.temporal.SignalWorkflow(ctx, rt.WorkflowID, "", workflows.EventSignal, ev)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return outcomeNotRunning, nil // no journey running: the event does not concern one now
	case err != nil:
		return outcomeFailed, err
	}
	return outcomeDelivered, nil
}

// CancelJourneys asks every journey and campaign run a customer may be in
// to stop (privacy erasure): each per-customer journey of the registry and
// each live campaign's run. Journeys not running are fine.
func (r *Router) CancelJourneys(ctx context.Context, customerID string) error {
	var ids []string
	for _, j := range workflows.PerCustomer() {
		ids = append(ids, workflows.JourneyID(j.Name, customerID))
	}
	live, err := r.liveCampaigns(ctx)
	if err != nil {
		return fmt.Errorf("cancel campaign runs of %s: %w", customerID, err)
	}
	for _, lc := range live {
		ids = append(ids, workflows.CampaignRunID(lc.Name, customerID))
	}
	var errs []error
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(ctx, r.opt.CallTimeout)
		err := r.temporal.CancelWorkflow(ctx, id, "")
		cancel()
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			errs = append(errs, fmt.Errorf("cancel %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Metrics counts routing outcomes; nil counts nothing.
type Metrics struct {
	routedTotal *prometheus.CounterVec
}

// NewMetrics registers the router's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{routedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidings_events_routed_total",
		Help: "Event deliveries to journeys, by journey and outcome (delivered, deferred, not_running, already_run, failed).",
	}, []string{"journey", "outcome"})}
	reg.MustRegister(m.routedTotal)
	return m
}

func (m *Metrics) routed(journey, outcome string) {
	if m != nil {
		m.routedTotal.WithLabelValues(journey, outcome).Inc()
	}
}
