package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/campaign"
)

// campaignHarness adds the campaign activities to the journey harness: the
// campaign's status over time, who is held out, which branch conditions
// hold, and what the profile and webhook steps did.
type campaignHarness struct {
	*harness
	status   string
	gates    []activities.GateInput
	holdout  bool
	inSeg    map[string]bool
	entries  []activities.EnterInput
	finishes []activities.CampaignFinishInput
	skips    []activities.SkipInput
	profile  []string
	hooks    []activities.WebhookInput
	versions map[int]campaign.Spec
	current  int
	audience []string
	// winner is the A/B winner the store holds ("" none) and chooses
	// when asked to decide (decides); winnerCalls records each ask.
	winner, decides string
	winnerCalls     []activities.WinnerInput
}

func newCampaignHarness(t *testing.T, zone string) *campaignHarness {
	h := &campaignHarness{harness: newHarness(t, zone), status: campaign.StatusActive, inSeg: map[string]bool{}, versions: map[int]campaign.Spec{}}
	env := h.env
	env.OnActivity(campaigns.CampaignEnter, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EnterInput) (activities.EnterResult, error) {
			h.entries = append(h.entries, in)
			return activities.EnterResult{Entered: true, Occurrence: 1, Holdout: h.holdout, TimeZone: h.zone}, nil
		})
	env.OnActivity(campaigns.CampaignFinish, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CampaignFinishInput) error {
			h.finishes = append(h.finishes, in)
			return nil
		})
	env.OnActivity(campaigns.CampaignGate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.GateInput) (activities.GateResult, error) {
			h.gates = append(h.gates, in)
			return activities.GateResult{Status: h.status}, nil
		})
	env.OnActivity(campaigns.CampaignSkip, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SkipInput) error {
			h.skips = append(h.skips, in)
			return nil
		})
	env.OnActivity(campaigns.CampaignCondition, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ConditionInput) (activities.ConditionResult, error) {
			return activities.ConditionResult{Holds: h.inSeg[in.Condition.Segment]}, nil
		})
	env.OnActivity(campaigns.CampaignProfile, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ProfileStepInput) error {
			h.profile = append(h.profile, in.Kind+" "+in.Tag+in.Attribute)
			return nil
		})
	env.OnActivity(campaigns.CampaignWebhook, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WebhookInput) error {
			h.hooks = append(h.hooks, in)
			return nil
		})
	env.OnActivity(campaigns.CampaignLoad, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadCampaignInput) (activities.LoadCampaignResult, error) {
			v := orDefault(in.Version, h.current)
			return activities.LoadCampaignResult{Version: v, Status: h.status, Spec: h.versions[v]}, nil
		})
	env.OnActivity(campaigns.CampaignWinner, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WinnerInput) (activities.WinnerResult, error) {
			h.winnerCalls = append(h.winnerCalls, in)
			if h.winner == "" && in.Decide {
				h.winner = h.decides
			}
			return activities.WinnerResult{Winner: h.winner}, nil
		})
	env.OnActivity(campaigns.CampaignAudiencePage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AudiencePageInput) (activities.AudiencePageResult, error) {
			return activities.AudiencePageResult{CustomerIDs: h.audience, Done: true}, nil
		})
	return h
}

// spec parses a campaign file for a test, failing it on any error.
func spec(t *testing.T, src string) campaign.Spec {
	t.Helper()
	s, err := campaign.Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return *s
}

func (h *campaignHarness) run(s campaign.Spec) CampaignRunResult {
	h.env.ExecuteWorkflow(CampaignRun, CampaignRunInput{Campaign: s.Name, Version: 3, Spec: s, CustomerID: "c1"})
	var res CampaignRunResult
	h.result(&res)
	return res
}

const everyStep = `
name: every-step
audience: {segment: everyone}
trigger: {event: {type: signup}}
goal: {event: purchase, within: 30d}
steps:
  - send: {id: hello, template: welcome}
  - wait: {duration: 2d}
  - wait: {until: "09:00"}
  - send:
      id: offer
      template: winback_offer
      vars: {discount_percent: 10}
      variants:
        - {name: a, percent: 50}
        - {name: b, percent: 50, vars: {discount_percent: 20}}
  - branch:
      if: {segment: vip}
      then:
        - tag: vip-offer
      else:
        - set: {attribute: offer_seen, value: true}
  - wait:
      event: order_delivered
      timeout: 7d
      on_event:
        - send: {id: thanks, template: survey_thanks}
      on_timeout:
        - untag: vip-offer
        - webhook: {url: "https://crm.example.com/hook"}
`

