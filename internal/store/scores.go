package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ScoreRefresh is the outcome of one refresh of the customer scores.
type ScoreRefresh struct {
	StartedAt  time.Time `db:"started_at" json:"started_at"`
	FinishedAt time.Time `db:"finished_at" json:"finished_at"`
	Customers  int64     `db:"customers" json:"customers"`
	Changed    int64     `db:"changed" json:"changed"`
}

// refreshLock serialises refreshes (a nightly schedule and a manual run).
const refreshLock = 0x7365_676d // "segm"

// refreshScores ranks every buyer (orders_count > 0) by recency, frequency
// and monetary value and writes the quintiles in one set-based statement.
// A score is 1 + floor(5 * percent_rank), so customers with equal values
// always share a score (ntile would split ties arbitrarily) and the top
// fifth scores 5; customers who never bought score 0. Only rows whose scores
// changed are written, so a nightly refresh of a stable base is cheap.
const refreshScores = `
WITH ranked AS (
    SELECT id AS customer_id,
        CASE WHEN orders_count > 0 THEN least(5, 1 + floor(5 * percent_rank() OVER
            (PARTITION BY orders_count > 0 ORDER BY last_purchase_at ASC NULLS FIRST))) ELSE 0 END::smallint AS recency,
        CASE WHEN orders_count > 0 THEN least(5, 1 + floor(5 * percent_rank() OVER
            (PARTITION BY orders_count > 0 ORDER BY orders_count))) ELSE 0 END::smallint AS frequency,
        CASE WHEN orders_count > 0 THEN least(5, 1 + floor(5 * percent_rank() OVER
            (PARTITION BY orders_count > 0 ORDER BY total_spent))) ELSE 0 END::smallint AS monetary
    FROM customers
), up AS (
    INSERT INTO customer_scores AS s (customer_id, recency, frequency, monetary, value_tier, scored_at)
    SELECT customer_id, recency, frequency, monetary,
        CASE WHEN monetary = 5 THEN 'high' WHEN monetary >= 3 THEN 'mid' ELSE 'low' END, $1
    FROM ranked
    ON CONFLICT (customer_id) DO UPDATE SET
        recency = excluded.recency, frequency = excluded.frequency, monetary = excluded.monetary,
        value_tier = excluded.value_tier, scored_at = excluded.scored_at
    WHERE (s.recency, s.frequency, s.monetary, s.value_tier)
          IS DISTINCT FROM (excluded.recency, excluded.frequency, excluded.monetary, excluded.value_tier)
    RETURNING 1
)
SELECT (SELECT count(*) FROM ranked) AS customers, (SELECT count(*) FROM up) AS changed`

// recordRefresh logs a finished refresh; it runs after refreshScores in the
// same transaction so finished_at is the real end of the work.
const recordRefresh = `
INSERT INTO score_refreshes (started_at, finished_at, customers, changed)
VALUES ($1, clock_timestamp(), $2, $3)
RETURNING started_at, finished_at, customers, changed`

// RefreshScores recomputes the RFM quintiles and value tiers of every
// customer, which segments read; now stamps the changed rows (scored_at).
// It is what `tidings segments refresh-scores` and the nightly schedule
// run; concurrent calls wait for each other.
func (s *Store) RefreshScores(ctx context.Context, now time.Time) (ScoreRefresh, error) {
	var out ScoreRefresh
	started := time.Now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, refreshLock); err != nil {
			return err
		}
		var customers, changed int64
		if err := tx.QueryRow(ctx, refreshScores, now).Scan(&customers, &changed); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, recordRefresh, started, customers, changed)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[ScoreRefresh])
		return err
	})
	if err != nil {
		return ScoreRefresh{}, fmt.Errorf("refresh customer scores: %w", err)
	}
	return out, nil
}

// ErrNeverScored means RefreshScores has never run, so every RFM and value
// tier condition of a segment matches nobody.
var ErrNeverScored = errors.New("customer scores have never been computed; run `tidings segments refresh-scores`")

// LastScoreRefresh returns the latest score refresh, or ErrNeverScored.
func (s *Store) LastScoreRefresh(ctx context.Context) (ScoreRefresh, error) {
	r, err := rowOf[ScoreRefresh](ctx, s.pool, `
		SELECT started_at, finished_at, customers, changed
		FROM score_refreshes ORDER BY id DESC LIMIT 1`)
	if errors.Is(err, ErrNotFound) {
		return ScoreRefresh{}, ErrNeverScored
	}
	if err != nil {
		return ScoreRefresh{}, fmt.Errorf("read last score refresh: %w", err)
	}
	return r, nil
}
