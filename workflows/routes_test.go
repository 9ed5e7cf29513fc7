package workflows

import (
	"slices"
	"testing"
	"time"
)

// TestRoutesStartJourneysWithTheGivenSettings: the routing table starts
// journeys with the configured parameters (a demo's shortened waits) and
// fills in who and why.
func TestRoutesStartJourneysWithTheGivenSettings(t *testing.T) {
	s := Settings{}.Set(Survey, "delay", 30*time.Second).Set(Onboarding, "tips_day", 1)
	delivered := Event{EventID: "d1", Type: EventOrderDelivered}
	routes := RoutesFor("c1", delivered, s)
	if len(routes) != 1 || !routes[0].StartIfAbsent || routes[0].WorkflowID != JourneyID(Survey, "c1") || routes[0].WorkflowType != SurveyWorkflow {
		t.Fatalf("routes %+v, want one that starts the survey journey", routes)
	}
	if in := routes[0].Start.(SurveyInput); in.Delay != 30*time.Second || in.CustomerID != "c1" || in.Trigger.EventID != "d1" || in.Survey != SurveyNPS ||
		in.AnswerWait != DefaultAnswerWait {
		t.Errorf("survey input %+v, want an NPS with the 30 s delay and the default waits for c1 triggered by d1", in)
	}
	signup := RoutesFor("c2", Event{EventID: "s1", Type: EventSignup}, s)
	if in := signup[0].Start.(OnboardingInput); in.TipsDay != 1 || in.NudgeDay != DefaultNudgeDay || in.CustomerID != "c2" {
		t.Errorf("onboarding input %+v, want tips on day 1 and the nudge on the default day for c2", in)
	}
	if got := RoutesFor("c3", Event{Type: EventSurveyCommented}, nil); len(got) != 1 || got[0].StartIfAbsent {
		t.Errorf("a survey comment routes %+v, want a signal to the running survey only", got)
	}
	var steered []string
	for _, r := range RoutesFor("c4", Event{EventID: "p1", Type: EventPurchase}, nil) {
		if !r.StartIfAbsent {
			steered = append(steered, r.Journey)
		}
	}
	if !slices.Contains(steered, Onboarding) || !slices.Contains(steered, Winback) {
		t.Errorf("a purchase steers %v, want the running onboarding and win-back", steered)
	}
	if got := RoutesFor("c5", Event{Type: "page_view"}, nil); len(got) != 0 {
		t.Errorf("a page view routes %+v, want nothing", got)
	}
}

// TestSurveyTriggersAreConfigurable: another event can start the survey
// follow-up with the survey it names, and the defaults stop applying.
func TestSurveyTriggersAreConfigurable(t *testing.T) {
	s := Settings{}.Set(Survey, "triggers", map[string]string{"appointment_done": SurveyCSAT})
	routes := RoutesFor("c1", Event{EventID: "a1", Type: "appointment_done"}, s)
	if len(routes) != 1 || routes[0].Start.(SurveyInput).Survey != SurveyCSAT {
		t.Fatalf("routes %+v, want a CSAT survey started", routes)
	}
	if got := RoutesFor("c1", Event{Type: EventOrderDelivered}, s); len(got) != 0 {
		t.Errorf("a delivery routes %+v, want nothing once deliveries are not a trigger", got)
	}
	if got := RoutesFor("c1", Event{Type: EventTicketClosed}, nil); len(got) != 1 || got[0].Start.(SurveyInput).Survey != SurveyCSAT {
		t.Errorf("a closed ticket routes %+v by default, want a CSAT survey", got)
	}
}
