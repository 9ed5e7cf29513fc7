package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/demo"
	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/devstack"
	"github.com/tidingsdev/tidings/worker"
)

func newDevCmd(a *app) *cobra.Command {
	var (
		opt       devstack.Options
		withDemo  bool
		customers int
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything on this machine: Temporal, worker, API, mail catcher (and a demo)",
		Long: `Run the whole of Tidings in one process against the local PostgreSQL: the
schema is migrated (the database created if missing), an embedded Temporal
server keeps journeys durable in the data directory (SQLite; --persistence
postgres keeps them in PostgreSQL instead) and serves its Web UI, and the
worker, the event router, the HTTP API and the default schedules start.

Mail and SMS go to a built-in catcher whose pages are on the API server under
/dev/ (unless TIDINGS_SMTP_URL or TIDINGS_SMS_BASE_URL name a real server).
Quiet hours apply as in production (TIDINGS_QUIET_HOURS).

--demo loads a demo company (about 1,000 customers in en, zh-CN and zh-TW
across time zones, with purchase histories), posts sign-ups and deliveries
and runs the birthday and win-back sweeps with waits shortened to minutes.
Loading it again changes nothing; each start picks customers not used yet.

Ctrl-C or SIGTERM stops everything cleanly; journeys waiting on a timer carry
on after the next start.`,
		Example: `  tidings dev --demo
  tidings dev --persistence postgres --data-dir /tmp/tidings-dev
  TIDINGS_SMTP_URL=smtp://user:pass@mail.example.com:587 tidings dev`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if opt.Persistence != devserver.SQLite && opt.Persistence != devserver.Postgres {
				return withCode(exitUsage, fmt.Errorf("--persistence %q: must be %s or %s", opt.Persistence, devserver.SQLite, devserver.Postgres))
			}
			opt.Config, opt.Log = a.cfg, a.log
			if a.explicit(cmd, "TIDINGS_SMTP_URL", "smtp-url") && !devstack.IsCatcher(a.cfg.SMTPURL, opt.SMTPAddr) {
				opt.SMTPAddr = ""
			}
			opt.KeepSMSBaseURL = a.explicit(cmd, "TIDINGS_SMS_BASE_URL", "sms-base-url")
			opt.KeepPublicURL = a.explicit(cmd, "TIDINGS_PUBLIC_URL", "public-url")
			opt.KeepSiteURL = a.explicit(cmd, "TIDINGS_SITE_URL", "site-url")
			defer takeTerminal(a.stdin)()
			stack, err := devstack.Start(ctx, opt)
			if err != nil {
				return err
			}
			defer stack.Close()
			ro := devstack.RunOptions{Worker: worker.Options{StopTimeout: 10 * time.Second}, Out: a.stdout}
			if withDemo {
				ro.Demo = &demo.Options{Customers: customers, QuietHours: a.cfg.QuietHours}
			}
			return stack.Run(ctx, ro)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&withDemo, "demo", false, "load the demo company and run its journeys with waits of minutes")
	f.IntVar(&customers, "demo-customers", demo.DefaultCustomers, "size of the demo company")
	f.StringVar(&opt.DataDir, "data-dir", devserver.DefaultDataDir, "directory for Temporal's SQLite file and the dev API key")
	f.StringVar(&opt.Persistence, "persistence", devserver.SQLite, "where the embedded Temporal keeps state: sqlite (faster, see docs/dev.md) or postgres")
	f.IntVar(&opt.TemporalPort, "temporal-port", devstack.DefaultTemporalPort, "Temporal frontend port (0: any free port)")
	f.IntVar(&opt.UIPort, "ui-port", devstack.DefaultUIPort, "Temporal Web UI port (0: any free port)")
	f.BoolVar(&opt.NoUI, "no-ui", false, "do not serve the Temporal Web UI")
	f.StringVar(&opt.SMTPAddr, "smtp-addr", devstack.DefaultSMTPAddr, "address of the mail catcher's SMTP server (port 0: any free port)")
	return cmd
}

// explicit reports whether a setting was given by its variable or flag
// rather than left at its default.
func (a *app) explicit(cmd *cobra.Command, env, flag string) bool {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return true
	}
	return a.getenv(env) != ""
}
