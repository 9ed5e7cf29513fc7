package workflows

import (
	"slices"
	"testing"
	"time"
)

func purchased(id string) CrossSellInput {
	return CrossSellInput{CustomerID: "c1", Trigger: Event{EventID: id, Type: EventPurchase}}
}

// TestCrossSellEmailsOnceAtTenLocalAndCreditsTheNextPurchase: the purchase
// that started the run arrives again as the first signal (SignalWithStart)
// and changes nothing; the email goes out at the first 10:00 local at
// least three days later; the next purchase converts the run, credited to
// the email, with its revenue read from the stored event.
func TestCrossSellEmailsOnceAtTenLocalAndCreditsTheNextPurchase(t *testing.T) {
	for _, tc := range []struct{ bought, want string }{
		{"2026-04-01 08:00", "cross_sell email @ Sat 2026-04-04 10:00"},
		{"2026-04-01 15:00", "cross_sell email @ Sun 2026-04-05 10:00"},
	} {
		t.Run(tc.bought, func(t *testing.T) {
			h := newHarness(t, "Asia/Taipei")
			h.start(tc.bought)
			h.env.RegisterDelayedCallback(func() { h.signal(Event{EventID: "order-1", Type: EventPurchase}) }, 0)
			h.signalAfter(5*day, Event{EventID: "order-2", Type: EventPurchase, Properties: map[string]any{"amount": 880.0, "currency": "TWD"}})
			h.env.ExecuteWorkflow(CrossSellJourney, purchased("order-1"))
			var res CrossSellResult
			h.result(&res)
			if got := h.timeline(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("sent %q, want %q", got, tc.want)
			}
			if s, _ := h.sentStep(CrossSell); s.Template != "cross_sell" || s.Topic != "marketing" {
				t.Errorf("email %+v, want template cross_sell on the marketing topic", s.Request)
			}
			if res.Outcome != OutcomeConverted || h.outcome() != OutcomeConverted || len(h.conversions) != 1 {
				t.Fatalf("result %+v, conversions %+v; want converted once", res, h.conversions)
			}
			if c := h.conversions[0]; c.Step != CrossSell || c.EventID != "order-2" || c.Revenue != 880 || c.Currency != "TWD" {
				t.Errorf("conversion %+v, want order-2's 880 TWD credited to the email", c)
			}
		})
	}
}

func TestCrossSellEndsWithoutEmailWhenTheyBuyAgainFirst(t *testing.T) {
	h := newHarness(t, "Europe/Paris")
	h.start("2026-04-01 12:00")
	h.signalAfter(day, Event{EventID: "order-2", Type: EventPurchase})
	h.env.ExecuteWorkflow(CrossSellJourney, purchased("order-1"))
	var res CrossSellResult
	h.result(&res)
	if len(h.sends) != 0 || res.Outcome != OutcomeConverted || res.Purchase == nil || res.Purchase.EventID != "order-2" {
		t.Errorf("sent %q, result %+v; want no email and the run ended by order-2", h.timeline(), res)
	}
	if len(h.conversions) != 1 || h.conversions[0].Step != "" {
		t.Errorf("conversions %+v, want one credited to no message", h.conversions)
	}
}

func TestCrossSellWithoutAnotherPurchaseCompletes(t *testing.T) {
	h := newHarness(t, "America/Chicago")
	h.start("2026-04-01 09:00")
	h.env.ExecuteWorkflow(CrossSellJourney, purchased("order-1"))
	var res CrossSellResult
	h.result(&res)
	if res.Outcome != OutcomeCompleted || len(h.conversions) != 0 || len(h.sends) != 1 {
		t.Errorf("result %+v, sent %q; want one email and completed", res, h.timeline())
	}
	if got := h.local(h.env.Now()); got != "Sat 2026-04-11 10:00" {
		t.Errorf("ended %s, want a week after the email", got)
	}
}

func TestCrossSellAtMostOncePerWindow(t *testing.T) {
	h := newHarness(t, "UTC")
	h.claimed = false
	h.start("2026-04-01 09:00")
	h.env.ExecuteWorkflow(CrossSellJourney, purchased("order-1"))
	var res CrossSellResult
	h.result(&res)
	if res.Outcome != OutcomeAlreadyRun || len(h.sends) != 0 {
		t.Errorf("result %+v, sent %q; want already_run and nothing sent", res, h.timeline())
	}
}

// TestCrossSellStartedWhenDueReckonsFromThePurchase: the router starts the
// run only when the delay after the purchase has passed (a purchase costs
// ingest no Temporal run); the email still goes out at the first 10:00
// local at least three days after the purchase, not three days after the
// run's start.
func TestCrossSellStartedWhenDueReckonsFromThePurchase(t *testing.T) {
	h := newHarness(t, "Asia/Taipei")
	started := h.start("2026-04-04 08:00")
	in := purchased("order-1")
	in.Trigger.OccurredAt = started.Add(-DefaultCrossSellDelay)
	h.env.ExecuteWorkflow(CrossSellJourney, in)
	var res CrossSellResult
	h.result(&res)
	if got := h.timeline(); !slices.Equal(got, []string{"cross_sell email @ Sat 2026-04-04 10:00"}) {
		t.Errorf("sent %q, want the email at 10:00 on the day the run started, three days after the purchase", got)
	}
	if res.Outcome != OutcomeCompleted {
		t.Errorf("outcome %s, want completed", res.Outcome)
	}
}

