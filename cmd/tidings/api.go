package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/schedules"
)

func newAPICmd(a *app) *cobra.Command {
	var (
		maxBody    int64
		grace      time.Duration
		drainEvery time.Duration
	)
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the HTTP API, the public unsubscribe/preference/survey pages and /metrics",
		Long: `Serve the JSON API under /v1 (customers, events, consents; API-key auth), the
public pages customers reach from messages (/u/, /p/, /s/; signed links), the
OpenAPI document at /v1/openapi.json and Prometheus metrics at /metrics.

Events are stored in PostgreSQL before they are routed to journeys; when
Temporal is unreachable they wait in the outbox, which this process (and every
worker) drains. The API serves at once; it waits for Temporal in the
background (logging what it waits for; /healthz reports it) and then creates
the default schedules that do not exist. On SIGTERM or Ctrl-C the server stops
accepting connections and lets requests in flight finish (--shutdown-grace).

Create a key for clients with "tidings apikeys create NAME --role ROLE", and
users who sign in with "tidings users create EMAIL --role ROLE". Session
cookies are Secure when TIDINGS_PUBLIC_URL is https://.`,
		Example: `  tidings api
  TIDINGS_API_ADDR=0.0.0.0:8080 TIDINGS_PUBLIC_URL=https://news.example.com tidings api`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := a.cfg.CheckProduction(); err != nil {
				return withCode(exitUsage, err)
			}
			// Events are stored and wait in the outbox while Temporal is
			// away, so the API serves at once over a client that connects
			// when Temporal answers.
			if _, err := a.parts.LazyTemporal(); err != nil {
				return err
			}
			r, err := a.parts.Router(ctx)
			if err != nil {
				return err
			}
			srv, err := a.parts.API(ctx, api.Options{MaxBodyBytes: maxBody})
			if err != nil {
				return err
			}
			defer runRouter(ctx, r, drainEvery)()
			defer goUntilStop(ctx, a.ensureSchedules)()
			return api.ListenAndServe(ctx, a.cfg.APIAddr, srv, grace, a.log)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&maxBody, "max-body", 4<<20, "largest request body in bytes; larger ones get 413")
	f.DurationVar(&grace, "shutdown-grace", 20*time.Second, "how long requests in flight may finish after SIGTERM")
	f.DurationVar(&drainEvery, "outbox-interval", 5*time.Second, "how often stored events not yet routed are delivered to journeys")
	return cmd
}

// ensureSchedules waits for Temporal, then creates the default schedules
// that do not exist, retrying until it can or the command ends.
func (a *app) ensureSchedules(ctx context.Context) {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		c, err := a.parts.WaitForTemporal(ctx)
		if err != nil {
			return
		}
		created, err := schedules.EnsureDefaults(ctx, c.ScheduleClient(), a.cfg.TemporalTaskQueue)
		if err == nil {
			if len(created) > 0 {
				a.log.Info("default schedules created", "schedules", created)
			}
			return
		}
		a.log.Warn("default schedules not created yet", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
