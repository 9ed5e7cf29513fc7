package manage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Store is what applying and operating campaigns needs of the system of
// record; *store.Store implements it.
type Store interface {
	GetCampaign(ctx context.Context, name string) (store.Campaign, error)
	CampaignVersion(ctx context.Context, name string, version int) (store.CampaignVersion, error)
	ApplyCampaign(ctx context.Context, description, triggerKind string, v store.CampaignVersion) (store.CampaignVersion, string, error)
	SetCampaignStatus(ctx context.Context, name, status string, at time.Time) (store.Campaign, error)
	CampaignGateWaits(ctx context.Context, campaign string) ([]string, error)
	ForgetCampaignGateWait(ctx context.Context, campaign, workflowID string) error
}

// Temporal is what the campaign triggers need of a Temporal client;
// client.Client implements it.
type Temporal interface {
	ScheduleClient() client.ScheduleClient
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Trigger outcomes, beside store.Inserted/Updated/Unchanged for versions.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Paused    = "paused"
	Resumed   = "resumed"
	Deleted   = "deleted"
	// Stopped: an archived campaign's once runner was stopped, or its
	// events no longer start runs.
	Stopped = "stopped"
	// Routed: an event trigger lives in event routing, not in Temporal.
	Routed = "routed"
)

// ErrArchived refuses to pause or resume an archived campaign; applying its
// file again brings it back.
var ErrArchived = errors.New("campaign is archived; apply its file again to bring it back")

// Manager applies campaign versions and keeps each campaign's trigger in
// Temporal in step with its status: a Temporal Schedule for a schedule
// trigger (paused with the campaign, deleted when archived), a runner
// workflow started at a once trigger's time, nothing for an event trigger
// (the router starts runs as events arrive).
type Manager struct {
	store     Store
	temporal  Temporal
	taskQueue string
	now       func() time.Time
}

// Option adjusts a Manager.
type Option func(*Manager)

// WithClock sets the clock pauses, resumes and once times are read by
// (default time.Now); tests move it.
func WithClock(now func() time.Time) Option { return func(m *Manager) { m.now = now } }

