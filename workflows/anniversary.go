package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
)

// AnniversarySweepWorkflow is the anniversary sweep's registered workflow.
const AnniversarySweepWorkflow = "AnniversarySweep"

// DefaultAnniversaryDiscount is the thank-you coupon's discount.
const DefaultAnniversaryDiscount = 10

// anniversaryJourney is the descriptor register.go lists. It has no
// default schedule: an operator adds one (run: anniversary_sweep).
func anniversaryJourney() Journey {
	return Journey{
		Name:    activities.AnniversaryJourney,
		Summary: "scheduled sweep: thanks on a first purchase's anniversary",
		Sweep: &Sweep{
			Workflow: Workflow{Name: AnniversarySweepWorkflow, Func: AnniversarySweep},
			Kind:     "anniversary_sweep",
			Input:    func(SweepFields) any { return BirthdaySweepInput{} },
			Settings: dateSweepSettings,
		},
		Params:    dateSweepParams(DefaultAnniversaryDiscount),
		Templates: []string{"anniversary"},
	}
}

// AnniversarySweep (registered as AnniversarySweepWorkflow) thanks every
// customer on the anniversary of their first purchase, in their own time
// zone, from the send minute on (default 09:00), with a coupon; the first
// year's purchase has none yet. It runs from a schedule like the birthday
// sweep and is as idempotent: keys anniversary/<customer>/<year>.
func AnniversarySweep(ctx workflow.Context, in BirthdaySweepInput) (BirthdaySweepResult, error) {
	return dateSweep(ctx, activities.AnniversaryJourney, AnniversarySweepWorkflow, act.AnniversaryBatch, DefaultAnniversaryDiscount, in)
}
