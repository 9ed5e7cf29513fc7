package workflows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestCampaignWhoseTriggerIsItsGoalOnARealServer: a purchase starts the
// campaign by SignalWithStart, as the router does, so the run gets the
// purchase as its input and as its first signal. It thanks the customer
// and waits; only the next purchase converts it.
func TestCampaignWhoseTriggerIsItsGoalOnARealServer(t *testing.T) {
	s := newServer(t, nil)
	c := s.customer("buyer", "Asia/Taipei")
	src := `
name: next-order
audience: {match: {orders_count: {gte: 0}}}
trigger: {event: {type: purchase}}
goal: {event: purchase, within: 30d}
steps:
  - send: {id: thanks, template: welcome}
  - wait: {duration: 3d}
  - send: {id: cross-sell, template: tips}
`
	spec, v := s.applyCampaign(src)
	first := s.event(c, "order-1", EventPurchase, map[string]any{"amount": 30}, time.Now())
	run := s.signalWithStart(CampaignRunID(spec.Name, c), CampaignRunWorkflow, first,
		CampaignRunInput{Campaign: spec.Name, Version: v, Spec: *spec, CustomerID: c, Trigger: first})
	s.waitSent(c, "thanks")
	s.signal(run, s.event(c, "order-2", EventPurchase, map[string]any{"amount": 45}, time.Now()))
	var res CampaignRunResult
	s.result(run, &res)
	if res.Outcome != OutcomeConverted || len(res.Sent) != 1 {
		t.Errorf("run %+v, want converted by the second order after the thank-you", res)
	}
	s.record(run, "campaign_run_own_trigger")
}

// TestSweepsTakeTheWorkersSettingsOnARealServer: scheduled sweeps start with
// an empty input and take the operator's parameters from their worker when
// they fire: the birthday coupon's discount and send time, the win-back's
// step gap and offer.
func TestSweepsTakeTheWorkersSettingsOnARealServer(t *testing.T) {
	settings := Settings{}.Set("birthday", "send_time", 10*60+30).Set("birthday", "discount_percent", 25).
		Set(Winback, "step_gap", time.Second).Set(Winback, "offer_percent", 30)
	s := newServer(t, settings)

	bday, _, err := s.store.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "bday", TimeZone: testdb.String("Asia/Shanghai"),
		Email: testdb.String("bday@example.com"), Birthday: testdb.String("2000-02-29")})
	if err != nil {
		t.Fatal(err)
	}
	// 11:00 on Feb 28 in Shanghai, a common year: after the 10:30 send time.
	sweep := s.start("birthday-sweep-settings", BirthdaySweepWorkflow, BirthdaySweepInput{At: time.Date(2027, 2, 28, 3, 0, 0, 0, time.UTC)})
	var bres BirthdaySweepResult
	s.result(sweep, &bres)
	if g := s.waitSent(bday.ID, "greeting"); bres.Counts.Sent != 1 || g.Data["discount_percent"] != float64(25) && g.Data["discount_percent"] != 25 {
		t.Errorf("sweep %+v sent %+v, want one greeting with the configured 25%%", bres, g.Data)
	}
	s.record(sweep, "birthday_sweep_settings")

	lapsed := s.customer("lapsed", "Europe/Berlin")
	s.event(lapsed, "old-order", EventPurchase, map[string]any{"amount": 20}, time.Now().Add(-90*24*time.Hour))
	wsweep := s.start("winback-sweep-settings", WinbackSweepWorkflow, WinbackSweepInput{})
	var wres WinbackSweepResult
	s.result(wsweep, &wres)
	if wres.Started != 1 {
		t.Fatalf("win-back sweep %+v, want one journey started", wres)
	}
	s.record(wsweep, "winback_sweep_settings")
	var wb WinbackResult
	s.result(s.client.GetWorkflow(t.Context(), JourneyID(Winback, lapsed), ""), &wb)
	if offer := s.waitSent(lapsed, winbackStepOffer); wb.Outcome != OutcomeLapsed || offer.Data["discount_percent"] != float64(30) && offer.Data["discount_percent"] != 30 {
		t.Errorf("win-back %+v, offer %+v; want lapsed after a 30%% offer a second apart", wb, offer.Data)
	}
}

