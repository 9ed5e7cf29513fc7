package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// sent is one message as the send path saw it, with the (test) time.
type sent struct {
	delivery.Request
	At time.Time
}

// harness runs a workflow in the SDK's test environment, where timers fire
// at once and weeks pass in milliseconds. The activities are stood in for by
// functions that behave like the real ones and record what happened.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	zone       string
	smsConsent bool
	claimed    bool
	gone       bool
	// defer holds, per step, how long the send path defers its first try.
	deferFor map[string]time.Duration
	// fail makes a step's send fail permanently.
	fail map[string]bool

	sends       []sent
	attempts    map[string]int
	conversions []activities.ConversionInput
	finished    []activities.FinishInput
	tags        []activities.TagInput
	alerts      []activities.AlertInput
	alertedAt   []time.Time
	reviewURL   string
	// settings answer the sweeps' settings activity, as a worker's
	// policy file would.
	settings *SettingsActivities
	// storedGoal is a goal event in the store (one the journey was never
	// signalled), visible from its OccurredAt on to a search for its type
	// since a time before it.
	storedGoal *Event
	// stored are the events the store holds by ID, properties and all; the
	// workflow hears them by ID only, as from the router.
	stored map[string]Event
}

func newHarness(t *testing.T, zone string) *harness {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	h := &harness{
		t: t, env: suite.NewTestWorkflowEnvironment(), zone: zone, claimed: true,
		deferFor: map[string]time.Duration{}, fail: map[string]bool{}, attempts: map[string]int{}, stored: map[string]Event{},
	}
	env := h.env
	// The SDK flags a workflow that runs 1 s without yielding as deadlocked;
	// on a machine busy with other builds a harness step can take that long.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	h.settings = &SettingsActivities{}
	env.RegisterActivity(h.settings)
	env.OnActivity(act.ClaimJourney, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ClaimInput) (activities.ClaimResult, error) {
			return activities.ClaimResult{Claimed: h.claimed}, nil
		})
	env.OnActivity(act.LoadProfile, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ProfileInput) (activities.ProfileResult, error) {
			if h.gone {
				return activities.ProfileResult{}, temporal.NewNonRetryableApplicationError("customer deleted", activities.ErrCustomerNotFound, nil)
			}
			return activities.ProfileResult{TimeZone: h.zone, Locale: "en", SMSConsent: in.SMSTopic != "" && h.smsConsent}, nil
		})
	env.OnActivity(act.SendMessage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r delivery.Request) (delivery.Result, error) {
			h.attempts[r.IdempotencyKey]++
			if d, ok := h.deferFor[r.Step]; ok && h.attempts[r.IdempotencyKey] == 1 {
				return delivery.Result{Status: delivery.Deferred, DeferUntil: env.Now().Add(d)}, nil
			}
			if h.fail[r.Step] {
				return delivery.Result{}, temporal.NewNonRetryableApplicationError("mailbox does not exist", delivery.TypeRejected, nil)
			}
			h.sends = append(h.sends, sent{Request: r, At: env.Now()})
			return delivery.Result{Status: delivery.Sent, MessageID: delivery.MessageID(r.IdempotencyKey)}, nil
		})
	env.OnActivity(act.FindGoal, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.GoalInput) (activities.GoalResult, error) {
			if g := h.storedGoal; g != nil && !h.env.Now().Before(g.OccurredAt) && g.EventID != in.Except &&
				slices.Contains(in.Types, g.Type) && !g.OccurredAt.Before(in.Since) {
				h.stored[g.EventID] = *g
				return activities.GoalResult{Found: true, EventID: g.EventID, Type: g.Type, OccurredAt: g.OccurredAt}, nil
			}
			return activities.GoalResult{}, nil
		})
	env.OnActivity(act.FinishJourney, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishInput) error {
			h.finished = append(h.finished, in)
			return nil
		})
	env.OnActivity(act.RecordConversion, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ConversionInput) error {
			if e, ok := h.stored[in.EventID]; ok {
				in.Revenue, _ = activities.Number(e.Properties["amount"])
				in.Currency, _ = e.Properties["currency"].(string)
			}
			h.conversions = append(h.conversions, in)
			return nil
		})
	env.OnActivity(act.SurveyEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SurveyEventInput) (activities.SurveyEventResult, error) {
			e, ok := h.stored[in.EventID]
			if !ok {
				return activities.SurveyEventResult{}, nil
			}
			score, _ := activities.Number(e.Properties["score"])
			msg, _ := e.Properties["message_id"].(string)
			kind, _ := e.Properties["survey"].(string)
			comment, _ := e.Properties["comment"].(string)
			return activities.SurveyEventResult{Found: true, MessageID: msg, Survey: kind, Score: int(score), Commented: comment != ""}, nil
		})
	env.OnActivity(act.MatchEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MatchInput) (activities.MatchResult, error) {
			e, ok := h.stored[in.EventID]
			return activities.MatchResult{Matches: ok && campaign.Matches(in.Where, e.Properties)}, nil
		})
	env.OnActivity(act.TagCustomer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TagInput) error {
			h.tags = append(h.tags, in)
			return nil
		})
	env.OnActivity(act.IssueCoupon, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CouponInput) (activities.CouponResult, error) {
			return activities.CouponResult{Code: in.Prefix + "-" + in.Key}, nil
		})
	env.OnActivity(act.AlertCareTeam, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AlertInput) (activities.AlertResult, error) {
			in.Comment = h.comment(in.MessageID)
			h.alerts, h.alertedAt = append(h.alerts, in), append(h.alertedAt, env.Now())
			return activities.AlertResult{Email: delivery.Result{Status: delivery.Sent}}, nil
		})
	env.OnActivity(act.ReviewLink, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.ReviewLinkInput) (activities.ReviewLinkResult, error) {
			return activities.ReviewLinkResult{URL: h.reviewURL}, nil
		})
	return h
}

