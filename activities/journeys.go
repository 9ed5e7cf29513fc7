package activities

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/store"
)

// ClaimInput asks to record the start of a journey run.
type ClaimInput struct {
	Journey    string    `json:"journey"`
	RunID      string    `json:"run_id"`
	CustomerID string    `json:"customer_id"`
	Trigger    string    `json:"trigger,omitempty"`
	At         time.Time `json:"at"`
	// Window is how long an earlier run blocks a new one; 0 means forever.
	Window time.Duration `json:"window"`
}

// ClaimResult says whether the run may go on.
type ClaimResult struct {
	Claimed bool `json:"claimed"`
}

// ClaimJourney enforces "once ever" and "once per window" rules in
// PostgreSQL, which remembers runs longer than Temporal's retention.
func (a *Activities) ClaimJourney(ctx context.Context, in ClaimInput) (ClaimResult, error) {
	ok, err := a.store.ClaimJourneyRun(ctx, store.JourneyRun{
		Journey: in.Journey, RunID: in.RunID, CustomerID: in.CustomerID, Trigger: in.Trigger, StartedAt: in.At,
	}, in.Window)
	if err != nil {
		return ClaimResult{}, err
	}
	return ClaimResult{Claimed: ok}, nil
}

// FinishInput records how a run ended.
type FinishInput struct {
	Journey string    `json:"journey"`
	RunID   string    `json:"run_id"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// FinishJourney stores a run's outcome for reports.
func (a *Activities) FinishJourney(ctx context.Context, in FinishInput) error {
	return a.store.FinishJourneyRun(ctx, in.Journey, in.RunID, in.Outcome, in.At)
}

// ConversionInput is a journey reaching its goal.
type ConversionInput struct {
	Journey    string `json:"journey"`
	RunID      string `json:"run_id"`
	CustomerID string `json:"customer_id"`
	// Step is the last step sent before the goal event: it gets the credit.
	Step string `json:"step"`
	// EventID is the goal event; its stored "amount" and "currency" are the
	// conversion's revenue.
	EventID string `json:"event_id,omitempty"`
	// Revenue and Currency are what runs recorded before goal events were
	// read from the store passed; the stored event wins over them.
	Revenue     float64   `json:"revenue,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	ConvertedAt time.Time `json:"converted_at"`
}

// RecordConversion stores the conversion once per run, with the goal
// event's revenue as PostgreSQL has it: the workflow heard only the event's
// ID, so no order detail sits in Temporal's history.
func (a *Activities) RecordConversion(ctx context.Context, in ConversionInput) error {
	c := store.Conversion{
		Journey: in.Journey, RunID: in.RunID, CustomerID: in.CustomerID, Step: in.Step,
		EventID: in.EventID, Revenue: in.Revenue, Currency: in.Currency, ConvertedAt: in.ConvertedAt,
	}
	if in.EventID != "" {
		e, found, err := a.storedEvent(ctx, in.CustomerID, in.EventID)
		if err != nil {
			return err
		}
		if found {
			c.Revenue, _ = Number(e.Properties["amount"])
			c.Currency, _ = e.Properties["currency"].(string)
		}
	}
	return a.store.RecordConversion(ctx, c)
}

// MatchInput asks whether a stored event has the properties a campaign's
// event wait or goal names.
type MatchInput struct {
	CustomerID string         `json:"customer_id"`
	EventID    string         `json:"event_id"`
	Where      map[string]any `json:"where"`
}

// MatchResult is the answer, and nothing of the event itself.
type MatchResult struct {
	Matches bool `json:"matches"`
}

// MatchEvent compares a stored event's properties with where, so a
// campaign run can act on "purchase where plan: gold" while Temporal holds
// only the event's ID. An event not stored matches nothing.
func (a *Activities) MatchEvent(ctx context.Context, in MatchInput) (MatchResult, error) {
	e, found, err := a.storedEvent(ctx, in.CustomerID, in.EventID)
	if err != nil || !found {
		return MatchResult{}, err
	}
	return MatchResult{Matches: campaign.Matches(in.Where, e.Properties)}, nil
}

// storedEvent loads one of the customer's events; found is false when it
// is not stored (an event a test or an operator signalled by hand).
func (a *Activities) storedEvent(ctx context.Context, customerID, eventID string) (store.Event, bool, error) {
	e, err := a.store.CustomerEvent(ctx, customerID, eventID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Event{}, false, nil
	}
	return e, err == nil, err
}

// Number reads a numeric event property, whether it arrived as a JSON
// number or as text.
func Number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// TagInput adds a tag to a customer.
type TagInput struct {
	CustomerID string `json:"customer_id"`
	Tag        string `json:"tag"`
}

// TagCustomer marks the customer (e.g. "lapsed" at the end of a win-back)
// so segments and campaigns can act on it.
func (a *Activities) TagCustomer(ctx context.Context, in TagInput) error {
	return storeErr(a.store.AddCustomerTag(ctx, in.CustomerID, in.Tag))
}

// GoalInput asks whether a customer already reached a journey's goal.
type GoalInput struct {
	CustomerID string    `json:"customer_id"`
	Types      []string  `json:"types"`
	Since      time.Time `json:"since"`
	// Except is an event that does not count: the run's own trigger, when
	// it is of a goal's type (a purchase starts the cross-sell).
	Except string `json:"except,omitempty"`
}

// GoalResult names the earliest stored goal event, if any: its ID, type
// and time, never its properties (RecordConversion reads the revenue).
type GoalResult struct {
	Found      bool      `json:"found"`
	EventID    string    `json:"event_id,omitempty"`
	Type       string    `json:"type,omitempty"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
}

// FindGoal looks for a goal event in the stored events. Signals only reach
// a running journey, so an event routed before the journey started (events
// arriving out of order) is found here instead.
func (a *Activities) FindGoal(ctx context.Context, in GoalInput) (GoalResult, error) {
	var out GoalResult
	limit := 1
	if in.Except != "" {
		limit = 2
	}
	for _, typ := range in.Types {
		evs, err := a.store.CustomerEvents(ctx, in.CustomerID, typ, in.Since, limit)
		if err != nil {
			return GoalResult{}, err
		}
		evs = slices.DeleteFunc(evs, func(e store.Event) bool { return e.EventID == in.Except })
		if len(evs) > 0 && (!out.Found || evs[0].OccurredAt.Before(out.OccurredAt)) {
			e := evs[0]
			out = GoalResult{Found: true, EventID: e.EventID, Type: e.Type, OccurredAt: e.OccurredAt}
		}
	}
	return out, nil
}