func TestCampaignRunInterpretsEveryStepKind(t *testing.T) {
	for _, tc := range []struct {
		name        string
		vip         bool
		delivered   bool
		wantSends   []string
		wantProfile []string
		wantHooks   int
	}{
		{"vip, delivered", true, true,
			[]string{"hello email @ Mon 2026-03-02 15:30", "offer email @ Thu 2026-03-05 09:00", "thanks email @ Sat 2026-03-07 09:00"},
			[]string{"tag vip-offer"}, 0},
		{"not vip, times out", false, false,
			[]string{"hello email @ Mon 2026-03-02 15:30", "offer email @ Thu 2026-03-05 09:00"},
			[]string{"set offer_seen", "untag vip-offer"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCampaignHarness(t, "Asia/Shanghai")
			h.inSeg["vip"] = tc.vip
			h.start("2026-03-02 15:30")
			if tc.delivered {
				h.signalAfter(4*day+17*time.Hour+30*time.Minute, Event{EventID: "d1", Type: "order_delivered"})
			}
			s := spec(t, everyStep)
			res := h.run(s)

			arm := campaign.PickVariant(s.Name, "c1", s.Steps[3].Send).Name
			for i := range tc.wantSends {
				tc.wantSends[i] = strings.Replace(tc.wantSends[i], "offer ", "offer:"+arm+" ", 1)
			}
			if got := h.timeline(); !slices.Equal(got, tc.wantSends) {
				t.Errorf("sent %q, want %q", got, tc.wantSends)
			}
			if !slices.Equal(h.profile, tc.wantProfile) {
				t.Errorf("profile steps %q, want %q", h.profile, tc.wantProfile)
			}
			if len(h.hooks) != tc.wantHooks {
				t.Errorf("webhooks %+v, want %d", h.hooks, tc.wantHooks)
			}
			if res.Outcome != OutcomeCompleted || len(h.finishes) != 1 || h.finishes[0].Outcome != OutcomeCompleted {
				t.Errorf("outcome %q, finishes %+v, want completed once", res.Outcome, h.finishes)
			}
			offer, err := h.sentStep("offer:" + arm)
			if err != nil {
				t.Fatalf("offer not sent with its variant in the step: %v", h.sends)
			}
			if want := "campaign/every-step/3/c1/offer/1"; offer.IdempotencyKey != want {
				t.Errorf("offer key %q, want %q", offer.IdempotencyKey, want)
			}
			if offer.Journey != "campaign/every-step" || offer.Data["discount_percent"] == nil {
				t.Errorf("offer request %+v, want the campaign's journey and the variant's vars", offer.Request)
			}
			for _, hook := range h.hooks {
				if strings.Contains(hook.URL+hook.Key, "@") || hook.CustomerID != "c1" {
					t.Errorf("webhook %+v, want IDs only", hook)
				}
			}
		})
	}
}

func TestCampaignGoalEndsTheRunAsAConversion(t *testing.T) {
	h := newCampaignHarness(t, "Europe/Berlin")
	h.start("2026-03-02 10:00")
	h.signalAfter(day, Event{EventID: "p0", Type: "purchase", Properties: map[string]any{"amount": 5.0}})
	res := h.run(spec(t, `
name: goal
audience: {segment: everyone}
trigger: {event: {type: signup}}
goal: {event: purchase}
steps:
  - send: {id: one, template: welcome}
  - wait: {duration: 3d}
  - send: {id: two, template: tips}
`))
	if got, want := h.timeline(), []string{"one email @ Mon 2026-03-02 10:00"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q (nothing after the goal)", got, want)
	}
	if res.Outcome != OutcomeConverted || h.finishes[0].GoalAt == nil {
		t.Errorf("outcome %q, finish %+v, want converted with the goal time", res.Outcome, h.finishes)
	}
	if h.entries[0].GoalEvent != "purchase" || h.entries[0].GoalAfter != campaign.DefaultGoalAfter {
		t.Errorf("entry %+v, want the goal and its window recorded", h.entries[0])
	}
}

