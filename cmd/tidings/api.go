package main

import (
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
worker) drains. On first start the default schedules are created. On SIGTERM
or Ctrl-C the server stops accepting connections and lets requests in flight
finish (--shutdown-grace).

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
			if _, err := a.store(ctx); err != nil {
				return err
			}
			if c, err := a.parts.Temporal(ctx); err != nil {
				a.log.Warn("Temporal unreachable; events will wait in the outbox until it is back", "err", err)
				if _, err := a.parts.LazyTemporal(); err != nil {
					return err
				}
			} else if created, err := schedules.EnsureDefaults(ctx, c.ScheduleClient(), a.cfg.TemporalTaskQueue); err != nil {
				a.log.Warn("default schedules not created", "err", err)
			} else if len(created) > 0 {
				a.log.Info("default schedules created", "schedules", created)
			}
			r, err := a.parts.Router(ctx)
			if err != nil {
				return err
			}
			go r.Run(ctx, drainEvery)
			srv, err := a.parts.API(ctx, api.Options{MaxBodyBytes: maxBody})
			if err != nil {
				return err
			}
			return api.ListenAndServe(ctx, a.cfg.APIAddr, srv, grace, a.log)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&maxBody, "max-body", 4<<20, "largest request body in bytes; larger ones get 413")
	f.DurationVar(&grace, "shutdown-grace", 20*time.Second, "how long requests in flight may finish after SIGTERM")
	f.DurationVar(&drainEvery, "outbox-interval", 5*time.Second, "how often stored events not yet routed are delivered to journeys")
	return cmd
}
