package workflows

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestWinbackWithoutPurchaseRunsEveryStepAndTagsLapsed(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.start("2026-05-04 03:00")
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)

	want := []string{
		"miss_you email @ Mon 2026-05-04 03:00",
		"offer email @ Mon 2026-05-11 03:00",
		"last_chance email @ Mon 2026-05-18 03:00",
	}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	offer, _ := h.sentStep("offer")
	last, _ := h.sentStep("last_chance")
	if fmt.Sprint(offer.Data["discount_percent"]) != "10" || fmt.Sprint(last.Data["discount_percent"]) != "20" {
		t.Errorf("discounts %v and %v, want 10 and 20", offer.Data["discount_percent"], last.Data["discount_percent"])
	}
	if offer.Data["coupon"] == "" || offer.Data["coupon"] == last.Data["coupon"] {
		t.Errorf("coupons %v and %v, want two distinct codes", offer.Data["coupon"], last.Data["coupon"])
	}
	if len(h.tags) != 1 || h.tags[0].Tag != "lapsed" || h.tags[0].CustomerID != "c1" {
		t.Errorf("tags %+v, want c1 tagged lapsed", h.tags)
	}
	if got := h.local(h.env.Now()); got != "Mon 2026-05-25 03:00" {
		t.Errorf("journey ended %s, want 7 days after the last chance", got)
	}
	if res.Outcome != OutcomeLapsed || h.outcome() != OutcomeLapsed || len(h.conversions) != 0 {
		t.Errorf("outcome %q, conversions %+v; want lapsed and none", res.Outcome, h.conversions)
	}
}

func TestWinbackLastChanceAlsoBySMSWhenAllowed(t *testing.T) {
	h := newHarness(t, "UTC")
	h.smsConsent = true
	h.start("2026-05-04 10:00")
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)
	sms, err := h.sentStep("last_chance_sms")
	if err != nil || sms.Channel != "sms" || sms.Template != "winback_last_chance" {
		t.Fatalf("last chance SMS = %+v (%v), want the last-chance template by SMS", sms.Request, err)
	}
	email, _ := h.sentStep("last_chance")
	if sms.Data["coupon"] != email.Data["coupon"] || sms.IdempotencyKey == email.IdempotencyKey {
		t.Errorf("SMS coupon %v vs email %v, keys %s / %s: want the same code under two keys",
			sms.Data["coupon"], email.Data["coupon"], sms.IdempotencyKey, email.IdempotencyKey)
	}
}

// TestWinbackOffersDrawFromTheConfiguredPool: with coupon_pool set, the
// offers name the pool for the send path to draw each message's code from
// (email and SMS each get one of their own), and no code is derived.
func TestWinbackOffersDrawFromTheConfiguredPool(t *testing.T) {
	h := newHarness(t, "UTC")
	h.smsConsent = true
	h.start("2026-05-04 10:00")
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1", CouponPool: "comeback"})
	var res WinbackResult
	h.result(&res)
	for _, step := range []string{"offer", "last_chance", "last_chance_sms"} {
		s, err := h.sentStep(step)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if s.Data["coupon_pool"] != "comeback" || s.Data["coupon"] != nil {
			t.Errorf("%s data %v, want the comeback pool named and no derived code", step, s.Data)
		}
	}
	if offer, _ := h.sentStep("offer"); fmt.Sprint(offer.Data["discount_percent"]) != "10" {
		t.Errorf("offer data %v, want its 10%% kept beside the pool", offer.Data)
	}
}

func TestWinbackPurchaseEndsTheJourneyAndCreditsThePrecedingStep(t *testing.T) {
	h := newHarness(t, "America/New_York")
	h.start("2026-05-04 10:00")
	h.signalAfter(9*day, Event{EventID: "order-77", Type: EventPurchase, Properties: map[string]any{"amount": 55.5, "currency": "USD"}})
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)

	if got, want := h.timeline(), []string{"miss_you email @ Mon 2026-05-04 10:00", "offer email @ Mon 2026-05-11 10:00"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q and nothing after the purchase", got, want)
	}
	if len(h.conversions) != 1 {
		t.Fatalf("conversions %+v, want one", h.conversions)
	}
	c := h.conversions[0]
	if c.Step != "offer" || c.Revenue != 55.5 || c.Currency != "USD" || c.EventID != "order-77" {
		t.Errorf("conversion %+v, want order-77 for 55.50 USD credited to the offer", c)
	}
	if got := h.local(c.ConvertedAt); got != "Wed 2026-05-13 10:00" {
		t.Errorf("converted at %s, want the purchase time", got)
	}
	if len(h.tags) != 0 || res.Outcome != OutcomeConverted || h.outcome() != OutcomeConverted {
		t.Errorf("tags %+v, outcome %q; want no tag and converted", h.tags, res.Outcome)
	}
}

