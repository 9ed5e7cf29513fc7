package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/store"
)

func TestBirthdaySweepPagesUntilDoneWithOneInstant(t *testing.T) {
	h := newHarness(t, "UTC")
	t0 := h.start("2026-06-15 01:00")
	var calls []activities.BirthdayBatchInput
	h.env.OnActivity(act.BirthdayBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BirthdayBatchInput) (activities.BirthdayBatchResult, error) {
			calls = append(calls, in)
			n := len(calls)
			return activities.BirthdayBatchResult{Cursor: store.BirthdayCursor{MonthDay: 615, ID: fmt.Sprint(n)},
				Done: n == 3, Counts: activities.Counts{Sent: 2, Skipped: 1}}, nil
		})
	h.env.ExecuteWorkflow(BirthdaySweep, BirthdaySweepInput{})
	var res BirthdaySweepResult
	h.result(&res)
	if len(calls) != 3 || res.Batches != 3 || res.Counts.Sent != 6 || res.Counts.Skipped != 3 {
		t.Fatalf("calls %d, result %+v; want 3 batches, 6 sent, 3 skipped", len(calls), res)
	}
	for i, c := range calls {
		if !c.At.Equal(t0) || c.SendMinute != 540 || c.DiscountPercent != 15 || c.BatchSize != 500 {
			t.Errorf("batch %d input %+v, want the sweep's instant, 09:00, 15%% and 500", i, c)
		}
		if i > 0 && c.Cursor.ID != fmt.Sprint(i) {
			t.Errorf("batch %d started at %+v, want the previous batch's cursor", i, c.Cursor)
		}
	}
}

func TestBirthdaySweepContinuesAsNewWithItsCursor(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-06-15 01:00")
	h.env.OnActivity(act.BirthdayBatch, mock.Anything, mock.Anything).Return(
		activities.BirthdayBatchResult{Cursor: store.BirthdayCursor{MonthDay: 615, ID: "x"}, Counts: activities.Counts{Sent: 1}}, nil)
	h.env.ExecuteWorkflow(BirthdaySweep, BirthdaySweepInput{BatchesPerRun: 2})
	if err := h.env.GetWorkflowError(); !workflow.IsContinueAsNewError(err) {
		t.Fatalf("error %v, want continue-as-new after 2 batches", err)
	}
}

func TestWinbackSweepStartsOneJourneyPerLapsedCustomer(t *testing.T) {
	h := newHarness(t, "UTC")
	t0 := h.start("2026-06-15 03:00")
	pages := [][]string{{"a", "b"}, {"c"}}
	var asked []activities.LapsedInput
	h.env.OnActivity(act.LapsedCustomers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LapsedInput) (activities.LapsedResult, error) {
			asked = append(asked, in)
			page := pages[len(asked)-1]
			return activities.LapsedResult{CustomerIDs: page, Done: len(asked) == len(pages)}, nil
		})
	var started []string
	h.env.RegisterWorkflowWithOptions(WinbackJourney, workflow.RegisterOptions{Name: WinbackWorkflow})
	h.env.OnWorkflow(WinbackWorkflow, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in WinbackInput) (WinbackResult, error) {
			started = append(started, workflow.GetInfo(ctx).WorkflowExecution.ID+" "+in.CustomerID+" "+fmt.Sprint(in.OfferPercent))
			return WinbackResult{Outcome: OutcomeLapsed}, nil
		})
	h.env.ExecuteWorkflow(WinbackSweep, WinbackSweepInput{Journey: WinbackInput{OfferPercent: 12}, BatchSize: 2})
	var res WinbackSweepResult
	h.result(&res)
	want := []string{"journey/winback/a a 12", "journey/winback/b b 12", "journey/winback/c c 12"}
	slices.Sort(started)
	if !slices.Equal(started, want) || res.Started != 3 {
		t.Errorf("started %q (result %+v), want %q", started, res, want)
	}
	if len(asked) != 2 || asked[1].After != "b" {
		t.Fatalf("pages asked %+v, want two, the second after b", asked)
	}
	if a := asked[0]; a.LapsedAfter != 60*day || a.Cooldown != 180*day || !a.At.Equal(t0) || a.Journey != Winback {
		t.Errorf("lapsed query %+v, want 60 days lapsed, 180 days cooldown, at the sweep's start", a)
	}
}

func TestCareSendComesBackForDeferredCustomers(t *testing.T) {
	h := newHarness(t, "UTC")
	t0 := h.start("2026-12-24 02:00")
	var calls []activities.CareBatchInput
	var at []time.Time
	h.env.OnActivity(act.CareBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CareBatchInput) (activities.CareBatchResult, error) {
			calls = append(calls, in)
			at = append(at, h.env.Now())
			if len(calls) == 1 {
				return activities.CareBatchResult{Cursor: "m", Done: true,
					Counts: activities.Counts{Sent: 5, Deferred: 2, RetryAt: h.env.Now().Add(7 * time.Hour)}}, nil
			}
			return activities.CareBatchResult{Cursor: "z", Done: true, Counts: activities.Counts{Sent: 2}}, nil
		})
	// The ledger knows one more message than the batches reported, as when
	// a crashed attempt's count is lost: the result follows the ledger.
	var tallied []activities.CareTallyInput
	h.env.OnActivity(act.CareTally, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CareTallyInput) (activities.Counts, error) {
			tallied = append(tallied, in)
			return activities.Counts{Sent: 8, Skipped: 1}, nil
		})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "care/holiday-2026"})
	h.env.ExecuteWorkflow(CareSend, CareSendInput{Template: "care", Tag: "vip"})
	var res CareSendResult
	h.result(&res)
	if res.Counts.Sent != 8 || res.Counts.Skipped != 1 || res.Passes != 2 || res.Counts.Deferred != 0 {
		t.Errorf("result %+v, want the ledger's 8 sent and 1 skipped over 2 passes and nothing left deferred", res)
	}
	if len(tallied) != 1 || tallied[0] != (activities.CareTallyInput{RunKey: "care/holiday-2026", Tag: "vip", Since: t0}) {
		t.Errorf("tallied %+v, want once, for the run and its tag since its start", tallied)
	}
	if len(calls) != 2 || calls[1].Cursor != "" || at[1].Sub(at[0]) != 7*time.Hour {
		t.Fatalf("calls %+v at %v, want a second pass from the start 7 hours later", calls, at)
	}
	for _, c := range calls {
		if c.RunKey != "care/holiday-2026" || c.Topic != "care" || c.Channel != "email" || c.Tag != "vip" {
			t.Errorf("batch input %+v, want the workflow ID as run key, topic care, email, tag vip", c)
		}
	}
}

func TestCareSendRefusesAMissingTemplate(t *testing.T) {
	h := newHarness(t, "UTC")
	h.env.ExecuteWorkflow(CareSend, CareSendInput{})
	err := h.env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "template") {
		t.Errorf("error %v, want one naming the template field", err)
	}
}
