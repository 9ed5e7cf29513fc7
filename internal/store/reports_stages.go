package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/segment"
)

// RecordStages writes the lifecycle stage as of at of every customer who
// joined by the end of at's month into the
// month of at (UTC), replacing the stage an earlier refresh that month
// wrote; it returns how many rows it wrote. Only changed rows are written,
// so an hourly refresh of a stable base is cheap.
func (s *Store) RecordStages(ctx context.Context, at time.Time) (int64, error) {
	stage, args := segment.LifecycleCase(at, []any{monthOf(at).Format(time.DateOnly)})
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO customer_stages AS cs (month, customer_id, stage)
		SELECT $1::date, c.id, `+stage+`
		FROM customers c
		WHERE c.created_at < $1::date + interval '1 month'
		ON CONFLICT (month, customer_id) DO UPDATE SET stage = excluded.stage
		WHERE cs.stage IS DISTINCT FROM excluded.stage`, args...)
	if err != nil {
		return 0, fmt.Errorf("record lifecycle stages: %w", err)
	}
	return tag.RowsAffected(), nil
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// StageFlow counts the customers who were in stage From in the month before
// Month and are in To in Month; From is "" for customers without a stage
// the month before (they joined, or no refresh ran then).
type StageFlow struct {
	Month     string `db:"month" json:"month"`
	From      string `db:"from_stage" json:"from"`
	To        string `db:"to_stage" json:"to"`
	Customers int    `db:"customers" json:"customers"`
}

// StageFlows counts, for each month of [since, until) with recorded
// stages, its customers by their stage then and the month before.
func (s *Store) StageFlows(ctx context.Context, since, until time.Time) ([]StageFlow, error) {
	return list[StageFlow](ctx, s.pool, "lifecycle flows", `
		SELECT to_char(cur.month, 'YYYY-MM') AS month, coalesce(prev.stage, '') AS from_stage,
			cur.stage AS to_stage, count(*)::int AS customers
		FROM customer_stages cur
		LEFT JOIN customer_stages prev ON prev.customer_id = cur.customer_id
			AND prev.month = (cur.month - interval '1 month')::date
		WHERE cur.month >= $1::date AND cur.month <= $2::date
		GROUP BY cur.month, 2, 3
		ORDER BY cur.month, 2, 3`, monthOf(since).Format(time.DateOnly), monthOf(until.Add(-time.Nanosecond)).Format(time.DateOnly))
}