// New returns a Manager that starts campaign workflows on taskQueue.
func New(s Store, t Temporal, taskQueue string, opts ...Option) *Manager {
	m := &Manager{store: s, temporal: t, taskQueue: taskQueue, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Trigger is the state of a campaign's trigger after an operation.
type Trigger struct {
	Kind string `json:"kind"`
	// ID is the Temporal Schedule (schedule) or runner workflow (once).
	ID      string `json:"id,omitempty"`
	Outcome string `json:"outcome"`
	// StartsAt is when a once runner starts.
	StartsAt time.Time `json:"starts_at,omitzero"`
}

// Applied is what applying a file did.
type Applied struct {
	Campaign store.Campaign `json:"campaign"`
	Version  int            `json:"version"`
	// Outcome is store.Inserted, store.Updated or store.Unchanged.
	Outcome string  `json:"outcome"`
	Trigger Trigger `json:"trigger"`
}

// Apply stores the file as the campaign's next version (nothing when it is
// unchanged) and brings its trigger in step. A new version of a once
// campaign replaces the previous version's runner if that has not finished;
// runs already started keep the version they started with. A once time
// that has passed for every customer is refused before anything is
// written.
func (m *Manager) Apply(ctx context.Context, s *campaign.Spec, source string) (Applied, error) {
	cur, err := m.store.CampaignVersion(ctx, s.Name, 0)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Applied{}, err
	}
	if changed := !exists || cur.Source != source; changed {
		if errs, _ := CheckOnce(s, m.now()); len(errs) > 0 {
			return Applied{}, errs
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return Applied{}, fmt.Errorf("encode campaign %s: %w", s.Name, err)
	}
	v, outcome, err := m.store.ApplyCampaign(ctx, s.Description, s.Trigger.Kind, store.CampaignVersion{Campaign: s.Name, Source: source, Spec: raw})
	if err != nil {
		return Applied{}, err
	}
	if exists && outcome != store.Unchanged {
		if _, err := m.terminateRunner(ctx, s.Name, cur.Version, fmt.Sprintf("superseded by version %d", v.Version)); err != nil {
			return Applied{}, err
		}
	}
	c, err := m.store.GetCampaign(ctx, s.Name)
	if err != nil {
		return Applied{}, err
	}
	t, err := m.sync(ctx, c, s)
	if err != nil {
		return Applied{}, fmt.Errorf("campaign %s version %d is stored; its trigger is not (run apply again): %w", s.Name, v.Version, err)
	}
	return Applied{Campaign: c, Version: v.Version, Outcome: outcome, Trigger: t}, nil
}

// Changed is what a status change did.
type Changed struct {
	Campaign store.Campaign `json:"campaign"`
	Spec     campaign.Spec  `json:"-"`
	Trigger  Trigger        `json:"trigger"`
	// Missed lists the schedule firings that fell in the pause; on resume
	// the latest runs now if it is at most late_after old (CaughtUp), the
	// others are skipped.
	Missed   []time.Time `json:"missed,omitempty"`
	CaughtUp time.Time   `json:"caught_up,omitzero"`
	// Woken counts the runs and firings waiting at the campaign's gate
	// that a resume or an archive woke, so they act now; NotWoken those
	// that could not be reached (they check again within CampaignGatePoll,
	// or when the command is run again), with the first reason.
	Woken       int    `json:"woken"`
	NotWoken    int    `json:"not_woken,omitempty"`
	NotWokenWhy string `json:"not_woken_why,omitempty"`
}

// SetStatus pauses (campaign.StatusPaused), resumes (StatusActive) or
// archives a campaign and its trigger. A paused campaign sends nothing: its
// schedule is paused, and runs (those under way and those events start
// meanwhile) wait at their next send. On resume, a send that fell due more
// than the campaign's late_after ago is skipped and recorded rather than
// sent late; of the schedule firings the pause missed, the latest runs now
// if it is at most late_after old. Archiving deletes the schedule, stops a
// once runner and ends runs at their next send. Unknown campaigns are
// store.ErrNotFound.
func (m *Manager) SetStatus(ctx context.Context, name, status string) (Changed, error) {
	c, err := m.store.GetCampaign(ctx, name)
	if err != nil {
		return Changed{}, err
	}
	if c.Status == campaign.StatusArchived && status != campaign.StatusArchived {
		return Changed{}, fmt.Errorf("%s: %w", name, ErrArchived)
	}
	v, err := m.store.CampaignVersion(ctx, name, 0)
	if err != nil {
		return Changed{}, err
	}
	var s campaign.Spec
	if err := json.Unmarshal(v.Spec, &s); err != nil {
		return Changed{}, fmt.Errorf("campaign %s version %d: %w", name, v.Version, err)
	}
	pausedAt := c.PausedAt
	resuming := c.Status == campaign.StatusPaused && status == campaign.StatusActive
	if c, err = m.store.SetCampaignStatus(ctx, name, status, m.now()); err != nil {
		return Changed{}, err
	}
	t, err := m.sync(ctx, c, &s)
	if err != nil {
		return Changed{}, fmt.Errorf("campaign %s is %s; its trigger is not yet (run the command again): %w", name, status, err)
	}
	out := Changed{Campaign: c, Spec: s, Trigger: t}
	if resuming || status == campaign.StatusArchived {
		if err := m.wake(ctx, &out); err != nil {
			return out, err
		}
	}
	if resuming && pausedAt != nil && s.Trigger.Kind == campaign.TriggerSchedule {
		if err := m.catchUp(ctx, &out, *pausedAt); err != nil {
			return out, err
		}
	}
	return out, nil
}

// wakeAtOnce bounds the signals in flight while waking a campaign's runs.
const wakeAtOnce = 16

// wake signals every workflow the campaign's gate noted as waiting (a run
// at a send step, a firing between pages), so a resume sends what is due
// within seconds and an archive ends them, instead of at their next poll.
// A workflow that no longer exists is forgotten; one that cannot be reached
// is counted and stays noted, for the next poll or the next resume.
func (m *Manager) wake(ctx context.Context, ch *Changed) error {
	ids, err := m.store.CampaignGateWaits(ctx, ch.Campaign.Name)
	if err != nil {
		return err
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, wakeAtOnce)
	)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := m.temporal.SignalWorkflow(ctx, id, "", workflows.CampaignWakeSignal, nil)
			var notFound *serviceerror.NotFound
			if errors.As(err, &notFound) {
				err = m.store.ForgetCampaignGateWait(ctx, ch.Campaign.Name, id)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				if ch.NotWoken++; ch.NotWokenWhy == "" {
					ch.NotWokenWhy = err.Error()
				}
			case notFound == nil:
				ch.Woken++
			}
		}()
	}
	wg.Wait()
	return nil
}

