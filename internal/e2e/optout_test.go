package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/catcher"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// TestOptedOutCustomerReceivesNothing runs every journey for two customers
// alike in all but consent: both sign up, take a delivery, have their
// birthday today, stopped buying months ago and allowed marketing SMS. One
// then opts out of all email and all SMS from the preference centre. Every
// journey reaches the other one's send path (so the journeys did run); the
// opted-out one receives nothing at all, and every step is recorded as
// skipped for that reason.
func TestOptedOutCustomerReceivesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, setup{})
	zone := awake(t)
	loc, _ := time.LoadLocation(zone)
	birthday := time.Now().In(loc).AddDate(-30, 0, 0).Format(time.DateOnly)
	type person struct{ ext, email, phone, id string }
	stays := &person{ext: "stays", email: "stays@example.com", phone: "+14155550101"}
	leaves := &person{ext: "leaves", email: "leaves@example.com", phone: "+14155550102"}
	for _, p := range []*person{stays, leaves} {
		p.id = e.customer(store.CustomerInput{ExternalID: p.ext, Email: ptr(p.email), Phone: ptr(p.phone),
			FirstName: ptr("Kim"), TimeZone: ptr(zone), Birthday: ptr(birthday)})
		e.call(http.MethodPut, "/v1/customers/"+p.ext+"/consents/sms/marketing",
			map[string]string{"status": "granted", "source": "checkout_form"}, http.StatusOK, nil)
		e.call(http.MethodPost, "/v1/events", map[string]any{
			"event_id": "old-order-" + p.ext, "customer": p.ext, "type": workflows.EventPurchase,
			"properties": map[string]any{"amount": 25, "currency": "USD"}, "occurred_at": time.Now().AddDate(0, -5, 0),
		}, http.StatusCreated, nil)
	}
	for _, ch := range []string{"email", "sms"} {
		e.call(http.MethodPut, "/v1/customers/leaves/consents/"+ch+"/all",
			map[string]string{"status": "denied", "source": "preference_center"}, http.StatusOK, nil)
	}

	// Onboarding: the welcome is a care message that ignores quiet hours.
	for _, p := range []*person{stays, leaves} {
		e.event("signup-"+p.ext, p.ext, workflows.EventSignup, nil, http.StatusCreated)
	}
	// Survey, as the router starts it on a delivery, with short waits.
	for _, p := range []*person{stays, leaves} {
		e.start(workflows.JourneyID(workflows.Survey, p.id), workflows.SurveyWorkflow, workflows.SurveyInput{
			CustomerID: p.id, Trigger: workflows.Event{EventID: "delivered-" + p.ext, Type: workflows.EventOrderDelivered, OccurredAt: time.Now()},
			Delay: time.Second, AnswerWait: 2 * time.Second, ReminderWait: 2 * time.Second,
		})
	}
	// The birthday sweep, then the win-back sweep with steps seconds apart.
	e.start("optout-birthdays", workflows.BirthdaySweepWorkflow, workflows.BirthdaySweepInput{})
	var bday workflows.BirthdaySweepResult
	e.result("optout-birthdays", &bday)
	e.start("optout-winback", workflows.WinbackSweepWorkflow, workflows.WinbackSweepInput{
		Journey: workflows.WinbackInput{StepGap: 2 * time.Second},
	})
	var sweep workflows.WinbackSweepResult
	e.result("optout-winback", &sweep)
	if sweep.Started != 2 {
		t.Fatalf("win-back sweep %+v, want both lapsed customers started", sweep)
	}
	for _, p := range []*person{stays, leaves} {
		var w workflows.WinbackResult
		e.result(workflows.JourneyID(workflows.Winback, p.id), &w)
		var s workflows.SurveyResult
		e.result(workflows.JourneyID(workflows.Survey, p.id), &s)
	}

	// Every journey reached the send path for the customer who stayed: each
	// step went out or was held back by the frequency cap (several
	// marketing journeys in one day), never for consent.
	reached := map[string]bool{}
	for _, m := range e.ledger(stays.id) {
		if m.Status == store.StatusSent || strings.HasPrefix(m.Reason, "frequency_cap") {
			reached[m.Journey] = true
		}
	}
	for _, j := range []string{workflows.Onboarding, workflows.Survey, "birthday", workflows.Winback} {
		if !reached[j] {
			t.Errorf("%s never reached the customer who stayed subscribed (ledger %s); the test proves nothing without it", j, describe(e.ledger(stays.id)))
		}
	}
	if got := e.waitMail(stays.email, 1); !slices.ContainsFunc(got, func(m catcher.Message) bool { return strings.HasPrefix(m.Subject, "Welcome") }) {
		t.Errorf("the customer who stayed got %s, want the welcome among them", subjects(got))
	}

	// The onboarding's welcome is recorded before its timers start; wait
	// for its ledger row, since no other result says the step ran.
	e.eventually("the opted-out welcome to be recorded", func() (bool, string) {
		for _, m := range e.ledger(leaves.id) {
			if m.Journey == workflows.Onboarding && m.Step == "welcome" && m.Status != store.StatusQueued {
				return true, describe(e.ledger(leaves.id))
			}
		}
		return false, describe(e.ledger(leaves.id))
	})
	if got := e.inbox.Messages(catcher.Filter{To: leaves.email}); len(got) != 0 {
		t.Errorf("opted-out customer got %d emails %s, want none", len(got), subjects(got))
	}
	if got := e.inbox.Messages(catcher.Filter{Channel: catcher.SMS, To: leaves.phone}); len(got) != 0 {
		t.Errorf("opted-out customer got %d SMS, want none", len(got))
	}
	skipped := map[string]bool{}
	for _, m := range e.ledger(leaves.id) {
		if m.Status != store.StatusSkipped || m.Reason != "opted_out" {
			t.Errorf("opted-out customer's %s/%s is %s (%s), want skipped for opting out", m.Journey, m.Step, m.Status, m.Reason)
		}
		skipped[m.Journey] = true
	}
	var journeys []string
	for j := range skipped {
		journeys = append(journeys, j)
	}
	sort.Strings(journeys)
	if want := []string{"birthday", workflows.Onboarding, workflows.Survey, workflows.Winback}; !slices.Equal(journeys, want) {
		t.Errorf("skips recorded for journeys %v, want %v", journeys, want)
	}
}

// describe lists ledger rows as journey/step=status(reason).
func describe(ms []store.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%s=%s(%s)", m.Journey, m.Step, m.Status, m.Reason))
	}
	return "[" + strings.Join(out, " ") + "]"
}
