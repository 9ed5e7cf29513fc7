package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/store"
)

// BirthdaySweepWorkflow is the birthday sweep's registered workflow.
const BirthdaySweepWorkflow = "BirthdaySweep"

// birthdayJourney is the descriptor register.go lists.
func birthdayJourney() Journey {
	return Journey{
		Name:    activities.BirthdayJourney,
		Summary: "hourly sweep: a birthday greeting in local morning, with a coupon",
		Sweep: &Sweep{
			Workflow: Workflow{Name: BirthdaySweepWorkflow, Func: BirthdaySweep},
			Kind:     "birthday_sweep",
			Input:    func(SweepFields) any { return BirthdaySweepInput{} },
			Default:  &DefaultSchedule{ID: "birthday-sweep", Cron: "0 * * * *", TimeZone: "UTC", Note: "default: hourly birthday greetings"},
			Settings: dateSweepSettings,
		},
		Params:    dateSweepParams(DefaultBirthdayDiscount),
		Templates: []string{"birthday"},
	}
}

// dateSweepParams are the parameters of a date sweep (birthday,
// anniversary) and dateSweepSettings what they set.
func dateSweepParams(discount int) []Param {
	return []Param{
		TimeParam("send_time", DefaultBirthdayMinute, "local time greetings start; later sweeps the same local day catch up"),
		CountParam("discount_percent", discount, 1, 90, "the coupon's discount, in percent"),
		PoolParam("coupon_pool", "an imported coupon pool each greeting draws its code from; none: a code derived for the customer and year"),
	}
}

func dateSweepSettings(v Values) any {
	return BirthdaySweepInput{SendMinute: v.Int("send_time"), DiscountPercent: v.Int("discount_percent"), CouponPool: v.String("coupon_pool")}
}

// Birthday sweep defaults (BirthdaySweepInput's zero values).
const (
	DefaultBirthdayMinute   = 9 * 60
	DefaultBirthdayDiscount = 15
	DefaultSweepBatchSize   = 500
	// DefaultBatchesPerRun bounds one run's history; the sweep then
	// continues as new with its cursor.
	DefaultBatchesPerRun = 100
)

// BirthdaySweepInput is one hourly sweep of birthdays (or of purchase
// anniversaries: AnniversarySweep takes the same input). The schedule passes
// nothing; the cursor fields carry progress across continue-as-new.
type BirthdaySweepInput struct {
	// At is the instant whose local dates count; zero means the run's start.
	At time.Time `json:"at,omitzero"`
	// SendMinute is the local time greetings start, minutes after midnight;
	// default 540 (09:00). Later sweeps the same local day catch up.
	SendMinute      int `json:"send_minute,omitempty"`
	DiscountPercent int `json:"discount_percent,omitempty"`
	// CouponPool, when set, is the imported pool greetings draw codes from.
	CouponPool    string `json:"coupon_pool,omitempty"`
	BatchSize     int    `json:"batch_size,omitempty"`
	BatchesPerRun int    `json:"batches_per_run,omitempty"`

	Cursor store.BirthdayCursor `json:"cursor,omitzero"`
	Counts activities.Counts    `json:"counts,omitzero"`
}

// BirthdaySweepResult tallies the greetings of the whole sweep.
type BirthdaySweepResult struct {
	Counts  activities.Counts `json:"counts"`
	Batches int               `json:"batches"`
}

// BirthdaySweep (registered as BirthdaySweepWorkflow) greets everyone whose
// birthday it is in their own time zone, page by page. It is idempotent: the
// ledger key birthday/<customer>/<year> keeps a second sweep, a retry or a
// crash from greeting anyone twice.
func BirthdaySweep(ctx workflow.Context, in BirthdaySweepInput) (BirthdaySweepResult, error) {
	return dateSweep(ctx, activities.BirthdayJourney, BirthdaySweepWorkflow, act.BirthdayBatch, DefaultBirthdayDiscount, in)
}

// dateSweep pages the customers whose date it is (birthday, purchase
// anniversary) through batch, continuing as new as workflow name every
// BatchesPerRun pages.
func dateSweep(ctx workflow.Context, journey, name string, batch any, discount int, in BirthdaySweepInput) (BirthdaySweepResult, error) {
	if in.At.IsZero() {
		in.At = workflow.Now(ctx)
	}
	var cfg BirthdaySweepInput
	if err := sweepSettings(ctx, journey, &cfg); err != nil {
		return BirthdaySweepResult{Counts: in.Counts}, err
	}
	in.SendMinute, in.DiscountPercent = orDefault(in.SendMinute, cfg.SendMinute), orDefault(in.DiscountPercent, cfg.DiscountPercent)
	in.CouponPool = orDefault(in.CouponPool, cfg.CouponPool)
	perRun := orDefault(in.BatchesPerRun, DefaultBatchesPerRun)
	for n := 0; ; n++ {
		if n == perRun {
			return BirthdaySweepResult{}, workflow.NewContinueAsNewError(ctx, name, in)
		}
		var res activities.BirthdayBatchResult
		err := workflow.ExecuteActivity(withBatch(ctx), batch, activities.BirthdayBatchInput{
			At: in.At, SendMinute: orDefault(in.SendMinute, DefaultBirthdayMinute),
			DiscountPercent: orDefault(in.DiscountPercent, discount), CouponPool: in.CouponPool,
			Cursor: in.Cursor, BatchSize: orDefault(in.BatchSize, DefaultSweepBatchSize),
		}).Get(ctx, &res)
		if err != nil {
			return BirthdaySweepResult{Counts: in.Counts}, err
		}
		in.Cursor = res.Cursor
		in.Counts.Add(res.Counts)
		if res.Done {
			workflow.GetLogger(ctx).Info("date sweep done", "sweep", name, "sent", in.Counts.Sent, "skipped", in.Counts.Skipped,
				"failed", in.Counts.Failed, "deferred", in.Counts.Deferred)
			return BirthdaySweepResult{Counts: in.Counts, Batches: n + 1}, nil
		}
	}
}
