package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/segment"
)

// RecordStages writes the lifecycle stage as of at of every customer who
// joined by the end of at's month (erased customers' tombstones aside) into
// the month of at (UTC), replacing the stage an earlier refresh that month
// wrote, and rewrites the kept flows (stage_flows) of that month and of the
// month after, which compare with it; it returns how many stage rows it
// wrote. Only changed rows are written, so an hourly refresh of a stable
// base is cheap.
func (s *Store) RecordStages(ctx context.Context, at time.Time) (int64, error) {
	month := monthOf(at).Format(time.DateOnly)
	stage, args := segment.LifecycleCase(at, []any{month})
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// One writer of the flows at a time: a second refresh waits rather
		// than inserting the rows the first one is inserting.
		if _, err := tx.Exec(ctx, `LOCK TABLE stage_flows IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO customer_stages AS cs (month, customer_id, stage)
			SELECT $1::date, c.id, `+stage+`
			FROM customers c
			WHERE c.created_at < $1::date + interval '1 month' AND c.erased_at IS NULL
			ON CONFLICT (month, customer_id) DO UPDATE SET stage = excluded.stage
			WHERE cs.stage IS DISTINCT FROM excluded.stage`, args...)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		months := `cur.month IN ($1::date, ($1::date + interval '1 month')::date)`
		if _, err := tx.Exec(ctx, `DELETE FROM stage_flows cur WHERE `+months, month); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO stage_flows (month, from_stage, to_stage, customers) `+stageFlows(months), month)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record lifecycle stages: %w", err)
	}
	return n, nil
}

// stageFlows counts, for the stage rows cur that where selects, the
// customers by month, their stage the month before (” for none) and then.
func stageFlows(where string) string {
	return `
		SELECT cur.month, coalesce(prev.stage, '') AS from_stage, cur.stage AS to_stage, count(*)::int AS customers
		FROM customer_stages cur
		LEFT JOIN customer_stages prev ON prev.customer_id = cur.customer_id
			AND prev.month = (cur.month - interval '1 month')::date
		WHERE ` + where + `
		GROUP BY 1, 2, 3`
}

// unflowStages takes the customer $1 out of the kept flows of every month,
// before erasure deletes their stages.
var unflowStages = `
	UPDATE stage_flows f SET customers = f.customers - t.customers
	FROM (` + stageFlows("cur.customer_id = $1") + `) t
	WHERE f.month = t.month AND f.from_stage = t.from_stage AND f.to_stage = t.to_stage`

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
// stages, its customers by their stage then and the month before, as
// RecordStages kept them.
func (s *Store) StageFlows(ctx context.Context, since, until time.Time) ([]StageFlow, error) {
	return list[StageFlow](ctx, s.pool, "lifecycle flows", `
		SELECT to_char(month, 'YYYY-MM') AS month, from_stage, to_stage, customers
		FROM stage_flows
		WHERE month >= $1::date AND month <= $2::date AND customers > 0
		ORDER BY month, 2, 3`, monthOf(since).Format(time.DateOnly), monthOf(until.Add(-time.Nanosecond)).Format(time.DateOnly))
}
