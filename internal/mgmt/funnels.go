package mgmt

import (
	"context"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// FunnelStore counts funnels and keeps the journeys'; *store.Store
// implements it.
type FunnelStore interface {
	reports.FunnelStore
	SaveJourneyFunnels(ctx context.Context, funnels map[string]store.KeptFunnel, at time.Time) error
}

// KeepJourneyFunnels counts every built-in journey's funnel for the
// default period as of now (reports.DefaultFunnelPeriod) and the default
// attribution window, and keeps them, so the journey funnel reports read
// them instead of following a year of runs through the ledger on each
// request. The hourly refresh sweep calls it, as RefreshScores does; it
// returns how many it kept.
func (s *Service) KeepJourneyFunnels(ctx context.Context, now time.Time) (int, error) {
	p, window := reports.DefaultFunnelPeriod(now), reports.DefaultAttributionWindow
	kept := map[string]store.KeptFunnel{}
	for _, j := range workflows.Journeys() {
		rows, err := s.store.JourneyFunnel(ctx, j.Name, p.Since, p.Until, window)
		if err != nil {
			return 0, fmt.Errorf("funnel of journey %s: %w", j.Name, err)
		}
		kept[j.Name] = store.KeptFunnel{Window: window, Since: p.Since, Until: p.Until, Rows: rows}
	}
	return len(kept), s.store.SaveJourneyFunnels(ctx, kept, now)
}
