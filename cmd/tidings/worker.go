package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/worker"
)

func newWorkerCmd(a *app) *cobra.Command {
	var opts worker.Options
	var drainEvery time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the journeys against an external Temporal server",
		Long: `Run the journey worker: it polls the Temporal task queue for journey
workflows (onboarding, win-back, survey follow-up, the birthday and win-back
sweeps, care sends) and their activities, and sends through the one send path.
It also drains the event outbox, delivering stored events to the journeys.

The server is TIDINGS_TEMPORAL_ADDRESS in TIDINGS_TEMPORAL_NAMESPACE; set
TIDINGS_TEMPORAL_TLS=true for TLS, or TIDINGS_TEMPORAL_API_KEY for Temporal
Cloud (implies TLS). On SIGTERM or Ctrl-C the worker stops taking tasks and
waits for in-flight activities (--stop-timeout) before exiting.`,
		Example: `  tidings worker
  TIDINGS_TEMPORAL_ADDRESS=my-ns.a1b2c.tmprl.cloud:7233 TIDINGS_TEMPORAL_NAMESPACE=my-ns.a1b2c \
    TIDINGS_TEMPORAL_API_KEY=... tidings worker --max-activities 128`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			send, closeSend, err := a.sendPath(s)
			if err != nil {
				return err
			}
			defer closeSend()
			c, err := a.dialTemporal(ctx)
			if err != nil {
				return err
			}
			defer c.Close()

			opts.TaskQueue, opts.Logger = a.cfg.TemporalTaskQueue, a.log
			w, err := worker.New(c, a.journeyDeps(s, send), opts)
			if err != nil {
				return err
			}
			r := router.New(s, c, router.Options{TaskQueue: a.cfg.TemporalTaskQueue, Params: a.journeyParams(), Log: a.log})
			go r.Run(ctx, drainEvery)
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

// dialTemporal connects to the configured Temporal frontend; Temporal's own
// logs go through the process's slog logger.
func (a *app) dialTemporal(ctx context.Context) (client.Client, error) {
	o := client.Options{
		HostPort:  a.cfg.TemporalAddress,
		Namespace: a.cfg.TemporalNamespace,
		Logger:    log.NewStructuredLogger(a.log),
	}
	if a.cfg.TemporalTLS || a.cfg.TemporalAPIKey != "" {
		o.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if a.cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(a.cfg.TemporalAPIKey)
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (namespace %s; set TIDINGS_TEMPORAL_ADDRESS): %w",
			a.cfg.TemporalAddress, a.cfg.TemporalNamespace, err)
	}
	return c, nil
}

// sendPath builds the one send path from configuration: templates, the SMTP
// pool, the SMS provider and the delivery policy. The returned func closes
// the SMTP connections.
func (a *app) sendPath(s *store.Store) (*delivery.Service, func(), error) {
	set, err := a.templateSet()
	if err != nil {
		return nil, nil, err
	}
	topics, err := a.topics()
	if err != nil {
		return nil, nil, err
	}
	mailer, err := email.New(email.Config{
		URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, FromName: a.cfg.MailFromName, ReplyTo: a.cfg.MailReplyTo,
		Connections: a.cfg.SMTPConnections, Logger: a.log,
	})
	if err != nil {
		return nil, nil, withCode(exitUsage, err)
	}
	texter, err := sms.New(sms.Config{
		BaseURL: a.cfg.SMSBaseURL, AccountSID: a.cfg.SMSAccountSID, AuthToken: a.cfg.SMSAuthToken, From: a.cfg.SMSFrom,
	})
	if err != nil {
		_ = mailer.Close()
		return nil, nil, withCode(exitUsage, err)
	}
	svc, err := delivery.New(s, set, mailer, texter, delivery.Options{
		Topics: topics, QuietHours: a.cfg.QuietHours, DefaultLocale: a.cfg.DefaultLocale, PublicURL: a.cfg.PublicURL,
		UnsubscribeMailto: a.cfg.UnsubscribeMail,
		Company:           a.company(),
		Signer:            token.NewSigner(a.cfg.SigningSecret),
		Logger:            a.log,
	})
	if err != nil {
		_ = mailer.Close()
		return nil, nil, withCode(exitUsage, err)
	}
	return svc, func() { _ = mailer.Close() }, nil
}

// journeyDeps is what the journey and campaign activities act on.
func (a *app) journeyDeps(s *store.Store, send activities.Sender) worker.Deps {
	return worker.Deps{
		Store:  s,
		Sender: send,
		Settings: activities.Settings{
			CareTeamEmail:  a.cfg.CareTeamEmail,
			CareWebhookURL: a.cfg.CareWebhookURL,
			ReviewURL:      a.cfg.ReviewURL,
			CouponSecret:   []byte(a.cfg.SigningSecret),
		},
		Register: worker.Campaigns(s, s.Pool(), send),
	}
}
