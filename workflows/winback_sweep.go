package workflows

import (
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
)

// Win-back sweep defaults (WinbackSweepInput's zero values).
const (
	DefaultLapsedAfter         = 60 * 24 * time.Hour
	DefaultWinbackBatchSize    = 200
	DefaultWinbackStartsPerRun = 1000
)

// WinbackSweepInput is one daily sweep. The schedule passes nothing; After
// and the tallies carry progress across continue-as-new.
type WinbackSweepInput struct {
	// At is "now" for the lapsed test; zero means the run's start.
	At time.Time `json:"at,omitzero"`
	// LapsedAfter: customers whose last purchase is older are lapsed.
	LapsedAfter time.Duration `json:"lapsed_after,omitempty"`
	// Journey holds the parameters every started win-back gets; its
	// Cooldown (default 180 days) is also the sweep's "none recently" rule.
	Journey      WinbackInput `json:"journey,omitzero"`
	BatchSize    int          `json:"batch_size,omitempty"`
	StartsPerRun int          `json:"starts_per_run,omitempty"`

	After          string `json:"after,omitempty"`
	Started        int    `json:"started,omitempty"`
	AlreadyRunning int    `json:"already_running,omitempty"`
}

// WinbackSweepResult counts the journeys started.
type WinbackSweepResult struct {
	Started        int `json:"started"`
	AlreadyRunning int `json:"already_running"`
}

// WinbackSweep (registered as WinbackSweepWorkflow) starts one win-back per
// lapsed customer as an abandoned child: the child outlives the sweep, and
// its workflow ID journey/winback/<customer> keeps a customer in one
// win-back at a time.
func WinbackSweep(ctx workflow.Context, in WinbackSweepInput) (WinbackSweepResult, error) {
	if in.At.IsZero() {
		in.At = workflow.Now(ctx)
	}
	if err := in.configure(ctx); err != nil {
		return WinbackSweepResult{Started: in.Started, AlreadyRunning: in.AlreadyRunning}, err
	}
	perRun := orDefault(in.StartsPerRun, DefaultWinbackStartsPerRun)
	batch := orDefault(in.BatchSize, DefaultWinbackBatchSize)
	startedThisRun := 0
	for {
		if startedThisRun >= perRun {
			return WinbackSweepResult{}, workflow.NewContinueAsNewError(ctx, WinbackSweepWorkflow, in)
		}
		var page activities.LapsedResult
		err := workflow.ExecuteActivity(withStore(ctx), act.LapsedCustomers, activities.LapsedInput{
			Journey: Winback, At: in.At, LapsedAfter: orDefault(in.LapsedAfter, DefaultLapsedAfter),
			Cooldown: orDefault(in.Journey.Cooldown, DefaultWinbackCooldown), After: in.After, BatchSize: batch,
		}).Get(ctx, &page)
		if err != nil {
			return WinbackSweepResult{Started: in.Started, AlreadyRunning: in.AlreadyRunning}, err
		}
		if err := startWinbacks(ctx, &in, page.CustomerIDs); err != nil {
			return WinbackSweepResult{Started: in.Started, AlreadyRunning: in.AlreadyRunning}, err
		}
		startedThisRun += len(page.CustomerIDs)
		if n := len(page.CustomerIDs); n > 0 {
			in.After = page.CustomerIDs[n-1]
		}
		if page.Done {
			return WinbackSweepResult{Started: in.Started, AlreadyRunning: in.AlreadyRunning}, nil
		}
	}
}

// configure takes what the input leaves unset from the journey's
// parameters as the worker has them.
func (in *WinbackSweepInput) configure(ctx workflow.Context) error {
	var cfg WinbackSweepInput
	if err := sweepSettings(ctx, Winback, &cfg); err != nil {
		return err
	}
	in.LapsedAfter = orDefault(in.LapsedAfter, cfg.LapsedAfter)
	j, c := &in.Journey, cfg.Journey
	j.StepGap, j.Cooldown = orDefault(j.StepGap, c.StepGap), orDefault(j.Cooldown, c.Cooldown)
	j.OfferPercent, j.LastChancePercent = orDefault(j.OfferPercent, c.OfferPercent), orDefault(j.LastChancePercent, c.LastChancePercent)
	j.LapsedTag, j.CouponPool = orDefault(j.LapsedTag, c.LapsedTag), orDefault(j.CouponPool, c.CouponPool)
	return nil
}

// startWinbacks starts a page of journeys at once and waits until each has
// started (not finished). A journey already running is counted, not an error.
func startWinbacks(ctx workflow.Context, in *WinbackSweepInput, ids []string) error {
	futures := make([]workflow.ChildWorkflowFuture, len(ids))
	for i, id := range ids {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            JourneyID(Winback, id),
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		})
		params := in.Journey
		params.CustomerID = id
		futures[i] = workflow.ExecuteChildWorkflow(cctx, WinbackWorkflow, params)
	}
	for _, f := range futures {
		err := f.GetChildWorkflowExecution().Get(ctx, nil)
		var running *temporal.ChildWorkflowExecutionAlreadyStartedError
		switch {
		case err == nil:
			in.Started++
		case errors.As(err, &running):
			in.AlreadyRunning++
		default:
			return err
		}
	}
	return nil
}
