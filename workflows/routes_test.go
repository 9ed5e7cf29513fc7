package workflows

import (
	"testing"
	"time"
)

// TestRoutesStartJourneysWithTheGivenParams: the routing table starts
// journeys with the configured parameters (a demo's shortened waits) and
// fills in who and why.
func TestRoutesStartJourneysWithTheGivenParams(t *testing.T) {
	p := Params{Survey: SurveyInput{Delay: 30 * time.Second}, Onboarding: OnboardingInput{TipsDay: 1}}
	delivered := Event{EventID: "d1", Type: EventOrderDelivered}
	routes := RoutesFor("c1", delivered, p)
	if len(routes) != 1 || !routes[0].StartIfAbsent || routes[0].WorkflowID != JourneyID(Survey, "c1") {
		t.Fatalf("routes %+v, want one that starts the survey journey", routes)
	}
	if in := routes[0].Start.(SurveyInput); in.Delay != 30*time.Second || in.CustomerID != "c1" || in.Trigger.EventID != "d1" || in.Survey != SurveyNPS {
		t.Errorf("survey input %+v, want an NPS with the 30 s delay for c1 triggered by d1", in)
	}
	signup := RoutesFor("c2", Event{EventID: "s1", Type: EventSignup}, p)
	if in := signup[0].Start.(OnboardingInput); in.TipsDay != 1 || in.CustomerID != "c2" {
		t.Errorf("onboarding input %+v, want tips on day 1 for c2", in)
	}
	if got := RoutesFor("c3", Event{Type: EventSurveyCommented}, Params{}); len(got) != 1 || got[0].StartIfAbsent {
		t.Errorf("a survey comment routes %+v, want a signal to the running survey only", got)
	}
}

// TestSurveyTriggersAreConfigurable: another event can start the survey
// follow-up with the survey it names, and the defaults stop applying.
func TestSurveyTriggersAreConfigurable(t *testing.T) {
	p := Params{SurveyTriggers: map[string]string{"appointment_done": SurveyCSAT}}
	routes := RoutesFor("c1", Event{EventID: "a1", Type: "appointment_done"}, p)
	if len(routes) != 1 || routes[0].Start.(SurveyInput).Survey != SurveyCSAT {
		t.Fatalf("routes %+v, want a CSAT survey started", routes)
	}
	if got := RoutesFor("c1", Event{Type: EventOrderDelivered}, p); len(got) != 0 {
		t.Errorf("a delivery routes %+v, want nothing once deliveries are not a trigger", got)
	}
	if got := RoutesFor("c1", Event{Type: EventTicketClosed}, Params{}); len(got) != 1 || got[0].Start.(SurveyInput).Survey != SurveyCSAT {
		t.Errorf("a closed ticket routes %+v by default, want a CSAT survey", got)
	}
}
