package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoredCampaignReport is a campaign's results as the last refresh
// computed them.
type StoredCampaignReport struct {
	Report CampaignReport
	At     time.Time
	// FunnelKept is whether the same refresh kept the campaign's funnel
	// (KeptCampaignFunnel reads it); results kept before funnels were
	// have none.
	FunnelKept bool
}

// KeptCampaign is what a refresh keeps of a campaign: its results, and its
// funnel's rows counted at the same moment (SaveCampaignResults counts
// them).
type KeptCampaign struct {
	Report CampaignReport
}

// SaveCampaignResults keeps each campaign's results and its funnel's rows
// (every attribution window's, KeptCampaignFunnel) as of at, replacing the
// ones kept before, all or none.
func (s *Store) SaveCampaignResults(ctx context.Context, kept []KeptCampaign, at time.Time) error {
	if len(kept) == 0 {
		return nil
	}
	names, docs := make([]string, len(kept)), make([][]byte, len(kept))
	for i, k := range kept {
		b, err := json.Marshal(k.Report)
		if err != nil {
			return fmt.Errorf("keep results of campaign %s: %w", k.Report.Campaign, err)
		}
		names[i], docs[i] = k.Report.Campaign, b
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := funnelSettings(ctx, tx); err != nil {
			return err
		}
		for _, name := range names {
			if err := keepFunnel(ctx, tx, "campaign/"+name, campaignFunnel+funnelTail, name, "campaign/"+name); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO campaign_results (campaign, report, funnel, computed_at)
			SELECT n, d, '{}', $3 FROM unnest($1::text[], $2::jsonb[]) AS r(n, d)
			ON CONFLICT (campaign) DO UPDATE SET report = EXCLUDED.report, funnel = EXCLUDED.funnel,
				computed_at = EXCLUDED.computed_at`, names, docs, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("keep results of %d campaigns: %w", len(kept), err)
	}
	return nil
}

// KeptCampaignResults is the kept results of each named campaign; one
// never refreshed is absent.
func (s *Store) KeptCampaignResults(ctx context.Context, names []string) (map[string]StoredCampaignReport, error) {
	type row struct {
		Campaign   string    `db:"campaign"`
		Report     []byte    `db:"report"`
		At         time.Time `db:"computed_at"`
		FunnelKept bool      `db:"funnel_kept"`
		Status     string    `db:"status"`
		Version    int       `db:"current_version"`
	}
	rows, err := list[row](ctx, s.pool, "kept campaign results", `
		SELECT r.campaign, r.report, r.computed_at, r.funnel IS NOT NULL AS funnel_kept, c.status, c.current_version
		FROM campaign_results r JOIN campaigns c ON c.name = r.campaign
		WHERE r.campaign = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]StoredCampaignReport, len(rows))
	for _, r := range rows {
		var rep CampaignReport
		if err := json.Unmarshal(r.Report, &rep); err != nil {
			return nil, fmt.Errorf("kept results of campaign %s: %w", r.Campaign, err)
		}
		// The counts are the refresh's; the state is the campaign's now (a
		// pause or a new version since shows at once).
		rep.Status, rep.Version = r.Status, r.Version
		out[r.Campaign] = StoredCampaignReport{Report: rep, At: r.At, FunnelKept: r.FunnelKept}
	}
	return out, nil
}

// SettledCampaigns is, for each campaign all of whose entries have
// finished, when the last of them did: what a refresh needs to tell a
// campaign whose counts can only change by late engagement.
func (s *Store) SettledCampaigns(ctx context.Context) (map[string]time.Time, error) {
	type row struct {
		Campaign string    `db:"campaign"`
		Last     time.Time `db:"last_finished"`
	}
	rows, err := list[row](ctx, s.pool, "settled campaigns", `
		SELECT campaign, max(finished_at) AS last_finished FROM campaign_entries
		GROUP BY campaign HAVING bool_and(finished_at IS NOT NULL)`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Campaign] = r.Last
	}
	return out, nil
}
