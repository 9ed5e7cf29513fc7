package app

import (
	"context"
	"strings"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/console"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/worker"
)

// Worker builds the Temporal worker running every journey and its
// activities over the send path, on the configured task queue. opts size
// it; its task queue and logger come from the App. register adds further
// workflows and activities beside the journeys' (the benchmarks' baselines).
func (a *App) Worker(ctx context.Context, opts worker.Options, register ...func(sdkworker.Registry)) (*worker.Worker, error) {
	c, err := a.Temporal(ctx)
	if err != nil {
		return nil, err
	}
	deps, err := a.JourneyDeps(ctx)
	if err != nil {
		return nil, err
	}
	if len(register) > 0 {
		journeys := deps.Register
		deps.Register = func(r sdkworker.Registry) {
			journeys(r)
			for _, fn := range register {
				fn(r)
			}
		}
	}
	opts.TaskQueue, opts.Logger = a.cfg.TemporalTaskQueue, a.log
	return worker.New(c, deps, opts)
}

// Router builds the event router over the store and the Temporal client
// (dialled, or lazy when the caller chose LazyTemporal first). Run it to
// drain the outbox.
func (a *App) Router(ctx context.Context) (*router.Router, error) {
	if a.router != nil {
		return a.router, nil
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	c, err := a.Temporal(ctx)
	if err != nil {
		return nil, err
	}
	settings, err := a.JourneySettings()
	if err != nil {
		return nil, err
	}
	a.router = router.New(st, c, router.Options{
		TaskQueue: a.cfg.TemporalTaskQueue, Journeys: settings, Log: a.log, Metrics: router.NewMetrics(a.metrics),
	})
	return a.router, nil
}

// API builds the HTTP API over the store and the router, reporting to the
// App's metrics. opt tunes it; the default region and the topics come from
// the configuration.
func (a *App) API(ctx context.Context, opt api.Options) (*api.Server, error) {
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	r, err := a.Router(ctx)
	if err != nil {
		return nil, err
	}
	topics, err := a.Topics()
	if err != nil {
		return nil, err
	}
	m, err := a.Mgmt(ctx)
	if err != nil {
		return nil, err
	}
	wh, err := a.Webhooks()
	if err != nil {
		return nil, err
	}
	if opt.SurveyTriggers, err = a.SurveyTriggers(); err != nil {
		return nil, err
	}
	if opt.AcquisitionSpend, err = a.AcquisitionSpend(); err != nil {
		return nil, err
	}
	opt.DefaultRegion, opt.Topics, opt.PublicURL, opt.Webhooks = a.cfg.DefaultRegion, topics, a.cfg.PublicURL, wh
	// Browsers send Secure cookies only over HTTPS.
	opt.InsecureCookies = opt.InsecureCookies || !strings.HasPrefix(a.cfg.PublicURL, "https://")
	opt.Console = console.New(console.Deps{Mgmt: m, Store: st, Topics: topics, Log: a.log},
		console.Options{InsecureCookies: opt.InsecureCookies, QuietHours: a.cfg.QuietHours, PolicyFile: a.cfg.PolicyFile,
			SurveyTriggers: opt.SurveyTriggers, AcquisitionSpend: opt.AcquisitionSpend,
			TemporalUI: a.cfg.TemporalUIURL, Namespace: a.cfg.TemporalNamespace})
	return api.New(api.Deps{Store: st, Router: r, Signer: a.Signer(), Tracking: a.TrackingSigner(), Log: a.log, Registry: a.metrics, Mgmt: m, Ops: a.OpsHandler()}, opt), nil
}