// TestCampaignWhoseTriggerIsItsGoal: a campaign started by a purchase whose
// goal is the next purchase hears its own trigger again as the first signal
// (SignalWithStart hands it over twice). That copy neither converts the run
// nor counts; the next purchase does.
func TestCampaignWhoseTriggerIsItsGoal(t *testing.T) {
	h := newCampaignHarness(t, "Europe/Berlin")
	h.start("2026-03-02 10:00")
	trigger := Event{EventID: "order-1", Type: EventPurchase}
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(EventSignal, trigger) }, 0)
	h.signalAfter(5*day, Event{EventID: "order-2", Type: EventPurchase})
	s := spec(t, `
name: thanks-then-next-order
audience: {segment: everyone}
trigger: {event: {type: purchase}}
goal: {event: purchase, within: 30d}
steps:
  - send: {id: thanks, template: welcome}
  - wait: {duration: 3d}
  - send: {id: cross-sell, template: tips}
  - wait: {duration: 7d}
  - send: {id: last, template: nudge}
`)
	h.env.ExecuteWorkflow(CampaignRun, CampaignRunInput{Campaign: s.Name, Version: 1, Spec: s, CustomerID: "c1", Trigger: trigger})
	var res CampaignRunResult
	h.result(&res)
	if got, want := h.timeline(), []string{"thanks email @ Mon 2026-03-02 10:00", "cross-sell email @ Thu 2026-03-05 10:00"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q: the trigger is not its own goal, the next order is", got, want)
	}
	if res.Outcome != OutcomeConverted || len(h.finishes) != 1 || h.finishes[0].GoalAt == nil ||
		h.local(*h.finishes[0].GoalAt) != "Sat 2026-03-07 10:00" {
		t.Errorf("outcome %q, finishes %+v, want converted by the second order on Saturday", res.Outcome, h.finishes)
	}
}

func TestCampaignHoldoutMembersReceiveNothingAndAreRecorded(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.holdout = true
	h.start("2026-03-02 10:00")
	res := h.run(spec(t, everyStep))
	if len(h.sends) != 0 || len(h.profile) != 0 || len(h.hooks) != 0 {
		t.Errorf("held-out customer got sends %v, profile %v, hooks %v; want nothing", h.sends, h.profile, h.hooks)
	}
	if res.Outcome != OutcomeHeldOut || len(h.finishes) != 1 || h.finishes[0].Outcome != OutcomeHeldOut {
		t.Errorf("outcome %q, finishes %+v, want held_out recorded", res.Outcome, h.finishes)
	}
}

const pausedSpec = `
name: paused
audience: {segment: everyone}
trigger: {event: {type: signup}}
late_after: 6h
steps:
  - send: {id: one, template: welcome}
  - wait: {duration: 1d}
  - send: {id: two, template: tips}
  - wait: {duration: 1d}
  - send: {id: three, template: nudge}
`

func TestCampaignPausedSendsNothingAndSkipsLateSendsOnResume(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	// Paused before step two falls due, resumed three days later: two fell
	// due during the pause and is skipped rather than sent late; three falls
	// due a day after the resume and goes out on time.
	h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusPaused }, 12*time.Hour)
	h.env.RegisterDelayedCallback(func() {
		if len(h.sends) != 1 {
			t.Errorf("%d messages sent while paused, want only the first", len(h.sends))
		}
		h.status = campaign.StatusActive
	}, 4*day)
	h.run(spec(t, pausedSpec))

	if got, want := h.timeline(), []string{"one email @ Mon 2026-03-02 10:00", "three email @ Sat 2026-03-07 10:00"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	var skipped []string
	for _, s := range h.skips {
		skipped = append(skipped, s.Step+" "+s.Reason)
	}
	if want := []string{"two late_after_pause"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %q, want %q (three fell due after the resume and is on time)", skipped, want)
	}
}

func TestCampaignShortPauseDelaysTheSendWithoutSkipping(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusPaused }, 23*time.Hour)
	h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusActive }, 26*time.Hour)
	h.run(spec(t, pausedSpec))
	want := []string{"one email @ Mon 2026-03-02 10:00", "two email @ Tue 2026-03-03 12:00", "three email @ Wed 2026-03-04 12:00"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q (two waits out the 2-hour pause)", got, want)
	}
	if len(h.skips) != 0 {
		t.Errorf("skips %+v, want none", h.skips)
	}
}

// resumeAt sets the campaign active after d and wakes the workflow, as
// `tidings campaigns resume` does.
func (h *campaignHarness) resumeAt(d time.Duration) {
	h.env.RegisterDelayedCallback(func() {
		h.status = campaign.StatusActive
		h.env.SignalWorkflow(CampaignWakeSignal, nil)
	}, d)
}