// TestCrossSellStartedLateEndsOnAPurchaseMadeMeanwhile: a purchase made
// while the start was pending was never signalled (no run to hear it); the
// run finds it among the stored events, sends nothing and credits it to no
// message, while the purchase that started it does not count.
func TestCrossSellStartedLateEndsOnAPurchaseMadeMeanwhile(t *testing.T) {
	h := newHarness(t, "Europe/Paris")
	started := h.start("2026-04-04 12:00")
	in := purchased("order-1")
	in.Trigger.OccurredAt = started.Add(-DefaultCrossSellDelay)
	h.storedGoal = &Event{EventID: "order-2", Type: EventPurchase, OccurredAt: started.Add(-day)}
	h.env.ExecuteWorkflow(CrossSellJourney, in)
	var res CrossSellResult
	h.result(&res)
	if len(h.sends) != 0 || res.Outcome != OutcomeConverted || res.Purchase == nil || res.Purchase.EventID != "order-2" {
		t.Errorf("sent %q, result %+v; want no email and the run ended by order-2", h.timeline(), res)
	}
	if len(h.conversions) != 1 || h.conversions[0].Step != "" || h.conversions[0].EventID != "order-2" {
		t.Errorf("conversions %+v, want order-2 credited to no message", h.conversions)
	}

	h = newHarness(t, "Europe/Paris")
	started = h.start("2026-04-04 12:00")
	in.Trigger.OccurredAt = started.Add(-DefaultCrossSellDelay)
	h.storedGoal = &Event{EventID: "order-1", Type: EventPurchase, OccurredAt: in.Trigger.OccurredAt}
	h.env.ExecuteWorkflow(CrossSellJourney, in)
	h.result(&res)
	if len(h.sends) != 1 || res.Outcome != OutcomeCompleted {
		t.Errorf("sent %q, outcome %s; the run's own purchase must not end it", h.timeline(), res.Outcome)
	}
}

// TestCrossSellTakesItsParameters: the route a purchase takes starts the
// run with the operator's delay and send time.
func TestCrossSellTakesItsParameters(t *testing.T) {
	s := Settings{}.Set(CrossSell, "delay", 5*day).Set(CrossSell, "send_time", 9*60+30)
	var in CrossSellInput
	var after time.Duration
	for _, r := range RoutesFor("c1", Event{EventID: "o1", Type: EventPurchase, Properties: map[string]any{"amount": 5.0}}, s) {
		if r.Journey == CrossSell && r.StartIfAbsent {
			in, after = r.Start.(CrossSellInput), r.StartAfter
		}
	}
	if in.Delay != 5*day || in.SendMinute != 9*60+30 || in.Trigger.EventID != "o1" || in.Trigger.Properties != nil {
		t.Fatalf("cross-sell started with %+v, want delay 5d, 09:30, and the order by ID only", in)
	}
	if after != 5*day {
		t.Errorf("the route defers the start by %v, want the delay of 5d", after)
	}
	h := newHarness(t, "Asia/Shanghai")
	h.start("2026-04-01 08:00")
	h.env.ExecuteWorkflow(CrossSellJourney, in)
	var res CrossSellResult
	h.result(&res)
	if got := h.timeline(); !slices.Equal(got, []string{"cross_sell email @ Mon 2026-04-06 09:30"}) {
		t.Errorf("sent %q, want one email five days later at 09:30", got)
	}
}

// TestCrossSellOnARealServer runs the journey as the router starts it and
// records its history: the email at the next minute, then the next order.
// (cross_sell_converted.json is the history of a run from before starts
// were deferred; it still replays.)
func TestCrossSellOnARealServer(t *testing.T) {
	s := newServer(t, nil)
	c := s.customer("buyer", "UTC")
	next := time.Now().UTC().Add(time.Minute)
	first := s.event(c, "order-1", EventPurchase, map[string]any{"amount": 30, "currency": "USD"}, time.Now())
	run := s.signalWithStart(JourneyID(CrossSell, c), CrossSellWorkflow, first, CrossSellInput{
		CustomerID: c, Trigger: first, Delay: time.Second, SendMinute: next.Hour()*60 + next.Minute(), GoalWindow: time.Hour,
	})
	s.waitSent(c, CrossSell)
	s.signal(run, s.event(c, "order-2", EventPurchase, map[string]any{"amount": 45, "currency": "USD"}, time.Now()))
	var res CrossSellResult
	s.result(run, &res)
	var step string
	var revenue float64
	if err := s.store.Pool().QueryRow(t.Context(), `SELECT step, revenue::float8 FROM conversions WHERE customer_id = $1 AND journey = $2`,
		c, CrossSell).Scan(&step, &revenue); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeConverted || step != CrossSell || revenue != 45 {
		t.Errorf("run %+v, conversion %s %v; want the second order's 45 credited to the email", res, step, revenue)
	}
	s.record(run, "cross_sell_deferred")
}
