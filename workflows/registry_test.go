package workflows

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
)

// TestRegistryIsConsistent: every descriptor names its workflows, events,
// sweep and parameters so the lists derived from it hold together.
func TestRegistryIsConsistent(t *testing.T) {
	if err := checkRegistry(Journeys()); err != nil {
		t.Fatal(err)
	}
	if err := checkRegistry(append(Journeys(), onboardingJourney())); err == nil {
		t.Error("a journey declared twice passed the check")
	}
	if got := SweepKinds(); !slices.Equal(got, []string{"winback_sweep", "birthday_sweep", "anniversary_sweep", "care_send", "refresh_reports"}) {
		t.Errorf("sweep kinds %v", got)
	}
	var perCustomer []string
	for _, j := range PerCustomer() {
		perCustomer = append(perCustomer, j.Name)
	}
	if !slices.Contains(perCustomer, Onboarding) || !slices.Contains(perCustomer, Survey) || !slices.Contains(perCustomer, Winback) {
		t.Errorf("per-customer journeys %v, want onboarding, survey and win-back among them", perCustomer)
	}
}

// TestPolicyFileSetsJourneyParameters: the journeys: section of a policy file
// sets parameters in the file's own notation, and the routed inputs and
// sweeps carry them; what it leaves out keeps its default.
func TestPolicyFileSetsJourneyParameters(t *testing.T) {
	s, err := ParseSettings([]byte(`
topics:
  marketing: {consent: {email: opt-out}}
journeys:
  onboarding: {tips_day: 3, send_time: "09:30"}
  winback:
    lapsed_after: 90d
    cooldown: 26w
    coupon_pool: comeback
  survey:
    triggers: {visit_done: csat}
  birthday: {send_time: "08:00", discount_percent: 20, coupon_pool: birthday-gifts}
`), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := RoutesFor("c1", Event{EventID: "s1", Type: EventSignup}, s)[0].Start.(OnboardingInput)
	if in.TipsDay != 3 || in.SendMinute != 9*60+30 || in.NudgeDay != DefaultNudgeDay {
		t.Errorf("onboarding input %+v, want tips on day 3 at 09:30 and the default nudge day", in)
	}
	if got := RoutesFor("c1", Event{Type: "visit_done"}, s); len(got) != 1 || got[0].Start.(SurveyInput).Survey != SurveyCSAT {
		t.Errorf("a visit routes %+v, want a CSAT survey", got)
	}
	wb, _ := Find(Winback)
	if v := wb.Values(s); v.Duration("lapsed_after") != 90*day || v.Duration("cooldown") != 26*7*day || v.Int("offer_percent") != DefaultOfferPercent ||
		v.String("coupon_pool") != "comeback" {
		t.Errorf("win-back values %v", v)
	}
	bd, _ := Find("birthday")
	if in := bd.Sweep.Settings(bd.Values(s)).(BirthdaySweepInput); in.CouponPool != "birthday-gifts" || in.DiscountPercent != 20 {
		t.Errorf("birthday sweep settings %+v, want the birthday-gifts pool", in)
	}
	an, _ := Find("anniversary")
	if in := an.Sweep.Settings(an.Values(s)).(BirthdaySweepInput); in.CouponPool != "" {
		t.Errorf("anniversary sweep settings %+v, want no pool: codes derived", in)
	}
	if err := s.Check(); err != nil {
		t.Errorf("parsed settings do not check: %v", err)
	}
}

// TestPolicyFileErrorsNameFileLineAndColumn: every mistake in the journeys:
// section is reported at once, at its position.
func TestPolicyFileErrorsNameFileLineAndColumn(t *testing.T) {
	_, err := ParseSettings([]byte(`journeys:
  onbording: {tips_day: 3}
  onboarding:
    tips_day: 0
    send_time: "25:00"
    colour: blue
  winback: {lapsed_after: 60 days, lapsed_tag: "Not A Tag"}
  survey:
    triggers: {visit_done: ces}
  birthday: {coupon_pool: "Gifts!"}
`), "policy.yaml")
	if err == nil {
		t.Fatal("a broken journeys section was accepted")
	}
	for _, want := range []string{
		"policy.yaml:2:3: journeys.onbording: no such journey; expected one of onboarding, survey, winback",
		"policy.yaml:4:15: journeys.onboarding.tips_day: 0 is not between 1 and 60",
		`policy.yaml:5:16: journeys.onboarding.send_time: "25:00" is not a time of day such as 09:30`,
		"policy.yaml:6:5: journeys.onboarding.colour: unknown key; expected one of tips_day, nudge_day, send_time, duration",
		`policy.yaml:7:27: journeys.winback.lapsed_after: "60 days": expected a duration such as 30m, 12h, 3d, 2w`,
		`policy.yaml:7:48: journeys.winback.lapsed_tag: tag name "Not A Tag": use lower-case letters`,
		`policy.yaml:9:28: journeys.survey.triggers.visit_done: "ces": expected one of nps, csat`,
		`policy.yaml:10:27: journeys.birthday.coupon_pool: "Gifts!" is not a pool name`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestSweepTakesItsParametersWhenItFires: a scheduled sweep (whose input is
// empty) reads the worker's settings when it fires; a value given in the
// input wins.
func TestSweepTakesItsParametersWhenItFires(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           BirthdaySweepInput
		minute, disc int
	}{
		{"from the settings", BirthdaySweepInput{}, 8 * 60, 20},
		{"the input wins", BirthdaySweepInput{SendMinute: 7 * 60}, 7 * 60, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "UTC")
			h.settings.settings = Settings{}.Set("birthday", "send_time", 8*60).Set("birthday", "discount_percent", 20).Set("birthday", "coupon_pool", "gifts")
			h.start("2026-06-15 01:00")
			var got activities.BirthdayBatchInput
			h.env.OnActivity(act.BirthdayBatch, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.BirthdayBatchInput) (activities.BirthdayBatchResult, error) {
					got = in
					return activities.BirthdayBatchResult{Done: true}, nil
				})
			h.env.ExecuteWorkflow(BirthdaySweep, tc.in)
			var res BirthdaySweepResult
			h.result(&res)
			if got.SendMinute != tc.minute || got.DiscountPercent != tc.disc || got.CouponPool != "gifts" {
				t.Errorf("batch input %+v, want minute %d, %d%% and the gifts pool", got, tc.minute, tc.disc)
			}
		})
	}
}

