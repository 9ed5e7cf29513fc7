package workflows

import "go.temporal.io/sdk/workflow"

// DefaultAnniversaryDiscount is the thank-you coupon's discount.
const DefaultAnniversaryDiscount = 10

// AnniversarySweep (registered as AnniversarySweepWorkflow) thanks every
// customer on the anniversary of their first purchase, in their own time
// zone, from the send minute on (default 09:00), with a coupon; the first
// year's purchase has none yet. It runs from a schedule like the birthday
// sweep and is as idempotent: keys anniversary/<customer>/<year>.
func AnniversarySweep(ctx workflow.Context, in BirthdaySweepInput) (BirthdaySweepResult, error) {
	return dateSweep(ctx, AnniversarySweepWorkflow, act.AnniversaryBatch, DefaultAnniversaryDiscount, in)
}
