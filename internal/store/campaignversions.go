package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignVersionInfo is one applied version of a campaign without its
// file, for listing a campaign's history.
type CampaignVersionInfo struct {
	Version   int       `db:"version" json:"version"`
	CreatedAt time.Time `db:"created_at" json:"applied_at"`
}

// CampaignVersions lists a campaign's versions, newest first (none for an
// unknown campaign).
func (s *Store) CampaignVersions(ctx context.Context, name string) ([]CampaignVersionInfo, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT version, created_at FROM campaign_versions
		WHERE campaign = $1 ORDER BY version DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("list versions of campaign %s: %w", name, err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowToStructByName[CampaignVersionInfo])
	if err != nil {
		return nil, fmt.Errorf("list versions of campaign %s: %w", name, err)
	}
	return vs, nil
}
