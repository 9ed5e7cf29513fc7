package activities

import (
	"context"
	"time"

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
	Step        string    `json:"step"`
	EventID     string    `json:"event_id,omitempty"`
	Revenue     float64   `json:"revenue,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	ConvertedAt time.Time `json:"converted_at"`
}

// RecordConversion stores the conversion once per run.
func (a *Activities) RecordConversion(ctx context.Context, in ConversionInput) error {
	return a.store.RecordConversion(ctx, store.Conversion{
		Journey: in.Journey, RunID: in.RunID, CustomerID: in.CustomerID, Step: in.Step,
		EventID: in.EventID, Revenue: in.Revenue, Currency: in.Currency, ConvertedAt: in.ConvertedAt,
	})
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
}

// GoalResult carries the earliest stored goal event, if any.
type GoalResult struct {
	Found      bool           `json:"found"`
	EventID    string         `json:"event_id,omitempty"`
	Type       string         `json:"type,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	OccurredAt time.Time      `json:"occurred_at,omitzero"`
}

// FindGoal looks for a goal event in the stored events. Signals only reach
// a running journey, so an event routed before the journey started (events
// arriving out of order) is found here instead.
func (a *Activities) FindGoal(ctx context.Context, in GoalInput) (GoalResult, error) {
	var out GoalResult
	for _, typ := range in.Types {
		evs, err := a.store.CustomerEvents(ctx, in.CustomerID, typ, in.Since, 1)
		if err != nil {
			return GoalResult{}, err
		}
		for _, e := range evs {
			if !out.Found || e.OccurredAt.Before(out.OccurredAt) {
				out = GoalResult{Found: true, EventID: e.EventID, Type: e.Type, Properties: e.Properties, OccurredAt: e.OccurredAt}
			}
		}
	}
	return out, nil
}
