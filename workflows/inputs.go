package workflows

import "time"

// Registered workflow type names of the per-customer journeys.
const (
	OnboardingWorkflow = "Onboarding"
	WinbackWorkflow    = "Winback"
	SurveyWorkflow     = "Survey"
)

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

// SurveyInput starts a survey follow-up after a delivery or a closed ticket.
type SurveyInput struct {
	CustomerID string `json:"customer_id"`
	Trigger    Event  `json:"trigger"`
	// Survey is "nps" or "csat"; default nps after a delivery, csat after a
	// closed ticket.
	Survey string `json:"survey,omitempty"`
	// Delay before the survey is sent; default 24 hours.
	Delay time.Duration `json:"delay,omitempty"`
	// AnswerWait is how long to wait before the reminder (default 3 days);
	// ReminderWait how long after it before giving up (default 4 days).
	AnswerWait   time.Duration `json:"answer_wait,omitempty"`
	ReminderWait time.Duration `json:"reminder_wait,omitempty"`
	// Window allows at most one survey per customer per window; default 30 days.
	Window time.Duration `json:"window,omitempty"`
	// CommentWait is how long a detractor's care alert waits for the
	// comment the customer may still be typing on the answer page; default
	// 10 minutes.
	CommentWait time.Duration `json:"comment_wait,omitempty"`
}

// WinbackInput starts a win-back journey for a lapsed customer.
type WinbackInput struct {
	CustomerID string `json:"customer_id"`
	// StepGap separates miss-you, offer, last chance and the end; default 7 days.
	StepGap time.Duration `json:"step_gap,omitempty"`
	// OfferPercent and LastChancePercent are the discounts; defaults 10 and 20.
	OfferPercent      int `json:"offer_percent,omitempty"`
	LastChancePercent int `json:"last_chance_percent,omitempty"`
	// Cooldown blocks a new win-back this long after one started; default 180 days.
	Cooldown time.Duration `json:"cooldown,omitempty"`
	// LapsedTag marks customers the journey did not win back; default "lapsed".
	LapsedTag string `json:"lapsed_tag,omitempty"`
}

// Event types the routing table knows.
const (
	EventSignup         = "signup"
	EventActivated      = "activated"
	EventPurchase       = "purchase"
	EventOrderDelivered = "order_delivered"
	EventTicketClosed   = "ticket_closed"
	EventSurveyAnswered = "survey_answered"
	// EventSurveyCommented carries the comment left on the answer page
	// after the score.
	EventSurveyCommented = "survey_commented"
)

// Params are the parameters of journeys that events start. The zero value
// means every journey's documented defaults; `tidings dev --demo` shortens
// the waits so a newcomer sees a journey unfold in minutes.
type Params struct {
	Onboarding OnboardingInput `json:"onboarding,omitzero"`
	Survey     SurveyInput     `json:"survey,omitzero"`
	// SurveyTriggers maps the event types that start a survey follow-up to
	// the survey asked (SurveyNPS or SurveyCSAT); nil means
	// DefaultSurveyTriggers.
	SurveyTriggers map[string]string `json:"survey_triggers,omitempty"`
}

// DefaultSurveyTriggers: an NPS after a delivery, a CSAT after a ticket.
func DefaultSurveyTriggers() map[string]string {
	return map[string]string{EventOrderDelivered: SurveyNPS, EventTicketClosed: SurveyCSAT}
}

// RoutesFor is the routing table: the one place that says which journeys an
// event concerns, and whether it may start one or only steer a running one.
// A started journey takes its parameters from p.
func RoutesFor(customerID string, e Event, p Params) []Route {
	signal := func(journey, typ string) Route {
		return Route{Journey: journey, WorkflowID: JourneyID(journey, customerID), WorkflowType: typ}
	}
	var routes []Route
	triggers := p.SurveyTriggers
	if triggers == nil {
		triggers = DefaultSurveyTriggers()
	}
	if kind, ok := triggers[e.Type]; ok {
		in := p.Survey
		in.CustomerID, in.Trigger = customerID, e
		if in.Survey == "" {
			in.Survey = kind
		}
		r := signal(Survey, SurveyWorkflow)
		r.StartIfAbsent, r.Start = true, in
		routes = append(routes, r)
	}
	switch e.Type {
	case EventSignup:
		in := p.Onboarding
		in.CustomerID, in.Trigger = customerID, e
		r := signal(Onboarding, OnboardingWorkflow)
		r.StartIfAbsent, r.Start = true, in
		routes = append(routes, r)
	case EventActivated:
		routes = append(routes, signal(Onboarding, OnboardingWorkflow))
	case EventPurchase:
		routes = append(routes, signal(Onboarding, OnboardingWorkflow), signal(Winback, WinbackWorkflow))
	case EventSurveyAnswered, EventSurveyCommented:
		routes = append(routes, signal(Survey, SurveyWorkflow))
	}
	return routes
}
