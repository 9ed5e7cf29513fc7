package app

import (
	"context"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

// Mgmt builds the management functions the API, the console and the CLI
// share, over the store. The journey engine is reached only by the actions
// that need it, so managing users or reading the audit log works while
// Temporal is down.
func (a *App) Mgmt(ctx context.Context) (*mgmt.Service, error) {
	if a.mgmt != nil {
		return a.mgmt, nil
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	a.mgmt = mgmt.New(mgmt.Deps{
		Store: st, Journeys: lazyJourneys{a}, Log: a.log,
		Templates: a.Templates, Temporal: a.Temporal, TaskQueue: a.cfg.TemporalTaskQueue, Company: a.Company(),
		Send: func(ctx context.Context) (mgmt.Sender, error) { return a.SendPath(ctx) }, Topics: a.Topics,
		JourneySettings: a.JourneySettings,
	}, mgmt.Options{})
	a.onClose(func() { a.mgmt = nil })
	return a.mgmt, nil
}

// lazyJourneys builds the router when an erasure first needs to cancel
// journeys.
type lazyJourneys struct{ a *App }

func (l lazyJourneys) CancelJourneys(ctx context.Context, customerID string) error {
	r, err := l.a.Router(ctx)
	if err != nil {
		return err
	}
	return r.CancelJourneys(ctx, customerID)
}
