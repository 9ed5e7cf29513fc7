package segment

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Beginner starts transactions; *pgxpool.Pool and *pgx.Conn satisfy it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Refresh is the outcome of one score refresh.
type Refresh struct {
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
// customer; now stamps the changed rows (scored_at). It is what `tidings segments refresh-scores` and the nightly
// schedule run; concurrent calls wait for each other.
func RefreshScores(ctx context.Context, db Beginner, now time.Time) (Refresh, error) {
	var out Refresh
	started := time.Now()
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
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
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Refresh])
		return err
	})
	if err != nil {
		return Refresh{}, fmt.Errorf("refresh customer scores: %w", err)
	}
	return out, nil
}

// ErrNeverScored means RefreshScores has never run, so every RFM and value
// tier condition matches nobody.
var ErrNeverScored = errors.New("customer scores have never been computed; run `tidings segments refresh-scores`")

// LastRefresh returns the latest score refresh, or ErrNeverScored.
func LastRefresh(ctx context.Context, db DB) (Refresh, error) {
	rows, err := db.Query(ctx, `
		SELECT started_at, finished_at, customers, changed
		FROM score_refreshes ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return Refresh{}, fmt.Errorf("read last score refresh: %w", err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Refresh])
	if errors.Is(err, pgx.ErrNoRows) {
		return Refresh{}, ErrNeverScored
	}
	if err != nil {
		return Refresh{}, fmt.Errorf("read last score refresh: %w", err)
	}
	return r, nil
}

// Hash is the customer's stable 32-bit hash, the number the database
// stores in customers.bucket_hash: the first 32 bits of the MD5 of the ID.
func Hash(customerID string) uint32 {
	sum := md5.Sum([]byte(customerID))
	return binary.BigEndian.Uint32(sum[:4])
}

// Bucket is the customer's stable 0-99 bucket, the number the database
// stores in customers.bucket. Campaign code assigns holdouts and variants
// with it without a query.
func Bucket(customerID string) int {
	return int(Hash(customerID) % 100)
}

// bucketPrime is 2^31-1: seeded buckets hash bucket_hash with
// (h*a + b) mod p, a universal hash whose coefficients come from the seed.
// For two different seeds the pair of buckets is uniform over customers, so
// each campaign's split is independent of every other's, and the product
// fits in a bigint.
const bucketPrime = 2147483647

func seedCoefficients(seed string) (a, b int64) {
	sum := md5.Sum([]byte(seed))
	a = 1 + int64(binary.BigEndian.Uint64(sum[:8])%(bucketPrime-1))
	b = int64(binary.BigEndian.Uint64(sum[8:]) % bucketPrime)
	return a, b
}

// SeededBucket is the customer's 0-99 bucket for one seed (e.g. a campaign
// name): stable for the pair, independent across seeds. It matches the
// `bucket: {seed: ...}` condition.
func SeededBucket(seed, customerID string) int {
	a, b := seedCoefficients(seed)
	h := int64(Hash(customerID)) % bucketPrime
	return int((h*a + b) % bucketPrime % 100)
}
