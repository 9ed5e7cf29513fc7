package mgmt

import (
	"context"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/workflows"
)

// FunnelStore counts funnels and keeps the journeys'; *store.Store
// implements it.
type FunnelStore interface {
	reports.FunnelStore
	KeepJourneyFunnels(ctx context.Context, journeys []string, since, at time.Time) error
}

// KeepJourneyFunnels keeps the rows of every built-in journey's funnel for
// the entries of the default period up to now (reports.DefaultFunnelPeriod),
// per UTC day of entry and for every attribution window, so the journey
// funnel reports of any window and of any period inside those days sum
// kept rows instead of following a year of runs through the ledger on
// each request. The hourly refresh sweep calls it, as RefreshScores does;
// it returns how many it kept.
func (s *Service) KeepJourneyFunnels(ctx context.Context, now time.Time) (int, error) {
	var names []string
	for _, j := range workflows.Journeys() {
		names = append(names, j.Name)
	}
	if err := s.store.KeepJourneyFunnels(ctx, names, reports.DefaultFunnelPeriod(now).Since, now); err != nil {
		return 0, err
	}
	return len(names), nil
}