// TestCampaignResumeWakesARunWaitingAtASend: resumed at 25:03, the send
// that waited at the gate since 24:00 goes out at 25:03, not at the next
// ten-minute poll; a wake while the campaign is still paused sends nothing.
func TestCampaignResumeWakesARunWaitingAtASend(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusPaused }, 23*time.Hour)
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(CampaignWakeSignal, nil) }, 24*time.Hour+30*time.Minute)
	h.resumeAt(25*time.Hour + 3*time.Minute)
	h.run(spec(t, pausedSpec))
	want := []string{"one email @ Mon 2026-03-02 10:00", "two email @ Tue 2026-03-03 11:03", "three email @ Wed 2026-03-04 11:03"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q (two goes out when woken at the resume)", got, want)
	}
	for _, g := range h.gates {
		if !g.Wake {
			t.Fatalf("gate check %+v does not ask to be noted as waiting", g)
		}
	}
}

// TestCampaignResumeWakesAPausedOnceFiring: the once runner waiting for a
// resume sends as soon as it is woken.
func TestCampaignResumeWakesAPausedOnceFiring(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1], h.current, h.status = spec(t, onceSpec), 1, campaign.StatusPaused
	var calls []activities.CampaignBatchInput
	var sentAt time.Time
	h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
			calls = append(calls, in)
			sentAt = h.env.Now()
			return activities.CampaignBatchResult{Cursor: "c9", Done: true, Entered: 3, Counts: activities.Counts{Sent: 3}}, nil
		})
	h.resumeAt(97 * time.Minute)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "once-blast", Version: 1})
	var res CampaignRunnerResult
	h.result(&res)
	if len(calls) != 1 || res.Counts.Sent != 3 {
		t.Fatalf("runner %+v with batches %+v, want one batch after the resume", res, calls)
	}
	if want := time.Date(2026, 3, 2, 11, 37, 0, 0, time.UTC); !sentAt.Equal(want) {
		t.Errorf("sent at %s, want %s when woken", sentAt.UTC(), want)
	}
}

func TestCampaignEditLeavesInFlightRunsOnTheirVersion(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1] = spec(t, `
name: edited
audience: {segment: everyone}
trigger: {schedule: {cron: "0 10 * * MON"}}
steps:
  - wait: {duration: 3d}
  - send: {id: hello, template: welcome}
`)
	h.versions[2] = spec(t, `
name: edited
audience: {segment: everyone}
trigger: {schedule: {cron: "0 10 * * MON"}}
steps:
  - wait: {duration: 3d}
  - send: {id: hello, template: tips}
`)
	h.current = 1
	h.audience = []string{"c1", "c2"}
	// The marketer applies version 2 one day into the runs.
	h.env.RegisterDelayedCallback(func() { h.current = 2 }, day)
	h.env.RegisterWorkflowWithOptions(CampaignRun, workflow.RegisterOptions{Name: CampaignRunWorkflow})
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "edited"})
	var res CampaignRunnerResult
	h.result(&res)
	if res.Version != 1 || res.Started != 2 {
		t.Fatalf("runner %+v, want version 1 with two runs started", res)
	}
	for _, s := range h.sends {
		if s.Template != "welcome" || !strings.HasPrefix(s.IdempotencyKey, "campaign/edited/1/") {
			t.Errorf("in-flight run sent %s with key %s, want version 1's welcome", s.Template, s.IdempotencyKey)
		}
	}
	if len(h.sends) != 2 {
		t.Errorf("sent %d messages, want one per customer", len(h.sends))
	}

	// The next firing takes the new version.
	next := newCampaignHarness(t, "UTC")
	next.start("2026-03-09 10:00")
	next.versions, next.current, next.audience = h.versions, 2, []string{"c1"}
	next.env.RegisterWorkflowWithOptions(CampaignRun, workflow.RegisterOptions{Name: CampaignRunWorkflow})
	next.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "edited"})
	next.result(&res)
	if res.Version != 2 || len(next.sends) != 1 || next.sends[0].Template != "tips" {
		t.Errorf("next firing %+v sent %v, want version 2's tips", res, next.sends)
	}
}

