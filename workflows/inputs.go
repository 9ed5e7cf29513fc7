package workflows

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
}

// SurveyInput starts a survey follow-up after a delivery or a closed ticket.
type SurveyInput struct {
	CustomerID string `json:"customer_id"`
	Trigger    Event  `json:"trigger"`
}

// WinbackInput starts a win-back journey for a lapsed customer.
type WinbackInput struct {
	CustomerID string `json:"customer_id"`
}

// Event types the routing table knows.
const (
	EventSignup         = "signup"
	EventActivated      = "activated"
	EventPurchase       = "purchase"
	EventOrderDelivered = "order_delivered"
	EventTicketClosed   = "ticket_closed"
	EventSurveyAnswered = "survey_answered"
)

// RoutesFor is the routing table: the one place that says which journeys an
// event concerns, and whether it may start one or only steer a running one.
func RoutesFor(customerID string, e Event) []Route {
	signal := func(journey, typ string) Route {
		return Route{Journey: journey, WorkflowID: JourneyID(journey, customerID), WorkflowType: typ}
	}
	switch e.Type {
	case EventSignup:
		r := signal(Onboarding, OnboardingWorkflow)
		r.StartIfAbsent, r.Start = true, OnboardingInput{CustomerID: customerID, Trigger: e}
		return []Route{r}
	case EventActivated:
		return []Route{signal(Onboarding, OnboardingWorkflow)}
	case EventPurchase:
		return []Route{signal(Onboarding, OnboardingWorkflow), signal(Winback, WinbackWorkflow)}
	case EventOrderDelivered, EventTicketClosed:
		r := signal(Survey, SurveyWorkflow)
		r.StartIfAbsent, r.Start = true, SurveyInput{CustomerID: customerID, Trigger: e}
		return []Route{r}
	case EventSurveyAnswered:
		return []Route{signal(Survey, SurveyWorkflow)}
	}
	return nil
}
