package store

import (
	"context"
	"fmt"
	"time"
)

// Kinds of audience whose size is recorded.
const (
	AudienceSegment  = "segment"
	AudienceCampaign = "campaign"
)

// AudienceSize is how many customers a saved segment or a campaign's
// audience counted at a moment.
type AudienceSize struct {
	Kind string    `db:"kind" json:"kind"`
	Name string    `db:"name" json:"name"`
	At   time.Time `db:"at" json:"at"`
	Size int64     `db:"size" json:"size"`
}

// RecordAudienceSizes stores measured sizes; measuring the same audience
// twice at one instant keeps the later count.
func (s *Store) RecordAudienceSizes(ctx context.Context, sizes []AudienceSize) error {
	if len(sizes) == 0 {
		return nil
	}
	kinds, names, ats, ns := make([]string, len(sizes)), make([]string, len(sizes)), make([]time.Time, len(sizes)), make([]int64, len(sizes))
	for i, a := range sizes {
		kinds[i], names[i], ats[i], ns[i] = a.Kind, a.Name, a.At, a.Size
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO audience_sizes (kind, name, at, size)
		SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[])
		ON CONFLICT (kind, name, at) DO UPDATE SET size = EXCLUDED.size`, kinds, names, ats, ns)
	if err != nil {
		return fmt.Errorf("record %d audience sizes: %w", len(sizes), err)
	}
	return nil
}

// AudienceSizeHistory lists one audience's recorded sizes since a time,
// oldest first, at most limit of the newest.
func (s *Store) AudienceSizeHistory(ctx context.Context, kind, name string, since time.Time, limit int) ([]AudienceSize, error) {
	return list[AudienceSize](ctx, s.pool, "sizes of "+kind+" "+name, `
		SELECT kind, name, at, size FROM (
			SELECT kind, name, at, size FROM audience_sizes
			WHERE kind = $1 AND name = $2 AND at >= $3
			ORDER BY at DESC LIMIT $4
		) newest ORDER BY at`, kind, name, since, limit)
}

// LatestAudienceSizes is the last recorded size of each named audience of
// a kind; one never measured is absent.
func (s *Store) LatestAudienceSizes(ctx context.Context, kind string, names []string) (map[string]AudienceSize, error) {
	got, err := list[AudienceSize](ctx, s.pool, "latest "+kind+" sizes", `
		SELECT l.kind, l.name, l.at, l.size FROM unnest($2::text[]) AS n(name)
		CROSS JOIN LATERAL (
			SELECT kind, name, at, size FROM audience_sizes
			WHERE kind = $1 AND name = n.name ORDER BY at DESC LIMIT 1
		) l`, kind, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]AudienceSize, len(got))
	for _, a := range got {
		out[a.Name] = a
	}
	return out, nil
}