func TestCampaignRoutesStartTriggeredRunsAndSignalListeners(t *testing.T) {
	live := []LiveCampaign{
		{Name: "nps", Version: 4, Status: campaign.StatusActive, Spec: spec(t, `
name: nps
audience: {segment: everyone}
trigger: {event: {type: order_delivered, where: {country: DE}}}
steps: [{send: {template: survey_request}}]
`)},
		{Name: "paused-nps", Version: 1, Status: campaign.StatusPaused, Spec: spec(t, `
name: paused-nps
audience: {segment: everyone}
trigger: {event: {type: order_delivered}}
goal: {event: purchase}
steps: [{send: {template: survey_request}}]
`)},
	}
	routes := CampaignRoutes("c1", Event{Type: "order_delivered", Properties: map[string]any{"country": "DE"}}, live)
	if len(routes) != 2 || !routes[0].StartIfAbsent || routes[0].WorkflowID != "campaign/nps/c1" || !routes[1].StartIfAbsent {
		t.Fatalf("routes %+v, want starts of nps and of paused-nps (whose run waits for resume at its first send)", routes)
	}
	archived := []LiveCampaign{live[0]}
	archived[0].Status = campaign.StatusArchived
	if r := CampaignRoutes("c1", Event{Type: "order_delivered", Properties: map[string]any{"country": "DE"}}, archived); len(r) != 0 {
		t.Errorf("archived campaign routed %+v, want nothing", r)
	}
	if in := routes[0].Start.(CampaignRunInput); in.Version != 4 || in.CustomerID != "c1" {
		t.Errorf("start input %+v, want version 4 for c1", in)
	}
	if r := CampaignRoutes("c1", Event{Type: "order_delivered", Properties: map[string]any{"country": "FR"}}, live[:1]); len(r) != 0 {
		t.Errorf("FR delivery routed %+v, want nothing (filter country: DE)", r)
	}
	if r := CampaignRoutes("c1", Event{Type: "purchase"}, live); len(r) != 1 || r[0].StartIfAbsent || r[0].WorkflowID != "campaign/paused-nps/c1" {
		t.Errorf("purchase routed %+v, want a signal to the run that counts it as its goal", r)
	}
}

func TestCampaignOnceLocalWaitsForEachCustomersOwnTime(t *testing.T) {
	// The runner starts every run when 09:00 first comes round (UTC+14);
	// this customer in Shanghai gets the message at 09:00 Shanghai time.
	h := newCampaignHarness(t, "Asia/Shanghai")
	h.env.SetStartTime(time.Date(2026, 3, 31, 19, 0, 0, 0, time.UTC))
	h.run(spec(t, `
name: local-once
audience: {segment: everyone}
trigger: {once: {at: "2026-04-01 09:00", local: true}}
steps:
  - send: {id: hello, template: welcome}
  - wait: {duration: 1d}
  - send: {id: tips, template: tips}
`))
	want := []string{"hello email @ Wed 2026-04-01 09:00", "tips email @ Thu 2026-04-02 09:00"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
}

const onceSpec = `
name: once-blast
audience: {segment: everyone}
trigger: {once: {at: "2026-03-02 10:00"}}
late_after: 6h
steps:
  - send: {id: news, template: welcome}
`

// batchRecorder stands in for CampaignBatch: one page, and a record of
// how each call was asked to treat late customers.
func (h *campaignHarness) batchRecorder(calls *[]activities.CampaignBatchInput) {
	h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
			*calls = append(*calls, in)
			res := activities.CampaignBatchResult{Cursor: "c9", Done: true, Entered: 3}
			if in.SkipLate {
				res.Counts.Skipped = 3
			} else {
				res.Counts.Sent = 3
			}
			return res, nil
		})
}

func TestCampaignOncePausedAtItsTimeWaitsForResume(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1], h.current, h.status = spec(t, onceSpec), 1, campaign.StatusPaused
	var calls []activities.CampaignBatchInput
	h.batchRecorder(&calls)
	h.env.RegisterDelayedCallback(func() {
		if len(calls) != 0 {
			t.Error("a paused once campaign sent before it was resumed")
		}
		h.status = campaign.StatusActive
	}, 2*time.Hour)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "once-blast", Version: 1})
	var res CampaignRunnerResult
	h.result(&res)
	if len(calls) != 1 || calls[0].SkipLate || res.Counts.Sent != 3 || res.Paused {
		t.Errorf("runner %+v with batches %+v, want one on-time batch after the resume", res, calls)
	}
}

