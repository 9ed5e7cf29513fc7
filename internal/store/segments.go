package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/segment"
)

// Segment is a saved audience definition. Definition is the source exactly
// as written (YAML or JSON); package segment parses and validates it before
// it is saved, and again when it is used.
type Segment struct {
	Name        string    `db:"name" json:"name"`
	Description string    `db:"description" json:"description,omitempty"`
	Format      string    `db:"format" json:"format"`
	Definition  string    `db:"definition" json:"definition"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`
}

const segmentColumns = `name, description, format, definition, created_at, updated_at`

// saveSegment replaces a segment by name; xmax = 0 only on a freshly inserted
// row, which tells a new name from an update. An identical save leaves
// updated_at alone.
const saveSegment = `
INSERT INTO segments AS s (name, description, format, definition)
VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET
    description = excluded.description, format = excluded.format,
    definition = excluded.definition, updated_at = now()
WHERE (s.description, s.format, s.definition) IS DISTINCT FROM
      (excluded.description, excluded.format, excluded.definition)
RETURNING ` + segmentColumns + `, (xmax = 0) AS created`

// SaveSegment stores seg under its name, replacing any earlier definition,
// and reports the outcome: Inserted, Updated or Unchanged. Campaigns
// snapshot the definition they start with, so replacing a segment never
// changes a send in flight.
func (s *Store) SaveSegment(ctx context.Context, seg Segment) (saved Segment, outcome string, err error) {
	rows, err := s.pool.Query(ctx, saveSegment, seg.Name, seg.Description, seg.Format, seg.Definition)
	if err != nil {
		return Segment{}, "", fmt.Errorf("save segment %s: %w", seg.Name, err)
	}
	type row struct {
		Segment
		Created bool `db:"created"`
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[row])
	if errors.Is(err, pgx.ErrNoRows) {
		saved, err = s.GetSegment(ctx, seg.Name)
		return saved, Unchanged, err
	}
	if err != nil {
		return Segment{}, "", fmt.Errorf("save segment %s: %w", seg.Name, err)
	}
	if r.Created {
		return r.Segment, Inserted, nil
	}
	return r.Segment, Updated, nil
}

// GetSegment returns the segment saved under name, or ErrNotFound.
func (s *Store) GetSegment(ctx context.Context, name string) (Segment, error) {
	return get[Segment](ctx, s.pool, fmt.Sprintf("segment %s", name), `SELECT `+segmentColumns+` FROM segments WHERE name = $1`, name)
}

// ListSegments returns every saved segment by name.
func (s *Store) ListSegments(ctx context.Context) ([]Segment, error) {
	return listSegments(ctx, s.pool)
}

func listSegments(ctx context.Context, q querier) ([]Segment, error) {
	return list[Segment](ctx, q, "list segments", `SELECT `+segmentColumns+` FROM segments ORDER BY name`)
}

// DeleteSegment removes a saved segment, or returns ErrNotFound.
func (s *Store) DeleteSegment(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM segments WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete segment %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("segment %s: %w", name, ErrNotFound)
	}
	return nil
}

// SegmentPage returns up to limit members of the saved segment name after
// the ID after (empty for the first page), in ID order, with relative
// conditions evaluated as of at: a recurring care send pages its audience
// with it. It returns ErrNotFound when no segment has the name.
func (s *Store) SegmentPage(ctx context.Context, name string, at time.Time, after string, limit int) ([]string, error) {
	seg, err := s.GetSegment(ctx, name)
	if err != nil {
		return nil, err
	}
	def, err := segment.Parse([]byte(seg.Definition), name)
	if err != nil {
		return nil, fmt.Errorf("saved segment %s: %w", name, err)
	}
	return segment.Page(ctx, s.pool, def, after, limit, segment.At(at))
}
