package main

import (
	"crypto/tls"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/schedules"
	"github.com/tidingsdev/tidings/internal/token"
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

Create a key for clients with "tidings apikeys create NAME".`,
		Example: `  tidings api
  TIDINGS_API_ADDR=0.0.0.0:8080 TIDINGS_PUBLIC_URL=https://news.example.com tidings api`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			c, err := a.dialTemporal(ctx)
			if err != nil {
				a.log.Warn("Temporal unreachable; events will wait in the outbox until it is back", "err", err)
				if c, err = a.lazyTemporal(); err != nil {
					return err
				}
			} else if created, err := schedules.EnsureDefaults(ctx, c.ScheduleClient(), a.cfg.TemporalTaskQueue); err != nil {
				a.log.Warn("default schedules not created", "err", err)
			} else if len(created) > 0 {
				a.log.Info("default schedules created", "schedules", created)
			}
			defer c.Close()

			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			r := router.New(s, c, router.Options{TaskQueue: a.cfg.TemporalTaskQueue, Params: a.journeyParams(), Log: a.log, Metrics: router.NewMetrics(reg)})
			go r.Run(ctx, drainEvery)
			topics, err := a.topics()
			if err != nil {
				return err
			}
			srv := api.New(api.Deps{Store: s, Router: r, Signer: token.NewSigner(a.cfg.SigningSecret), Log: a.log, Registry: reg},
				api.Options{DefaultRegion: a.cfg.DefaultRegion, MaxBodyBytes: maxBody, Topics: topics})
			return api.ListenAndServe(ctx, a.cfg.APIAddr, srv, grace, a.log)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&maxBody, "max-body", 4<<20, "largest request body in bytes; larger ones get 413")
	f.DurationVar(&grace, "shutdown-grace", 20*time.Second, "how long requests in flight may finish after SIGTERM")
	f.DurationVar(&drainEvery, "outbox-interval", 5*time.Second, "how often stored events not yet routed are delivered to journeys")
	return cmd
}

// lazyTemporal is a client that connects on first use, so the API can start
// (and store events) while Temporal is down.
func (a *app) lazyTemporal() (client.Client, error) {
	o := client.Options{HostPort: a.cfg.TemporalAddress, Namespace: a.cfg.TemporalNamespace, Logger: log.NewStructuredLogger(a.log)}
	if a.cfg.TemporalTLS || a.cfg.TemporalAPIKey != "" {
		o.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if a.cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(a.cfg.TemporalAPIKey)
	}
	return client.NewLazyClient(o)
}
