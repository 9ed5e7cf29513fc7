package schedules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tidingsdev/tidings/workflows"
)

// definitionMemo is the memo key, on the scheduled workflow action, that
// holds a hash of the definition it was created from, so applying the same
// file again can tell "unchanged" without comparing Temporal's expanded form.
const definitionMemo = "tidings_schedule_definition"

// Applied outcomes.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// Result is what applying one schedule did.
type Result struct {
	ID      string
	Outcome string
}

// action returns the registered workflow name and its input, as the
// sweep's registry entry builds it from the schedule's fields.
func (s Schedule) action() (string, any) {
	j, ok := workflows.SweepKind(s.Run)
	if !ok {
		return "", nil // Parse refuses such a schedule
	}
	return j.Sweep.Name, j.Sweep.Input(s.sweepFields())
}

// definitionHash fingerprints everything Apply sends to Temporal except the
// paused state (compared on its own).
func (s Schedule) definitionHash(taskQueue string) string {
	name, input := s.action()
	b, _ := json.Marshal([]any{s.Spec(), s.Zone(), name, input, taskQueue, s.Catchup().String(), s.Note})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (s Schedule) options(taskQueue string) client.ScheduleOptions {
	name, input := s.action()
	return client.ScheduleOptions{
		ID:   s.ID,
		Spec: client.ScheduleSpec{CronExpressions: []string{s.Spec()}, TimeZoneName: s.Zone()},
		Action: &client.ScheduleWorkflowAction{
			// Temporal appends the scheduled time, so every run has its own
			// ID and a care send's run key follows from it.
			ID:        "schedule/" + s.ID,
			Workflow:  name,
			Args:      []any{input},
			TaskQueue: taskQueue,
			Memo:      map[string]any{definitionMemo: s.definitionHash(taskQueue)},
		},
		// A sweep still running when the next is due makes the next one
		// pointless: it would find the same customers.
		Overlap:       enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: s.Catchup(),
		Paused:        s.Paused,
		Note:          s.Note,
	}
}

// Apply creates every schedule of f that does not exist and updates those
// that differ; a schedule already as described is left untouched, so
// applying the same file twice changes nothing.
func Apply(ctx context.Context, sc client.ScheduleClient, f File, taskQueue string) ([]Result, error) {
	var out []Result
	for _, s := range f.Schedules {
		outcome, err := apply(ctx, sc, s, taskQueue)
		if err != nil {
			return out, fmt.Errorf("apply schedule %s: %w", s.ID, err)
		}
		out = append(out, Result{ID: s.ID, Outcome: outcome})
	}
	return out, nil
}

func apply(ctx context.Context, sc client.ScheduleClient, s Schedule, taskQueue string) (string, error) {
	opts := s.options(taskQueue)
	h := sc.GetHandle(ctx, s.ID)
	desc, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		if _, err := sc.Create(ctx, opts); err != nil {
			return "", err
		}
		return Created, nil
	}
	if err != nil {
		return "", err
	}
	if appliedHash(desc) == s.definitionHash(taskQueue) && desc.Schedule.State != nil && desc.Schedule.State.Paused == s.Paused {
		return Unchanged, nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			return &client.ScheduleUpdate{Schedule: &client.Schedule{
				Action: opts.Action,
				Spec:   &opts.Spec,
				Policy: &client.SchedulePolicies{Overlap: opts.Overlap, CatchupWindow: opts.CatchupWindow},
				State:  &client.ScheduleState{Paused: opts.Paused, Note: opts.Note},
			}}, nil
		},
	})
	if err != nil {
		return "", err
	}
	return Updated, nil
}

// appliedHash reads the definition hash a schedule was last applied with.
func appliedHash(d *client.ScheduleDescription) string {
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok {
		return ""
	}
	p, ok := a.Memo[definitionMemo].(*commonpb.Payload)
	if !ok {
		return ""
	}
	var h string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &h); err != nil {
		return ""
	}
	return h
}

// Defaults are the schedules every installation starts with, as the
// journeys declare them: the birthday sweep every hour (each customer is
// greeted in their own morning, so the sweep runs around the clock) and the
// win-back sweep once a day.
func Defaults() File {
	var f File
	for _, j := range workflows.Journeys() {
		if j.Sweep == nil || j.Sweep.Default == nil {
			continue
		}
		d := j.Sweep.Default
		f.Schedules = append(f.Schedules, Schedule{ID: d.ID, Cron: d.Cron, TimeZone: d.TimeZone, Run: j.Sweep.Kind, Note: d.Note})
	}
	slices.SortFunc(f.Schedules, func(a, b Schedule) int { return strings.Compare(a.ID, b.ID) })
	return f
}

// EnsureDefaults creates the default schedules that do not exist yet and
// never touches existing ones (an operator may have changed or paused them).
// The api, worker and dev commands call it at start.
func EnsureDefaults(ctx context.Context, sc client.ScheduleClient, taskQueue string) ([]string, error) {
	var created []string
	for _, s := range Defaults().Schedules {
		_, err := sc.Create(ctx, s.options(taskQueue))
		switch {
		case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		case err != nil:
			return created, fmt.Errorf("create default schedule %s: %w", s.ID, err)
		default:
			created = append(created, s.ID)
		}
	}
	return created, nil
}
