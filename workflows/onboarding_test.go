package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
)

const day = 24 * time.Hour

func TestOnboardingWithoutActivationSendsEveryStepInLocalTime(t *testing.T) {
	for _, zone := range []string{"Asia/Shanghai", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			h := newHarness(t, zone)
			h.start("2026-03-02 15:30") // a Monday afternoon, local
			h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1", Trigger: Event{EventID: "e1", Type: EventSignup}})
			var res OnboardingResult
			h.result(&res)

			want := []string{
				"welcome email @ Mon 2026-03-02 15:30",
				"tips email @ Wed 2026-03-04 10:00",
				"nudge email @ Sat 2026-03-07 10:00",
			}
			if got := h.timeline(); !slices.Equal(got, want) {
				t.Errorf("sent %q, want %q", got, want)
			}
			if res.Outcome != OutcomeCompleted || h.outcome() != OutcomeCompleted {
				t.Errorf("outcome %q / stored %q, want completed", res.Outcome, h.outcome())
			}
			if len(h.conversions) != 0 {
				t.Errorf("conversions %+v, want none", h.conversions)
			}
			if got, want := h.env.Now().Sub(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)), 14*day; got < want {
				t.Errorf("journey ended after %v, want it to last 14 days", got)
			}
			w, _ := h.sentStep("welcome")
			if w.Transactional || w.Topic != delivery.TopicCare || !w.IgnoreQuietHours {
				t.Errorf("welcome = %+v, want a care message sent at once", w.Request)
			}
			if tips, _ := h.sentStep("tips"); tips.Topic != delivery.TopicMarketing || tips.IdempotencyKey == w.IdempotencyKey {
				t.Errorf("tips = %+v, want marketing with its own key", tips.Request)
			}
		})
	}
}

func TestOnboardingActivationEndsTheJourneyAsAConversion(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.start("2026-03-02 15:30")
	h.signalAfter(3*day, Event{EventID: "act-1", Type: EventActivated})
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)

	if got, want := h.timeline(), []string{"welcome email @ Mon 2026-03-02 15:30", "tips email @ Wed 2026-03-04 10:00"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q (no nudge after activation)", got, want)
	}
	if res.Outcome != OutcomeConverted || h.outcome() != OutcomeConverted {
		t.Errorf("outcome %q, want converted", res.Outcome)
	}
	if len(h.conversions) != 1 || h.conversions[0].Step != "tips" || h.conversions[0].EventID != "act-1" {
		t.Fatalf("conversions %+v, want one credited to tips", h.conversions)
	}
	if got := h.local(h.conversions[0].ConvertedAt); got != "Thu 2026-03-05 15:30" {
		t.Errorf("converted at %s, want the activation's time, Thu 15:30", got)
	}
}

func TestOnboardingActivationBeforeTipsSkipsThem(t *testing.T) {
	h := newHarness(t, "America/New_York")
	h.start("2026-03-02 09:00")
	h.signalAfter(time.Hour, Event{EventID: "p-1", Type: EventPurchase, Properties: map[string]any{"amount": 30.0, "currency": "USD"}})
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if got := h.timeline(); !slices.Equal(got, []string{"welcome email @ Mon 2026-03-02 09:00"}) {
		t.Errorf("sent %q, want only the welcome", got)
	}
	if len(h.conversions) != 1 || h.conversions[0].Step != "welcome" || h.conversions[0].Revenue != 30 {
		t.Errorf("conversions %+v, want the purchase credited to welcome with revenue 30", h.conversions)
	}
}

func TestOnboardingIgnoresASecondSignup(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-03-02 08:00")
	h.signalAfter(time.Hour, Event{EventID: "signup-2", Type: EventSignup})
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if len(h.sends) != 3 || res.Outcome != OutcomeCompleted {
		t.Errorf("sent %q with outcome %q, want one full journey", h.timeline(), res.Outcome)
	}
}

func TestOnboardingRunsOncePerCustomer(t *testing.T) {
	h := newHarness(t, "UTC")
	h.claimed = false
	h.start("2026-03-02 08:00")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if len(h.sends) != 0 || res.Outcome != OutcomeAlreadyRun {
		t.Errorf("sent %q with outcome %q, want nothing and already_run", h.timeline(), res.Outcome)
	}
}