// TestCampaignGoalWhereReadsTheStoredEventOnARealServer: the run hears
// purchases by ID only; whether one is the goal (plan: gold) is read from
// the stored event, so a basic plan's order does not convert the run and a
// gold one does, with the order's details nowhere in the run's history.
func TestCampaignGoalWhereReadsTheStoredEventOnARealServer(t *testing.T) {
	s := newServer(t, nil)
	c := s.customer("upgrader", "Europe/Madrid")
	src := `
name: go-gold
audience: {match: {orders_count: {gte: 0}}}
trigger: {event: {type: signup}}
goal: {event: purchase, where: {plan: gold}, within: 30d}
steps:
  - send: {id: pitch, template: welcome}
  - wait: {duration: 3d}
  - send: {id: reminder, template: tips}
`
	spec, v := s.applyCampaign(src)
	signup := s.event(c, "signup-1", EventSignup, map[string]any{"source": "spring flyer"}, time.Now())
	run := s.signalWithStart(CampaignRunID(spec.Name, c), CampaignRunWorkflow, signup,
		CampaignRunInput{Campaign: spec.Name, Version: v, Spec: *spec, CustomerID: c, Trigger: signup})
	s.waitSent(c, "pitch")
	gold := time.Now().Truncate(time.Second)
	s.signal(run, s.event(c, "order-basic", EventPurchase, map[string]any{"amount": 9, "plan": "basic", "note": "for my aunt Hilde"}, gold.Add(-time.Hour)))
	s.signal(run, s.event(c, "order-gold", EventPurchase, map[string]any{"amount": 99, "plan": "gold"}, gold))
	var res CampaignRunResult
	s.result(run, &res)
	var goalAt *time.Time
	if err := s.store.Pool().QueryRow(t.Context(), `SELECT goal_at FROM campaign_entries WHERE run_id = $1`, run.GetRunID()).Scan(&goalAt); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeConverted || len(res.Sent) != 1 || goalAt == nil || !goalAt.Equal(gold) {
		t.Errorf("run %+v (goal at %v), want converted by the gold order of %v after the pitch", res, goalAt, gold)
	}
	s.record(run, "campaign_run_where_stored")
}

// applyCampaign applies a campaign file as `tidings campaigns apply` does
// and returns its spec and version.
func (s *server) applyCampaign(src string) (*campaign.Spec, int) {
	s.t.Helper()
	spec, err := campaign.Parse([]byte(src), "campaign.yaml")
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := json.Marshal(spec)
	v, _, err := s.store.ApplyCampaign(s.t.Context(), spec.Description, spec.Trigger.Kind, store.CampaignVersion{Campaign: spec.Name, Source: src, Spec: raw})
	if err != nil {
		s.t.Fatal(err)
	}
	return spec, v.Version
}

// TestRefreshSweepScoresAndRecordsStagesOnARealServer: one firing of the
// hourly refresh scores the buyers and writes every customer's lifecycle
// stage for the month, so reports need no refresh by hand.
func TestRefreshSweepScoresAndRecordsStagesOnARealServer(t *testing.T) {
	s := newServer(t, Settings{})
	buyer := s.customer("buyer", "Europe/Berlin")
	s.customer("browser", "Asia/Taipei")
	at := time.Now().UTC() // after both joined
	month := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	s.event(buyer, "order-1", EventPurchase, map[string]any{"amount": 40}, at.Add(-10*24*time.Hour))
	run := s.start("refresh-reports-once", RefreshSweepWorkflow, RefreshSweepInput{At: at})
	var res activities.RefreshResult
	s.result(run, &res)
	if res.Customers != 2 || res.StagesWritten != 2 {
		t.Errorf("refresh %+v, want 2 customers scored and 2 stages written", res)
	}
	var tier, stage string
	if err := s.store.Pool().QueryRow(t.Context(), `
		SELECT cs.value_tier, st.stage FROM customer_scores cs
		JOIN customer_stages st ON st.customer_id = cs.customer_id AND st.month = $2
		WHERE cs.customer_id = $1`, buyer, month).Scan(&tier, &stage); err != nil || stage != "new" || tier == "" {
		t.Errorf("buyer after the refresh: tier %q, this month's stage %q (%v); want a tier and new (first purchase 10 days before)", tier, stage, err)
	}
	// A second firing the same hour changes nothing.
	again := s.start("refresh-reports-again", RefreshSweepWorkflow, RefreshSweepInput{At: at})
	s.result(again, &res)
	if res.ScoresChanged != 0 || res.StagesWritten != 0 {
		t.Errorf("second refresh %+v, want nothing changed", res)
	}
	s.record(run, "refresh_sweep")
}