func TestCampaignFiringResumedTooLateRecordsTheRestAsSkipped(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1], h.current, h.status = spec(t, onceSpec), 1, campaign.StatusPaused
	var calls []activities.CampaignBatchInput
	h.batchRecorder(&calls)
	// Resumed a day later, well past late_after (6h).
	h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusActive }, day)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "once-blast", Version: 1})
	var res CampaignRunnerResult
	h.result(&res)
	if len(calls) != 1 || !calls[0].SkipLate || !res.SkippedLate || res.Counts.Sent != 0 || res.Counts.Skipped != 3 {
		t.Errorf("runner %+v with batches %+v, want the rest entered as skipped, none sent", res, calls)
	}
}

func TestCampaignScheduledFiringOfAPausedCampaignIsSkipped(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1] = spec(t, strings.Replace(onceSpec, `once: {at: "2026-03-02 10:00"}`, `schedule: {cron: "0 10 * * *"}`, 1))
	h.current, h.status = 1, campaign.StatusPaused
	var calls []activities.CampaignBatchInput
	h.batchRecorder(&calls)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "once-blast"})
	var res CampaignRunnerResult
	h.result(&res)
	if !res.Paused || len(calls) != 0 {
		t.Errorf("runner %+v with batches %+v, want the firing skipped", res, calls)
	}
}

func TestCampaignEventWaitHearsTheStepBeforeIt(t *testing.T) {
	const src = `
name: replies
audience: {segment: everyone}
trigger: {event: {type: order_delivered}}
steps:
  - send: {id: ask, template: survey_request, vars: {survey: nps}}
  - wait: {duration: 1h}
%s  - wait:
      event: survey_answered
      timeout: 3d
      on_event: [{tag: answered}]
      on_timeout: [{send: {id: remind, template: survey_reminder, vars: {survey: nps}}}]
`
	for _, tc := range []struct {
		name, between string
		answer        Event
		wantRemind    bool
	}{
		// Answered within the hour before the wait: that is the reply.
		{"answered during the step before", "", Event{EventID: "a1", Type: "survey_answered"}, false},
		// A step in between starts afresh: an answer before it is old news.
		{"answered two steps before", "  - tag: asked\n", Event{EventID: "a1", Type: "survey_answered"}, true},
		// The event that started the run is not a reply to it.
		{"the trigger itself", "", Event{EventID: "d1", Type: "survey_answered"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCampaignHarness(t, "UTC")
			h.start("2026-03-02 10:00")
			h.signalAfter(30*time.Minute, tc.answer)
			s := spec(t, fmt.Sprintf(src, tc.between))
			h.env.ExecuteWorkflow(CampaignRun, CampaignRunInput{Campaign: s.Name, Version: 1, Spec: s, CustomerID: "c1",
				Trigger: Event{EventID: "d1", Type: "order_delivered"}})
			var res CampaignRunResult
			h.result(&res)
			if got := slices.Contains(res.Sent, "remind"); got != tc.wantRemind {
				t.Errorf("sent %v, want the reminder: %v", res.Sent, tc.wantRemind)
			}
		})
	}
}

const firstSendSpec = `
name: welcome-series
audience: {segment: everyone}
trigger: {once: {at: "2026-03-02 10:00"}}
goal: {event: purchase, within: 14d}
steps:
  - send: {id: hello, template: welcome}
  - wait: {duration: 2d}
  - send: {id: tips, template: tips}
`

// TestCampaignRunnerSendsTheFirstStepInABatchAndRunsTheRest: a multi-step
// campaign whose audience starts together has its first message sent by
// the runner's batch; each customer's run then starts at the second step,
// so nobody gets the first message twice and the rest keeps its timeline.
func TestCampaignRunnerSendsTheFirstStepInABatchAndRunsTheRest(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1], h.current = spec(t, firstSendSpec), 1
	h.env.RegisterWorkflowWithOptions(CampaignRun, workflow.RegisterOptions{Name: CampaignRunWorkflow})
	var calls []activities.CampaignBatchInput
	h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
			calls = append(calls, in)
			// c1 was sent the first message, c2's was skipped (no consent).
			return activities.CampaignBatchResult{Cursor: "c2", Done: true, Entered: 2, Counts: activities.Counts{Sent: 1, Skipped: 1},
				Runs: []activities.RunStart{{CustomerID: "c1", Sent: "hello"}, {CustomerID: "c2"}}}, nil
		})
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "welcome-series", Version: 1})
	var res CampaignRunnerResult
	h.result(&res)
	if len(calls) != 1 || res.Started != 2 || res.Counts.Sent != 1 || res.Counts.Skipped != 1 {
		t.Fatalf("runner %+v after %d batch calls, want one batch and 2 runs started", res, len(calls))
	}
	want := []string{"tips email @ Wed 2026-03-04 10:00", "tips email @ Wed 2026-03-04 10:00"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("runs sent %q, want %q: the first step was the batch's", got, want)
	}
}

