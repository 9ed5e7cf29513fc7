package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// EventSignal is the signal every journey receives customer events on.
const EventSignal = "event"

// Event is what a journey learns of a customer event: its ID, type and
// time, and nothing a customer wrote or bought (DESIGN invariant 1). An
// activity reads the properties from the stored event when a journey needs
// a fact of them (a survey's score, an order's revenue, a campaign's
// where:), so they never persist in Temporal and erasure reaches them.
type Event struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	// Properties are set only in signals and inputs recorded before events
	// were passed by ID; such a run still reads them as it did then.
	Properties map[string]any `json:"properties,omitempty"`
	OccurredAt time.Time      `json:"occurred_at"`
}

// Ref is the event as a journey may hear it: without its properties.
func (e Event) Ref() Event {
	return Event{EventID: e.EventID, Type: e.Type, OccurredAt: e.OccurredAt}
}

// eventsByIDVersion guards reading an event's facts from the store: a run
// recorded before heard events with their properties and replays reading
// them from the signal.
const eventsByIDVersion = "events-by-id"

// storedFacts reports whether a run reads e's facts from the store rather
// than from the event itself (a signal recorded with its properties).
func storedFacts(ctx workflow.Context, e Event) bool {
	return e.Properties == nil && e.EventID != "" &&
		workflow.GetVersion(ctx, eventsByIDVersion, workflow.DefaultVersion, 1) == 1
}

// Event types the built-in journeys start or steer on.
const (
	EventSignup         = "signup"
	EventActivated      = "activated"
	EventPurchase       = "purchase"
	EventOrderDelivered = "order_delivered"
	EventTicketClosed   = "ticket_closed"
)

// JourneyID is the workflow ID of a customer's run of a journey, so a customer
// is never in the same journey twice at once.
func JourneyID(journey, customerID string) string {
	return "journey/" + journey + "/" + customerID
}

// Route is one delivery of an event to a journey.
type Route struct {
	Journey    string
	WorkflowID string
	// WorkflowType is the registered workflow name.
	WorkflowType string
	// Start is the workflow input when StartIfAbsent is true and the journey
	// is not running; otherwise the event is only signalled, and a journey
	// that is not running simply does not hear it.
	StartIfAbsent bool
	Start         any
	// Once is set when a start is subject to the journey's
	// once-per-window rule, Window its window (0: once ever).
	Once   bool
	Window time.Duration
	// StartAfter, when set on a start, defers it: the run is started this
	// long after the event (Journey.StartAfter) unless one is going.
	StartAfter time.Duration
	// LateBy is how late past its due time (the trigger's time, plus
	// StartAfter) a start may go out (Journey.LateBy); zero means no limit.
	LateBy time.Duration
}

// TooLate reports whether a start due at due has passed its journey's
// late limit at now.
func (r Route) TooLate(due, now time.Time) bool {
	return r.LateBy > 0 && now.Sub(due) > r.LateBy
}

// RoutesFor is the routing table, read from the registry: the journeys an
// event concerns, in registry order, and whether it may start a run or
// only steer a running one. A started run takes its parameters from s.
func RoutesFor(customerID string, e Event, s Settings) []Route {
	var routes []Route
	for _, j := range PerCustomer() {
		v := j.Values(s)
		r := Route{Journey: j.Name, WorkflowID: JourneyID(j.Name, customerID), WorkflowType: j.Run.Name}
		switch {
		case slices.Contains(events(j.Starts, v), e.Type):
			r = j.startRoute(customerID, e, v)
		case slices.Contains(events(j.Steers, v), e.Type):
		default:
			continue
		}
		routes = append(routes, r)
	}
	return routes
}

// startRoute is the route by which e starts a run of j.
func (j Journey) startRoute(customerID string, e Event, v Values) Route {
	r := Route{Journey: j.Name, WorkflowID: JourneyID(j.Name, customerID), WorkflowType: j.Run.Name,
		StartIfAbsent: true, Start: j.Input(customerID, e.Ref(), v)}
	if j.Once != nil {
		r.Once, r.Window = true, j.Once(v)
	}
	if j.StartAfter != nil {
		r.StartAfter = j.StartAfter(v)
	}
	if j.LateBy != nil {
		r.LateBy = j.LateBy(v)
	}
	return r
}

// DeferredRoute is the start the router deferred for journey and customer
// on trigger, built when it is due with the settings in force then, and
// started at once.
func DeferredRoute(journey, customerID string, trigger Event, s Settings) (Route, error) {
	j, ok := Find(journey)
	if !ok || j.Run == nil || j.Input == nil {
		return Route{}, fmt.Errorf("deferred start of %q: no such per-customer journey", journey)
	}
	r := j.startRoute(customerID, trigger, j.Values(s))
	r.StartAfter = 0
	return r, nil
}

// eventStream is how a run hears the event signal. SignalWithStart hands
// the event that starts a run over twice, as the start input and as the
// first signal; the stream drops that signal, so no journey hears its own
// trigger as a new event (a journey started by a purchase and ended by the
// next purchase would otherwise end at once).
type eventStream struct {
	ch workflow.ReceiveChannel
	// trigger is the starting event's ID; "" drops nothing.
	trigger string
}

func newEventStream(ctx workflow.Context, trigger Event) eventStream {
	return eventStream{ch: workflow.GetSignalChannel(ctx, EventSignal), trigger: trigger.EventID}
}

// own reports whether e is the copy of the run's trigger.
func (s eventStream) own(e Event) bool { return s.trigger != "" && e.EventID == s.trigger }

// receiveAsync returns the next event already delivered, if any.
func (s eventStream) receiveAsync() (Event, bool) {
	for {
		var e Event
		if !s.ch.ReceiveAsync(&e) {
			return Event{}, false
		}
		if !s.own(e) {
			return e, true
		}
	}
}

// addTo makes sel call fn with the next event delivered.
func (s eventStream) addTo(ctx workflow.Context, sel workflow.Selector, fn func(Event)) {
	sel.AddReceive(s.ch, func(c workflow.ReceiveChannel, _ bool) {
		var e Event
		c.Receive(ctx, &e)
		if !s.own(e) {
			fn(e)
		}
	})
}