// catchUp lists the firings a paused schedule missed and runs the latest
// now when it is at most late_after old, so a short pause across a firing
// delays it instead of losing it, and a long one does not send stale news.
func (m *Manager) catchUp(ctx context.Context, ch *Changed, pausedAt time.Time) error {
	now := m.now()
	sched, err := spec.ParseCron(ch.Spec.Trigger.Cron)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(orUTC(ch.Spec.Trigger.Zone))
	if err != nil {
		return err
	}
	for at := sched.Next(pausedAt.In(loc)); !at.IsZero() && !at.After(now) && len(ch.Missed) < 1000; at = sched.Next(at) {
		ch.Missed = append(ch.Missed, at)
	}
	if len(ch.Missed) == 0 {
		return nil
	}
	last := ch.Missed[len(ch.Missed)-1]
	if now.Sub(last) > lateAfter(&ch.Spec) {
		return nil
	}
	id := workflows.CampaignScheduleID(ch.Campaign.Name)
	if err := m.temporal.ScheduleClient().GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		return fmt.Errorf("run the firing of %s missed during the pause: %w", last.Format(time.RFC3339), err)
	}
	ch.CaughtUp = last
	return nil
}

// sync brings the campaign's trigger in Temporal in step with its current
// version and status. It changes nothing that is already right.
func (m *Manager) sync(ctx context.Context, c store.Campaign, s *campaign.Spec) (Trigger, error) {
	t := Trigger{Kind: s.Trigger.Kind}
	if c.Status == campaign.StatusArchived {
		deleted, err := m.deleteSchedule(ctx, c.Name)
		if err != nil {
			return t, err
		}
		stopped, err := m.terminateRunner(ctx, c.Name, c.CurrentVersion, "campaign archived")
		if err != nil {
			return t, err
		}
		switch t.Outcome = Unchanged; s.Trigger.Kind {
		case campaign.TriggerSchedule:
			t.ID = workflows.CampaignScheduleID(c.Name)
			if deleted {
				t.Outcome = Deleted
			}
		case campaign.TriggerOnce:
			t.ID = workflows.CampaignRunnerID(c.Name, c.CurrentVersion)
			if stopped {
				t.Outcome = Stopped
			}
		default:
			t.Outcome = Stopped
		}
		return t, nil
	}
	if s.Trigger.Kind == campaign.TriggerSchedule {
		t.ID = workflows.CampaignScheduleID(c.Name)
		out, err := m.ensureSchedule(ctx, c, s)
		t.Outcome = out
		return t, err
	}
	// The trigger may have been a schedule in an earlier version.
	if _, err := m.deleteSchedule(ctx, c.Name); err != nil {
		return t, err
	}
	if s.Trigger.Kind == campaign.TriggerEvent {
		t.Outcome = Routed
		return t, nil
	}
	t.ID, t.StartsAt = workflows.CampaignRunnerID(c.Name, c.CurrentVersion), onceStart(s.Trigger)
	out, err := m.ensureRunner(ctx, c, t)
	t.Outcome = out
	return t, err
}

// scheduleMemo is the memo key on a campaign schedule's action holding a
// hash of what it was created from, so an unchanged trigger is left alone.
const scheduleMemo = "tidings_campaign_trigger"

func (m *Manager) scheduleOptions(c store.Campaign, s *campaign.Spec) client.ScheduleOptions {
	input := workflows.CampaignRunnerInput{Campaign: c.Name}
	zone := orUTC(s.Trigger.Zone)
	sum := sha256.Sum256(fmt.Appendf(nil, "%q %q %s %q %q %+v", s.Trigger.Cron, zone, lateAfter(s), m.taskQueue, workflows.CampaignRunnerWorkflow, input))
	return client.ScheduleOptions{
		ID:   workflows.CampaignScheduleID(c.Name),
		Spec: client.ScheduleSpec{CronExpressions: []string{s.Trigger.Cron}, TimeZoneName: zone},
		Action: &client.ScheduleWorkflowAction{
			// Temporal appends the scheduled time, so each firing has its
			// own ID, from which its entries' run IDs follow: a firing
			// retried sends nobody twice.
			ID:        "campaign/" + c.Name + "/fire",
			Workflow:  workflows.CampaignRunnerWorkflow,
			Args:      []any{input},
			TaskQueue: m.taskQueue,
			Memo:      map[string]any{scheduleMemo: hex.EncodeToString(sum[:16])},
		},
		// A firing still running (paused) when the next is due makes the
		// next one pointless: it would reach the same customers.
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		// A firing missed while Temporal was down may start as late as a
		// send may be after a pause.
		CatchupWindow: lateAfter(s),
		Paused:        c.Status == campaign.StatusPaused,
		Note:          "campaign " + c.Name,
	}
}