// start sets the test clock; at is read in the customer's zone.
func (h *harness) start(at string) time.Time {
	h.t.Helper()
	loc, err := time.LoadLocation(h.zone)
	if err != nil {
		h.t.Fatal(err)
	}
	t0, err := time.ParseInLocation("2006-01-02 15:04", at, loc)
	if err != nil {
		h.t.Fatal(err)
	}
	h.env.SetStartTime(t0)
	return t0
}

// signalAfter stores an event and delivers it to the workflow d after it
// started, by ID as the router does.
func (h *harness) signalAfter(d time.Duration, e Event) {
	h.env.RegisterDelayedCallback(func() {
		e.OccurredAt = h.env.Now()
		h.signal(e)
	}, d)
}

// comment is the comment stored on a survey message, as the care alert
// reads it.
func (h *harness) comment(messageID string) string {
	for _, e := range h.stored {
		if c, _ := e.Properties["comment"].(string); c != "" && e.Properties["message_id"] == messageID {
			return c
		}
	}
	return ""
}

// signal stores e and delivers it now, without its properties.
func (h *harness) signal(e Event) {
	if e.EventID == "" {
		e.EventID = fmt.Sprintf("event-%d", len(h.stored)+1)
	}
	h.stored[e.EventID] = e
	h.env.SignalWorkflow(EventSignal, e.Ref())
}

// result fails the test unless the workflow completed, and decodes its result.
func (h *harness) result(out any) {
	h.t.Helper()
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	if err := h.env.GetWorkflowResult(out); err != nil {
		h.t.Fatal(err)
	}
}

// local formats a send time in the customer's zone, as the customer saw it.
func (h *harness) local(at time.Time) string {
	loc, _ := time.LoadLocation(h.zone)
	return at.In(loc).Format("Mon 2006-01-02 15:04")
}

// timeline lists "step channel @ local time" for every message sent.
func (h *harness) timeline() []string {
	var out []string
	for _, s := range h.sends {
		out = append(out, s.Step+" "+s.Channel+" @ "+h.local(s.At))
	}
	return out
}

func (h *harness) outcome() string {
	if len(h.finished) != 1 {
		h.t.Fatalf("run finished %d times, want once: %+v", len(h.finished), h.finished)
	}
	return h.finished[0].Outcome
}

var errNoSuchStep = errors.New("no such step")

func (h *harness) sentStep(step string) (sent, error) {
	for _, s := range h.sends {
		if s.Step == step {
			return s, nil
		}
	}
	return sent{}, errNoSuchStep
}
