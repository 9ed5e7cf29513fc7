package main

import (
	"time"

	"github.com/spf13/cobra"

	assembly "github.com/tidingsdev/tidings/internal/app"

	"github.com/tidingsdev/tidings/worker"
)

func newWorkerCmd(a *app) *cobra.Command {
	var opts worker.Options
	var drainEvery time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the journeys against an external Temporal server",
		Long: `Run the journey worker: it polls the Temporal task queue for the workflows
and activities of every journey, and sends through the one send path:

` + journeysHelp() + `

It also drains the event outbox, delivering stored events to the journeys.
The journeys' parameters come from the journeys: section of
TIDINGS_POLICY_FILE ("tidings journeys list" shows the values in force).

The server is TIDINGS_TEMPORAL_ADDRESS in TIDINGS_TEMPORAL_NAMESPACE; set
TIDINGS_TEMPORAL_TLS=true for TLS, or TIDINGS_TEMPORAL_API_KEY for Temporal
Cloud (implies TLS). Until the frontend answers and the namespace exists the
worker waits, retrying with backoff (1 s doubling to 30 s) and logging what
it waits for. /metrics, /healthz and /readyz are served on
TIDINGS_METRICS_ADDR. On SIGTERM or Ctrl-C the worker stops taking tasks and
waits for in-flight activities (--stop-timeout) before exiting; a batch (a
campaign or care send, a sweep) does not wait: it finishes the page in hand
and hands the rest back, and another worker resumes it within seconds.`,
		Example: `  tidings worker
  TIDINGS_TEMPORAL_ADDRESS=my-ns.a1b2c.tmprl.cloud:7233 TIDINGS_TEMPORAL_NAMESPACE=my-ns.a1b2c \
    TIDINGS_TEMPORAL_API_KEY=... tidings worker --max-activities 128`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := a.cfg.CheckProduction(); err != nil {
				return withCode(exitUsage, err)
			}
			// The database and the send path first: a mistake there is
			// reported at once, not after Temporal is found.
			if _, err := a.parts.SendPath(ctx); err != nil {
				return err
			}
			stopOps, err := a.parts.ServeOps(a.cfg.MetricsAddr)
			if err != nil {
				return err
			}
			defer stopOps()
			a.parts.SetWorkerState(assembly.WorkerWaiting)
			if _, err := a.parts.WaitForTemporal(ctx); err != nil {
				return ignoreStop(ctx, err)
			}
			w, err := a.parts.Worker(ctx, opts)
			if err != nil {
				return err
			}
			r, err := a.parts.Router(ctx)
			if err != nil {
				return err
			}
			defer runRouter(ctx, r, drainEvery)()
			a.parts.SetWorkerState(assembly.WorkerPolling)
			defer a.parts.SetWorkerState(assembly.WorkerStopped)
			return w.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.MaxConcurrentActivities, "max-activities", 64, "activities in flight at once (sends wait on I/O, so well above the core count)")
	f.IntVar(&opts.MaxConcurrentWorkflowTasks, "max-workflow-tasks", 16, "workflow tasks in flight at once")
	f.IntVar(&opts.ActivityPollers, "activity-pollers", 4, "long-poll connections for activity tasks")
	f.IntVar(&opts.WorkflowPollers, "workflow-pollers", 2, "long-poll connections for workflow tasks")
	f.DurationVar(&opts.StopTimeout, "stop-timeout", 30*time.Second, "how long in-flight activities may finish after SIGTERM")
	f.DurationVar(&drainEvery, "outbox-interval", 5*time.Second, "how often stored events not yet routed are delivered to journeys")
	return cmd
}