// TestFailedFiringStillStartsTheRunsOfThoseItSent: the runner keeps the
// runs of its pages to start once the pages are sent; when a later page
// fails for good, the customers already sent the first step still get
// their runs, so their later steps are not lost with the firing.
func TestFailedFiringStillStartsTheRunsOfThoseItSent(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	h.start("2026-03-02 10:00")
	h.versions[1], h.current = spec(t, firstSendSpec), 1
	var started []string
	h.env.RegisterWorkflowWithOptions(CampaignRun, workflow.RegisterOptions{Name: CampaignRunWorkflow})
	h.env.OnWorkflow(CampaignRunWorkflow, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in CampaignRunInput) (CampaignRunResult, error) {
			started = append(started, in.CustomerID)
			return CampaignRunResult{Outcome: OutcomeCompleted}, nil
		})
	calls := 0
	h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
			calls++
			if calls > 1 {
				return activities.CampaignBatchResult{}, temporal.NewNonRetryableApplicationError("the audience no longer parses", "bad_audience", nil)
			}
			return activities.CampaignBatchResult{Cursor: "c2", Entered: 2, Counts: activities.Counts{Sent: 2},
				Runs: []activities.RunStart{{CustomerID: "c1", Sent: "hello"}, {CustomerID: "c2", Sent: "hello"}}}, nil
		})
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "welcome-series", Version: 1})
	if err := h.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "no longer parses") {
		t.Fatalf("runner error %v, want the second page's", err)
	}
	slices.Sort(started)
	if calls != 2 || !slices.Equal(started, []string{"c1", "c2"}) {
		t.Errorf("%d batch calls, runs started for %v; want both customers of the sent page started", calls, started)
	}
}

// TestCampaignRunAfterTheFirstStepFindsAGoalReachedMeanwhile: a customer
// who bought while the runner sent their page (before their run started
// and could hear it) gets nothing more, and the run ends as a conversion.
func TestCampaignRunAfterTheFirstStepFindsAGoalReachedMeanwhile(t *testing.T) {
	for _, bought := range []bool{false, true} {
		h := newCampaignHarness(t, "UTC")
		t0 := h.start("2026-03-02 10:00")
		if bought {
			h.storedGoal = &Event{EventID: "buy-1", Type: "purchase", OccurredAt: t0}
		}
		s := spec(t, firstSendSpec)
		h.env.ExecuteWorkflow(CampaignRun, CampaignRunInput{Campaign: s.Name, Version: 1, Spec: s, CustomerID: "c1", InAudience: true,
			RunKey: "fire/c1", FirstDone: &activities.RunStart{CustomerID: "c1", Sent: "hello"}, EnteredAt: t0})
		var out CampaignRunResult
		h.result(&out)
		wantSent, wantOutcome := []string{"hello", "tips"}, OutcomeCompleted
		if bought {
			wantSent, wantOutcome = []string{"hello"}, OutcomeConverted
		}
		if out.Outcome != wantOutcome || !slices.Equal(out.Sent, wantSent) {
			t.Errorf("bought %v: run %+v, want %s with %v sent", bought, out, wantOutcome, wantSent)
		}
		if n := len(h.timeline()); n != len(wantSent)-1 {
			t.Errorf("bought %v: the run itself sent %q", bought, h.timeline())
		}
	}
}

const abSpec = `
name: spring-ab
audience: {segment: everyone}
trigger: {once: {at: "2026-03-02 10:00"}}
steps:
  - send:
      id: subject
      template: welcome
      variants:
        test: 20
        winner_after: 4h
        metric: click
        arms:
          - {name: a, percent: 50}
          - {name: b, percent: 50}
`

// batchCall is one CampaignBatch call: the share and winner it was asked
// for, and when.
type batchCall struct {
	share, winner string
	at            time.Time
}

// abBatches stands in for CampaignBatch in an A/B firing: each call is one
// whole share, done.
func (h *campaignHarness) abBatches(calls *[]batchCall) {
	h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
			*calls = append(*calls, batchCall{in.Share, in.Winner, h.env.Now().UTC()})
			return activities.CampaignBatchResult{Cursor: "c9", Done: true, Entered: 10, Counts: activities.Counts{Sent: 10}}, nil
		})
}

