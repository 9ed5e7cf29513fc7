// Package worker builds the Temporal worker that runs every journey and its
// activities, from dependencies built once in cmd/tidings. `tidings worker`
// runs it against an external Temporal; `tidings dev` against the embedded
// one.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/workflows"
)

// Deps are what the journeys' activities act on.
type Deps struct {
	Store    activities.Store
	Sender   activities.Sender
	Settings activities.Settings
	// HTTP posts care-team webhooks; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Journeys are the operator's journey parameters, which the sweeps read
	// when they fire; nil means every default.
	Journeys workflows.Settings
	// Audiences, when set, has the refresh sweep record every segment's
	// and live campaign's audience size.
	Audiences activities.AudienceRecorder
	// Funnels, when set, has the refresh sweep keep every built-in
	// journey's funnel.
	Funnels activities.FunnelKeeper
	// Register, when set, adds further workflows and activities (campaign
	// sends, ...) to the same worker and task queue.
	Register func(sdkworker.Registry)
}

// Campaigns registers the campaign activities (Deps.Register), so the
// campaign workflows every worker runs can enter, gate, send and record:
// db evaluates audiences and branch conditions, send is the one send path.
func Campaigns(s activities.CampaignStore, db segment.DB, send activities.Sender) func(sdkworker.Registry) {
	return func(r sdkworker.Registry) {
		r.RegisterActivity(activities.NewCampaigns(s, db, send, nil))
	}
}

// Options size the worker. Zero values mean the defaults below.
type Options struct {
	TaskQueue string
	// MaxConcurrentActivities bounds activities in flight. Journey
	// activities spend their time waiting on PostgreSQL, SMTP and SMS APIs,
	// so this is well above the core count; the SMTP pool (not this) is what
	// bounds connections to the mail server. Default 64.
	MaxConcurrentActivities int
	// MaxConcurrentWorkflowTasks bounds workflow tasks in flight. They are
	// short CPU bursts (replaying a journey's few steps), so a small
	// multiple of the cores is enough. Default 16.
	MaxConcurrentWorkflowTasks int
	// ActivityPollers and WorkflowPollers are the long-poll connections per
	// kind. Two of each keeps a task waiting on the server for at most one
	// round trip without flooding the frontend. Default 4 and 2.
	ActivityPollers int
	WorkflowPollers int
	// StopTimeout is how long in-flight activities may finish after Run's
	// context ends; a send is at most an SMTP dialogue, so 30 s by default.
	StopTimeout time.Duration
	Logger      *slog.Logger
}

// Worker polls one task queue for journey workflows and activities.
type Worker struct {
	w   sdkworker.Worker
	log *slog.Logger
}

// New registers every journey (workflows.Register, from the registry) and
// the activities built from deps on a worker for opts.TaskQueue. Nothing polls until Run.
func New(c client.Client, deps Deps, opts Options) (*Worker, error) {
	if c == nil {
		return nil, errors.New("worker: a Temporal client is required")
	}
	if opts.TaskQueue == "" {
		return nil, errors.New("worker: task queue is required (TIDINGS_TEMPORAL_TASK_QUEUE)")
	}
	if deps.Store == nil || deps.Sender == nil {
		return nil, errors.New("worker: store and sender are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     orDefault(opts.MaxConcurrentActivities, 64),
		MaxConcurrentWorkflowTaskExecutionSize: orDefault(opts.MaxConcurrentWorkflowTasks, 16),
		MaxConcurrentActivityTaskPollers:       orDefault(opts.ActivityPollers, 4),
		MaxConcurrentWorkflowTaskPollers:       orDefault(opts.WorkflowPollers, 2),
		WorkerStopTimeout:                      orDefault(opts.StopTimeout, 30*time.Second),
	})
	workflows.Register(w)
	workflows.RegisterActivities(w, deps.Journeys)
	acts := activities.New(deps.Store, deps.Sender, deps.HTTP, deps.Settings)
	if deps.Audiences != nil {
		activities.MeasureAudiences(acts, deps.Audiences)
	}
	if deps.Funnels != nil {
		activities.KeepFunnels(acts, deps.Funnels)
	}
	w.RegisterActivity(acts)
	if deps.Register != nil {
		deps.Register(w)
	}
	return &Worker{w: w, log: log.With("task_queue", opts.TaskQueue)}, nil
}

// Run polls until ctx ends, then stops taking new tasks and waits up to the
// stop timeout for in-flight activities before returning.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	w.log.InfoContext(ctx, "worker started")
	<-ctx.Done()
	w.log.Info("worker stopping; finishing in-flight activities")
	w.w.Stop()
	w.log.Info("worker stopped")
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