// ensureSchedule creates or updates the campaign's schedule and sets its
// paused state; one that is already right is left alone.
func (m *Manager) ensureSchedule(ctx context.Context, c store.Campaign, s *campaign.Spec) (string, error) {
	sc := m.temporal.ScheduleClient()
	opts := m.scheduleOptions(c, s)
	h := sc.GetHandle(ctx, opts.ID)
	desc, err := h.Describe(ctx)
	if isNotFound(err) {
		if _, err := sc.Create(ctx, opts); err != nil {
			return "", fmt.Errorf("create schedule %s: %w", opts.ID, err)
		}
		return Created, nil
	}
	if err != nil {
		return "", fmt.Errorf("describe schedule %s: %w", opts.ID, err)
	}
	wantHash := opts.Action.(*client.ScheduleWorkflowAction).Memo[scheduleMemo]
	paused := desc.Schedule.State != nil && desc.Schedule.State.Paused
	switch {
	case appliedHash(desc) != wantHash:
		err := h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			sched.Action, sched.Spec = opts.Action, &opts.Spec
			sched.Policy = &client.SchedulePolicies{Overlap: opts.Overlap, CatchupWindow: opts.CatchupWindow}
			sched.State = &client.ScheduleState{Paused: opts.Paused, Note: opts.Note}
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		}})
		if err != nil {
			return "", fmt.Errorf("update schedule %s: %w", opts.ID, err)
		}
		return Updated, nil
	case paused == opts.Paused:
		return Unchanged, nil
	case opts.Paused:
		if err := h.Pause(ctx, client.SchedulePauseOptions{Note: "campaign paused"}); err != nil {
			return "", fmt.Errorf("pause schedule %s: %w", opts.ID, err)
		}
		return Paused, nil
	default:
		if err := h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: "campaign resumed"}); err != nil {
			return "", fmt.Errorf("unpause schedule %s: %w", opts.ID, err)
		}
		return Resumed, nil
	}
}

// appliedHash reads the hash a schedule was last applied with ("" when it
// has none).
func appliedHash(d *client.ScheduleDescription) (hash string) {
	if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		if p, ok := a.Memo[scheduleMemo].(*commonpb.Payload); ok {
			_ = converter.GetDefaultDataConverter().FromPayload(p, &hash)
		}
	}
	return hash
}

// deleteSchedule deletes the campaign's schedule, reporting whether there
// was one. Firings already running finish.
func (m *Manager) deleteSchedule(ctx context.Context, name string) (bool, error) {
	id := workflows.CampaignScheduleID(name)
	return existed(m.temporal.ScheduleClient().GetHandle(ctx, id).Delete(ctx), "delete schedule "+id)
}

// ensureRunner starts the once runner of the current version, delayed to
// its time. A runner of that version that exists or has finished is left
// alone; one that was stopped (archived, then applied again) starts anew.
func (m *Manager) ensureRunner(ctx context.Context, c store.Campaign, t Trigger) (string, error) {
	_, err := m.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    t.ID,
		TaskQueue:             m.taskQueue,
		StartDelay:            max(t.StartsAt.Sub(m.now()), 0),
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		// Tell "already waiting or done" from "started now".
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.CampaignRunnerWorkflow, workflows.CampaignRunnerInput{Campaign: c.Name, Version: c.CurrentVersion})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return Unchanged, nil
	case err != nil:
		return "", fmt.Errorf("start once runner %s: %w", t.ID, err)
	}
	return Created, nil
}

// terminateRunner stops a once runner of the given version that has not
// finished, reporting whether there was one. Runs it already started keep
// going on their version.
func (m *Manager) terminateRunner(ctx context.Context, name string, version int, reason string) (bool, error) {
	if version <= 0 {
		return false, nil
	}
	id := workflows.CampaignRunnerID(name, version)
	return existed(m.temporal.TerminateWorkflow(ctx, id, "", reason), "stop once runner "+id)
}

// isNotFound reports whether Temporal answered that what was asked for
// does not exist.
func isNotFound(err error) bool {
	var notFound *serviceerror.NotFound
	return errors.As(err, &notFound)
}

// existed reads what Temporal answered to removing something: whether it
// was there (not found is no failure), or the failure, naming what.
func existed(err error, what string) (bool, error) {
	switch {
	case isNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return true, nil
}
