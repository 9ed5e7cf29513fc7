package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// StoredCampaignReport is a campaign's results as the last refresh
// computed them.
type StoredCampaignReport struct {
	Report CampaignReport
	At     time.Time
}

// SaveCampaignResults keeps each report as its campaign's results as of
// at, replacing the ones kept before.
func (s *Store) SaveCampaignResults(ctx context.Context, reports []CampaignReport, at time.Time) error {
	if len(reports) == 0 {
		return nil
	}
	names, docs := make([]string, len(reports)), make([][]byte, len(reports))
	for i, r := range reports {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("keep results of campaign %s: %w", r.Campaign, err)
		}
		names[i], docs[i] = r.Campaign, b
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO campaign_results (campaign, report, computed_at)
		SELECT n, d, $3 FROM unnest($1::text[], $2::jsonb[]) AS r(n, d)
		ON CONFLICT (campaign) DO UPDATE SET report = EXCLUDED.report, computed_at = EXCLUDED.computed_at`, names, docs, at)
	if err != nil {
		return fmt.Errorf("keep results of %d campaigns: %w", len(reports), err)
	}
	return nil
}

// KeptCampaignResults is the kept results of each named campaign; one
// never refreshed is absent.
func (s *Store) KeptCampaignResults(ctx context.Context, names []string) (map[string]StoredCampaignReport, error) {
	type row struct {
		Campaign string    `db:"campaign"`
		Report   []byte    `db:"report"`
		At       time.Time `db:"computed_at"`
	}
	rows, err := list[row](ctx, s.pool, "kept campaign results", `
		SELECT campaign, report, computed_at FROM campaign_results WHERE campaign = ANY($1)`, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]StoredCampaignReport, len(rows))
	for _, r := range rows {
		var rep CampaignReport
		if err := json.Unmarshal(r.Report, &rep); err != nil {
			return nil, fmt.Errorf("kept results of campaign %s: %w", r.Campaign, err)
		}
		out[r.Campaign] = StoredCampaignReport{Report: rep, At: r.At}
	}
	return out, nil
}
