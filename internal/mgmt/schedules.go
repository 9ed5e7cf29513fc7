package mgmt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/schedules"
	"github.com/tidingsdev/tidings/internal/store"
)

// ScheduleSummary is one Temporal Schedule as a list shows it.
type ScheduleSummary struct {
	ID       string      `json:"id"`
	Workflow string      `json:"workflow"`
	Paused   bool        `json:"paused"`
	Next     []time.Time `json:"next"`
}

// Schedules lists the recurring work in Temporal with its next firings.
func (s *Service) Schedules(ctx context.Context) ([]ScheduleSummary, error) {
	c, err := s.engine(ctx)
	if err != nil {
		return nil, err
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: list schedules: %w", ErrNoEngine, err)
	}
	out := []ScheduleSummary{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		sum := ScheduleSummary{ID: e.ID, Workflow: e.WorkflowType.Name, Paused: e.Paused, Next: e.NextActionTimes}
		if sum.Next == nil {
			sum.Next = []time.Time{}
		}
		out = append(out, sum)
	}
	return out, nil
}

// ScheduleDetail is one schedule described: what it runs, in which zone,
// its state, what it has done and when it fires next.
type ScheduleDetail struct {
	ID        string `json:"id"`
	Workflow  string `json:"workflow,omitempty"`
	TaskQueue string `json:"task_queue,omitempty"`
	TimeZone  string `json:"time_zone"`
	Paused    bool   `json:"paused"`
	Note      string `json:"note,omitempty"`
	// Runs counts the actions taken, Skipped those skipped as overlapping
	// and Missed those that fell outside the catch-up window.
	Runs    int64       `json:"runs"`
	Skipped int64       `json:"skipped_overlapping"`
	Missed  int64       `json:"missed"`
	Recent  []time.Time `json:"recent"`
	// Ran are the recent actions' runs, oldest first, for a link to each.
	Ran  []ScheduleRun `json:"ran"`
	Next []time.Time   `json:"next"`
}

// ScheduleRun is one run a schedule started.
type ScheduleRun struct {
	At         time.Time `json:"at"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
}

// Schedule describes one schedule; an unknown ID is store.ErrNotFound.
func (s *Service) Schedule(ctx context.Context, id string) (ScheduleDetail, error) {
	c, err := s.engine(ctx)
	if err != nil {
		return ScheduleDetail{}, err
	}
	d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return ScheduleDetail{}, scheduleErr(id, err)
	}
	out := ScheduleDetail{ID: id, TimeZone: "UTC", Runs: int64(d.Info.NumActions), Skipped: int64(d.Info.NumActionsSkippedOverlap),
		Missed: int64(d.Info.NumActionsMissedCatchupWindow), Recent: []time.Time{}, Ran: []ScheduleRun{}, Next: d.Info.NextActionTimes}
	if d.Schedule.Spec != nil && d.Schedule.Spec.TimeZoneName != "" {
		out.TimeZone = d.Schedule.Spec.TimeZoneName
	}
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		out.Workflow, out.TaskQueue = fmt.Sprint(act.Workflow), act.TaskQueue
	}
	if st := d.Schedule.State; st != nil {
		out.Paused, out.Note = st.Paused, st.Note
	}
	for _, r := range d.Info.RecentActions {
		out.Recent = append(out.Recent, r.ScheduleTime)
		if w := r.StartWorkflowResult; w != nil {
			out.Ran = append(out.Ran, ScheduleRun{At: r.ActualTime, WorkflowID: w.WorkflowID, RunID: w.FirstExecutionRunID})
		}
	}
	if out.Next == nil {
		out.Next = []time.Time{}
	}
	return out, nil
}

// AppliedSchedule is one schedule of an applied file: what applying did
// (created, updated, unchanged; "valid" for a dry run) and its next
// firings in its own zone.
type AppliedSchedule struct {
	ID      string      `json:"id"`
	Outcome string      `json:"outcome"`
	Run     string      `json:"run"`
	Spec    string      `json:"spec"`
	Zone    string      `json:"time_zone"`
	Paused  bool        `json:"paused"`
	Next    []time.Time `json:"next"`
}

// ApplySchedules checks a schedules file (every problem located, the
// saved segments its care sends name) and creates or updates its
// schedules in Temporal; unchanged ones are left alone. With dryRun
// nothing reaches Temporal. Audited as schedule.apply.
func (s *Service) ApplySchedules(ctx context.Context, p access.Principal, f File, dryRun bool, preview int) ([]AppliedSchedule, error) {
	if preview < 0 || preview > 50 {
		return nil, fieldError("preview", "%d: want 0 to 50", preview)
	}
	sf, err := schedules.Parse(f.Name, f.Text)
	if err != nil {
		return nil, err
	}
	for _, sc := range sf.Schedules {
		if sc.Segment == "" {
			continue
		}
		if _, err := s.store.GetSegment(ctx, sc.Segment); errors.Is(err, store.ErrNotFound) {
			return nil, fieldError("schedules", "schedule %q: segment %q is not saved (save it with: tidings segments save FILE)", sc.ID, sc.Segment)
		} else if err != nil {
			return nil, err
		}
	}
	outcome := map[string]string{}
	if !dryRun {
		c, err := s.engine(ctx)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(sf.Schedules))
		for i, sc := range sf.Schedules {
			ids[i] = sc.ID
		}
		if err := s.audit(ctx, p, "schedule.apply", f.Name, map[string]any{"schedules": ids}); err != nil {
			return nil, err
		}
		res, err := schedules.Apply(ctx, c.ScheduleClient(), sf, s.taskQueue)
		for _, r := range res {
			outcome[r.ID] = r.Outcome
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]AppliedSchedule, 0, len(sf.Schedules))
	for _, sc := range sf.Schedules {
		a := AppliedSchedule{ID: sc.ID, Outcome: outcome[sc.ID], Run: sc.Run, Spec: sc.Spec(), Zone: sc.Zone(), Paused: sc.Paused}
		if dryRun {
			a.Outcome = "valid"
		}
		if a.Next, err = schedules.Preview(sc.Spec(), sc.Zone(), s.opt.Now(), preview); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ScheduleAction pauses, unpauses, triggers (runs once now) or deletes a
// schedule (action "pause", "unpause", "trigger", "delete"); note says why
// a pause or unpause was made. Audited as schedule.<action>; an unknown ID
// is store.ErrNotFound.
func (s *Service) ScheduleAction(ctx context.Context, p access.Principal, id, action, note string) error {
	if action != "pause" && action != "unpause" && action != "trigger" && action != "delete" {
		return fieldError("action", "%q: expected pause, unpause, trigger or delete", action)
	}
	c, err := s.engine(ctx)
	if err != nil {
		return err
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	if _, err := h.Describe(ctx); err != nil {
		return scheduleErr(id, err)
	}
	if err := s.audit(ctx, p, "schedule."+action, id, map[string]any{"note": note}); err != nil {
		return err
	}
	switch action {
	case "pause":
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
	case "unpause":
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
	case "trigger":
		err = h.Trigger(ctx, client.ScheduleTriggerOptions{})
	case "delete":
		err = h.Delete(ctx)
	}
	if err != nil {
		return scheduleErr(id, err)
	}
	return nil
}

// scheduleErr makes Temporal's not-found ours.
func scheduleErr(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no schedule %q: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("schedule %s: %w", id, err)
}

// engine is the Temporal client, for the actions that need it.
func (s *Service) engine(ctx context.Context) (client.Client, error) {
	return reach(ctx, s.temporal, ErrNoEngine)
}