// TestCampaignABTestSendsTheRestTheWinnerAfterItsWindow: the test share
// goes out first, the winner is chosen when the window (4h) has passed
// after the test's last send, and the rest of the audience gets it then.
func TestCampaignABTestSendsTheRestTheWinnerAfterItsWindow(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	t0 := h.start("2026-03-02 10:00")
	h.versions[1], h.current, h.decides = spec(t, abSpec), 1, "b"
	var calls []batchCall
	h.abBatches(&calls)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "spring-ab", Version: 1})
	var res CampaignRunnerResult
	h.result(&res)
	want := []batchCall{{activities.ShareTest, "", t0.UTC()}, {activities.ShareRest, "b", t0.Add(4 * time.Hour).UTC()}}
	if !slices.Equal(calls, want) {
		t.Errorf("batches %+v, want the test at once and the rest the winner 4h later: %+v", calls, want)
	}
	if len(h.winnerCalls) != 2 || h.winnerCalls[0].Decide || !h.winnerCalls[1].Decide || !h.winnerCalls[1].At.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("winner asked %+v, want a look-up at the start and a decision at the end of the window", h.winnerCalls)
	}
	if res.Winner != "b" || res.Counts.Sent != 20 {
		t.Errorf("runner %+v, want winner b and both shares sent", res)
	}
}

// TestCampaignABWinnerDecidedSendsALaterFiringTheWinner: a scheduled
// campaign tests once per version; its next firing sends everyone the
// recorded winner without testing again.
func TestCampaignABWinnerDecidedSendsALaterFiringTheWinner(t *testing.T) {
	h := newCampaignHarness(t, "UTC")
	t0 := h.start("2026-03-09 10:00")
	h.versions[1] = spec(t, strings.Replace(abSpec, `once: {at: "2026-03-02 10:00"}`, `schedule: {cron: "0 10 * * MON"}`, 1))
	h.current, h.winner = 1, "a"
	var calls []batchCall
	h.abBatches(&calls)
	h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "spring-ab"})
	var res CampaignRunnerResult
	h.result(&res)
	if want := []batchCall{{"", "a", t0.UTC()}}; !slices.Equal(calls, want) {
		t.Errorf("batches %+v, want %+v", calls, want)
	}
	if len(h.winnerCalls) != 1 || h.winnerCalls[0].Decide {
		t.Errorf("winner asked %+v, want one look-up", h.winnerCalls)
	}
}

// TestCampaignABPausedAtTheWindowsEndSendsTheRestOnResume: the decision
// is made when the window ends, but the rest waits for the campaign to be
// resumed, and is skipped when that is more than late_after later.
func TestCampaignABPausedAtTheWindowsEndSendsTheRestOnResume(t *testing.T) {
	for _, tc := range []struct {
		name     string
		resume   time.Duration
		wantLate bool
	}{{"resumed in time", 6 * time.Hour, false}, {"resumed too late", 20 * time.Hour, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCampaignHarness(t, "UTC")
			t0 := h.start("2026-03-02 10:00")
			h.versions[1], h.current, h.decides = spec(t, abSpec), 1, "b"
			var calls []activities.CampaignBatchInput
			h.env.OnActivity(campaigns.CampaignBatch, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.CampaignBatchInput) (activities.CampaignBatchResult, error) {
					calls = append(calls, in)
					return activities.CampaignBatchResult{Cursor: "c9", Done: true}, nil
				})
			h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusPaused }, time.Hour)
			h.env.RegisterDelayedCallback(func() { h.status = campaign.StatusActive }, tc.resume)
			h.env.ExecuteWorkflow(CampaignRunner, CampaignRunnerInput{Campaign: "spring-ab", Version: 1})
			var res CampaignRunnerResult
			h.result(&res)
			if len(calls) != 2 || calls[1].Share != activities.ShareRest || calls[1].Winner != "b" || calls[1].SkipLate != tc.wantLate {
				t.Fatalf("batches %+v, want the rest sent b (late: %v)", calls, tc.wantLate)
			}
			if at := h.winnerCalls[len(h.winnerCalls)-1].At; !at.Equal(t0.Add(4 * time.Hour)) {
				t.Errorf("decided at %s, want at the window's end", at)
			}
		})
	}
}
