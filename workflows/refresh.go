package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
)

// RefreshSweepWorkflow is the refresh sweep's registered workflow.
const RefreshSweepWorkflow = "RefreshSweep"

// refreshJourney is the descriptor register.go lists: the hourly refresh
// of customer scores and of the lifecycle history the reports read.
func refreshJourney() Journey {
	return Journey{
		Name:    activities.RefreshJourney,
		Summary: "hourly refresh of customer scores (RFM, value tier), monthly lifecycle stages and audience sizes for segments and reports",
		Sweep: &Sweep{
			Workflow: Workflow{Name: RefreshSweepWorkflow, Func: RefreshSweep},
			Kind:     "refresh_reports",
			Input:    func(SweepFields) any { return RefreshSweepInput{} },
			Default:  &DefaultSchedule{ID: "refresh-reports", Cron: "0 * * * *", TimeZone: "UTC", Note: "default: hourly refresh of scores and report tables"},
		},
	}
}

// RefreshSweepInput is one refresh; the schedule passes nothing.
type RefreshSweepInput struct {
	// At is the moment scores and stages are computed for; zero means the
	// run's start.
	At time.Time `json:"at,omitzero"`
}

// RefreshSweep (registered as RefreshSweepWorkflow) refreshes what segments
// and reports read, in one activity: a refresh is a few set-based
// statements that take seconds to a minute at a million customers.
func RefreshSweep(ctx workflow.Context, in RefreshSweepInput) (activities.RefreshResult, error) {
	if in.At.IsZero() {
		in.At = workflow.Now(ctx)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour,
		RetryPolicy:            storeRetry(),
	})
	var res activities.RefreshResult
	err := workflow.ExecuteActivity(ctx, act.RefreshReports, activities.RefreshInput{At: in.At}).Get(ctx, &res)
	return res, err
}