// TestWinbackSweepStartsJourneysWithTheConfiguredParameters: the win-back
// values an operator set reach both the sweep's query and every journey it
// starts.
func TestWinbackSweepStartsJourneysWithTheConfiguredParameters(t *testing.T) {
	h := newHarness(t, "UTC")
	h.settings.settings = Settings{}.Set(Winback, "lapsed_after", 90*day).Set(Winback, "offer_percent", 25).Set(Winback, "step_gap", 3*day).
		Set(Winback, "coupon_pool", "comeback")
	h.start("2026-06-15 03:00")
	var asked activities.LapsedInput
	h.env.OnActivity(act.LapsedCustomers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LapsedInput) (activities.LapsedResult, error) {
			asked = in
			return activities.LapsedResult{CustomerIDs: []string{"a"}, Done: true}, nil
		})
	var started WinbackInput
	h.env.RegisterWorkflowWithOptions(WinbackJourney, workflow.RegisterOptions{Name: WinbackWorkflow})
	h.env.OnWorkflow(WinbackWorkflow, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in WinbackInput) (WinbackResult, error) {
			started = in
			return WinbackResult{Outcome: OutcomeLapsed}, nil
		})
	h.env.ExecuteWorkflow(WinbackSweep, WinbackSweepInput{})
	var res WinbackSweepResult
	h.result(&res)
	if asked.LapsedAfter != 90*day || asked.Cooldown != DefaultWinbackCooldown {
		t.Errorf("lapsed query %+v, want 90 days lapsed and the default cooldown", asked)
	}
	if started.OfferPercent != 25 || started.StepGap != 3*day || started.LastChancePercent != DefaultLastChancePercent || started.CustomerID != "a" ||
		started.CouponPool != "comeback" {
		t.Errorf("journey input %+v, want the 25%% offer three days apart, codes from the comeback pool", started)
	}
}
