package workflows

import (
	"time"
)

// EventSignal is the signal every journey receives customer events on.
const EventSignal = "event"

// Event is what a journey learns of a customer event: IDs and business
// properties, never contact details.
type Event struct {
	EventID    string         `json:"event_id"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties,omitempty"`
	OccurredAt time.Time      `json:"occurred_at"`
}

// Journey names; a journey's workflow ID is JourneyID(name, customer).
const (
	Onboarding = "onboarding"
	Winback    = "winback"
	Survey     = "survey"
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
}

// Registered names of the schedule-driven workflows, used by Temporal
// Schedules and `tidings schedules`.
const (
	BirthdaySweepWorkflow    = "BirthdaySweep"
	AnniversarySweepWorkflow = "AnniversarySweep"
	WinbackSweepWorkflow     = "WinbackSweep"
	CareSendWorkflow         = "CareSend"
)