func TestOnboardingNudgesBySMSWhenAllowed(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.smsConsent = true
	h.start("2026-03-02 15:30")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if n, err := h.sentStep("nudge"); err != nil || n.Channel != delivery.SMS {
		t.Errorf("nudge = %+v (%v), want an SMS", n.Request, err)
	}
}

func TestOnboardingWaitsOutQuietHoursWithTheSameKey(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.deferFor["tips"] = 3 * time.Hour
	h.start("2026-03-02 15:30")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	tips, err := h.sentStep("tips")
	if err != nil {
		t.Fatal("tips never sent after the deferral")
	}
	if got := h.local(tips.At); got != "Wed 2026-03-04 13:00" {
		t.Errorf("tips sent %s, want at the end of the deferral, 13:00", got)
	}
	if h.attempts[tips.IdempotencyKey] != 2 {
		t.Errorf("tips key tried %d times, want 2 (deferred, then sent)", h.attempts[tips.IdempotencyKey])
	}
}

func TestOnboardingGoalDuringADeferralSendsNothingMore(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.deferFor["tips"] = 3 * time.Hour
	h.start("2026-03-02 10:00")
	h.signalAfter(2*day+time.Hour, Event{EventID: "act", Type: EventActivated}) // Wed 11:00, while tips wait
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if got := h.timeline(); !slices.Equal(got, []string{"welcome email @ Mon 2026-03-02 10:00"}) {
		t.Errorf("sent %q, want only the welcome", got)
	}
	if res.Outcome != OutcomeConverted {
		t.Errorf("outcome %q, want converted", res.Outcome)
	}
}

func TestOnboardingParametersShortenTheJourney(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-03-02 08:00")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1", TipsDay: 1, NudgeDay: 1, SendMinute: 9*60 + 30,
		Duration: 2 * day, GoalEvents: []string{"first_project"}})
	var res OnboardingResult
	h.result(&res)
	want := []string{"welcome email @ Mon 2026-03-02 08:00", "tips email @ Tue 2026-03-03 09:30", "nudge email @ Tue 2026-03-03 09:30"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
}

func TestOnboardingOfADeletedCustomerEndsQuietly(t *testing.T) {
	h := newHarness(t, "UTC")
	h.gone = true
	h.start("2026-03-02 08:00")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if res.Outcome != OutcomeCustomerGone || len(h.sends) != 0 {
		t.Errorf("outcome %q, sent %q; want customer_gone and nothing sent", res.Outcome, h.timeline())
	}
}

func TestOnboardingGoesOnAfterAFailedMessage(t *testing.T) {
	h := newHarness(t, "UTC")
	h.fail["welcome"] = true
	h.start("2026-03-02 08:00")
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1"})
	var res OnboardingResult
	h.result(&res)
	if len(h.sends) != 2 || res.Outcome != OutcomeCompleted {
		t.Errorf("sent %q, outcome %q; want tips and nudge despite the refused welcome", h.timeline(), res.Outcome)
	}
}

func TestOnboardingFindsAGoalItWasNeverSignalled(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	t0 := h.start("2026-03-02 15:30")
	h.storedGoal = &Event{EventID: "late-routed", Type: EventActivated, OccurredAt: t0.Add(time.Hour)}
	h.env.ExecuteWorkflow(OnboardingJourney, OnboardingInput{CustomerID: "c1", Trigger: Event{OccurredAt: t0}})
	var res OnboardingResult
	h.result(&res)
	if got := h.timeline(); !slices.Equal(got, []string{"welcome email @ Mon 2026-03-02 15:30"}) {
		t.Errorf("sent %q, want no tips for a customer already activated", got)
	}
	if res.Outcome != OutcomeConverted || len(h.conversions) != 1 || h.conversions[0].EventID != "late-routed" {
		t.Errorf("outcome %q, conversions %+v; want converted by the stored event", res.Outcome, h.conversions)
	}
}
