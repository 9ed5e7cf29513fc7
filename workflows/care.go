package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// CareSendWorkflow is the care send's registered workflow.
const CareSendWorkflow = "CareSend"

// careJourney is the descriptor register.go lists: recurring care messages
// an operator schedules (run: care_send) with the template and audience.
func careJourney() Journey {
	return Journey{
		Name:    activities.CareJourney,
		Summary: "scheduled message to everyone, a tag or a saved segment",
		Sweep: &Sweep{
			Workflow: Workflow{Name: CareSendWorkflow, Func: CareSend},
			Kind:     "care_send",
			Fields:   []string{"template", "topic", "channel", "audience", "segment"},
			Input: func(f SweepFields) any {
				return CareSendInput{Template: f.Template, Topic: f.Topic, Channel: f.Channel, Tag: f.Audience, Segment: f.Segment}
			},
			Check: func(f SweepFields) []FieldError {
				var errs []FieldError
				if f.Template == "" {
					errs = append(errs, FieldError{"template", "is required for a care_send (the template to send)"})
				}
				if f.Channel != "" && f.Channel != delivery.Email && f.Channel != delivery.SMS {
					errs = append(errs, FieldError{"channel", fmt.Sprintf("%q is not email or sms", f.Channel)})
				}
				if f.Audience != "" && f.Segment != "" {
					errs = append(errs, FieldError{"segment", "give the audience as a tag (audience) or a saved segment (segment), not both"})
				}
				return errs
			},
		},
		Templates: []string{"care"},
	}
}

// Care send defaults (CareSendInput's zero values).
const (
	DefaultCareTopic = delivery.TopicCare
	// DefaultCarePasses bounds how many times a run comes back for
	// customers whose quiet hours deferred the message.
	DefaultCarePasses = 24
	// minCarePassGap keeps passes at least this far apart.
	minCarePassGap = 15 * time.Minute
)

// CareSendInput is one run of a recurring care message, usually started by a
// Temporal Schedule (`tidings schedules`). Pass and Cursor carry progress
// across continue-as-new.
type CareSendInput struct {
	// Template is required: the message to send.
	Template string `json:"template"`
	// Topic decides consent and caps; default care.
	Topic string `json:"topic,omitempty"`
	// Channel is email (default) or sms.
	Channel string `json:"channel,omitempty"`
	// Tag limits the audience to customers carrying it; Segment, instead,
	// to the members of a saved segment; neither means every customer.
	Tag     string         `json:"tag,omitempty"`
	Segment string         `json:"segment,omitempty"`
	Data    map[string]any `json:"data,omitempty"`
	// RunKey makes the run idempotent: keys are care/<run key>/<customer>.
	// Default: the workflow ID, which a schedule derives from the scheduled
	// time, so re-triggering the same run sends nothing twice.
	RunKey        string `json:"run_key,omitempty"`
	BatchSize     int    `json:"batch_size,omitempty"`
	BatchesPerRun int    `json:"batches_per_run,omitempty"`
	MaxPasses     int    `json:"max_passes,omitempty"`

	Cursor string `json:"cursor,omitempty"`
	Pass   int    `json:"pass,omitempty"`
	// Started is when the run's first workflow started.
	Started time.Time `json:"started,omitzero"`
	// Counts tallies the run; PassCounts the current pass, whose deferrals
	// decide whether another pass follows.
	Counts     activities.Counts `json:"counts,omitzero"`
	PassCounts activities.Counts `json:"pass_counts,omitzero"`
}

// CareSendResult tallies the run.
type CareSendResult struct {
	Counts activities.Counts `json:"counts"`
	Passes int               `json:"passes"`
}

// CareSend (registered as CareSendWorkflow) sends one template on one topic
// to an audience in batches. A pass visits every customer still due; when
// quiet hours deferred some, the run sleeps until the earliest allowed time
// and makes another pass, which only visits those without a final ledger
// row.
func CareSend(ctx workflow.Context, in CareSendInput) (CareSendResult, error) {
	if in.Template == "" {
		return CareSendResult{}, temporal.NewNonRetryableApplicationError("care send: template is required", activities.ErrInvalidInput, nil)
	}
	if in.Tag != "" && in.Segment != "" {
		return CareSendResult{}, temporal.NewNonRetryableApplicationError(
			"care send: give the audience as a tag or a segment, not both", activities.ErrInvalidInput, nil)
	}
	if in.Channel != "" && in.Channel != delivery.Email && in.Channel != delivery.SMS {
		return CareSendResult{}, temporal.NewNonRetryableApplicationError(
			"care send: channel "+in.Channel+" is neither email nor sms", activities.ErrInvalidInput, nil)
	}
	if in.RunKey == "" {
		in.RunKey = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	if in.Started.IsZero() {
		in.Started = workflow.GetInfo(ctx).WorkflowStartTime
	}
	perRun := orDefault(in.BatchesPerRun, DefaultBatchesPerRun)
	for batch := 0; ; batch++ {
		if batch == perRun {
			return CareSendResult{}, workflow.NewContinueAsNewError(ctx, CareSendWorkflow, in)
		}
		var res activities.CareBatchResult
		err := workflow.ExecuteActivity(withBatch(ctx), act.CareBatch, activities.CareBatchInput{
			RunKey: in.RunKey, Template: in.Template, Topic: orDefault(in.Topic, DefaultCareTopic),
			Channel: orDefault(in.Channel, delivery.Email), Tag: in.Tag, Segment: in.Segment, At: in.Started, Data: in.Data,
			Cursor: in.Cursor, BatchSize: orDefault(in.BatchSize, DefaultSweepBatchSize),
		}).Get(ctx, &res)
		if err != nil {
			return CareSendResult{Counts: in.Counts, Passes: in.Pass + 1}, err
		}
		in.Cursor = res.Cursor
		in.PassCounts.Add(res.Counts)
		in.Counts.Add(activities.Counts{Sent: res.Counts.Sent, Skipped: res.Counts.Skipped, Failed: res.Counts.Failed})
		if !res.Done {
			continue
		}
		if in.PassCounts.Deferred == 0 || in.Pass+1 >= orDefault(in.MaxPasses, DefaultCarePasses) {
			in.Counts.Deferred = in.PassCounts.Deferred
			if workflow.GetVersion(ctx, "care-tally-from-ledger", workflow.DefaultVersion, 1) == 1 {
				if err := in.tally(ctx); err != nil {
					return CareSendResult{Counts: in.Counts, Passes: in.Pass + 1}, err
				}
			}
			return CareSendResult{Counts: in.Counts, Passes: in.Pass + 1}, nil
		}
		wait := max(in.PassCounts.RetryAt.Sub(workflow.Now(ctx)), minCarePassGap)
		if err := workflow.Sleep(ctx, wait); err != nil {
			return CareSendResult{Counts: in.Counts, Passes: in.Pass + 1}, err
		}
		in.Pass++
		in.Cursor = ""
		in.PassCounts = activities.Counts{}
	}
}

// tally replaces the run's sent, skipped and failed counts with the
// ledger's rows created since the run started: a batch attempt cut short by
// a crashed worker took its count with it, though its messages went out.
func (in *CareSendInput) tally(ctx workflow.Context) error {
	var c activities.Counts
	if err := workflow.ExecuteActivity(withStore(ctx), act.CareTally, activities.CareTallyInput{
		RunKey: in.RunKey, Tag: in.Tag, Since: in.Started,
	}).Get(ctx, &c); err != nil {
		return err
	}
	in.Counts.Sent, in.Counts.Skipped, in.Counts.Failed = c.Sent, c.Skipped, c.Failed
	return nil
}
