package store

import (
	"context"
	"fmt"
	"time"
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
	return list[CampaignVersionInfo](ctx, s.pool, fmt.Sprintf("list versions of campaign %s", name), `
		SELECT version, created_at FROM campaign_versions
		WHERE campaign = $1 ORDER BY version DESC`, name)
}