func TestWinbackPurchaseOnTheFirstDayCreditsMissYou(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-05-04 10:00")
	h.signalAfter(time.Hour, Event{EventID: "o1", Type: EventPurchase, Properties: map[string]any{"amount": "12.00"}})
	h.signalAfter(30*time.Minute, Event{EventID: "x", Type: EventActivated}) // not a purchase: ignored
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)
	if len(h.conversions) != 1 || h.conversions[0].Step != "miss_you" || h.conversions[0].Revenue != 12 {
		t.Errorf("conversions %+v, want the order credited to miss_you", h.conversions)
	}
}

func TestWinbackEndsAtAPurchaseStoredBeforeItCouldHearIt(t *testing.T) {
	h := newHarness(t, "UTC")
	t0 := h.start("2026-05-04 10:00")
	// The order came in after the sweep chose the customer, before the run
	// was claimed: the router did not signal it.
	h.storedGoal = &Event{EventID: "o-9", Type: EventPurchase, Properties: map[string]any{"amount": 30.0}, OccurredAt: t0.Add(-10 * time.Minute)}
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)
	if len(h.sends) != 0 || len(h.tags) != 0 {
		t.Errorf("sent %q, tags %+v; want no \"we miss you\" to a customer who just bought", h.timeline(), h.tags)
	}
	if res.Outcome != OutcomeConverted || len(h.conversions) != 1 || h.conversions[0].EventID != "o-9" || h.conversions[0].Revenue != 30 {
		t.Errorf("outcome %q, conversions %+v; want converted by order o-9", res.Outcome, h.conversions)
	}
}

func TestWinbackIgnoresAStoredPurchaseFromBeforeTheLapse(t *testing.T) {
	h := newHarness(t, "UTC")
	t0 := h.start("2026-05-04 10:00")
	h.storedGoal = &Event{EventID: "old", Type: EventPurchase, OccurredAt: t0.Add(-3 * day)}
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)
	if len(h.sends) != 3 || res.Outcome != OutcomeLapsed {
		t.Errorf("sent %q, outcome %q; want every step and lapsed: an order from before the lapse changes nothing", h.timeline(), res.Outcome)
	}
}

func TestWinbackRefusedWithinTheCooldown(t *testing.T) {
	h := newHarness(t, "UTC")
	h.claimed = false
	h.start("2026-05-04 10:00")
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1"})
	var res WinbackResult
	h.result(&res)
	if len(h.sends) != 0 || len(h.tags) != 0 || res.Outcome != OutcomeAlreadyRun {
		t.Errorf("sent %q, tags %v, outcome %q; want nothing and already_run", h.timeline(), h.tags, res.Outcome)
	}
}

func TestWinbackParameters(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-05-04 10:00")
	h.env.ExecuteWorkflow(WinbackJourney, WinbackInput{CustomerID: "c1", StepGap: time.Hour, OfferPercent: 15,
		LastChancePercent: 30, LapsedTag: "dormant"})
	var res WinbackResult
	h.result(&res)
	want := []string{"miss_you email @ Mon 2026-05-04 10:00", "offer email @ Mon 2026-05-04 11:00", "last_chance email @ Mon 2026-05-04 12:00"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if offer, _ := h.sentStep("offer"); fmt.Sprint(offer.Data["discount_percent"]) != "15" {
		t.Errorf("offer discount %v, want 15", offer.Data["discount_percent"])
	}
	if len(h.tags) != 1 || h.tags[0].Tag != "dormant" {
		t.Errorf("tags %+v, want dormant", h.tags)
	}
}
