package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/segment"
)

// ValueTally is the purchase history of a group of buyers: Dimension is
// total, cohort (the month of the first purchase, 2025-03) or tier (high,
// mid, low or unscored) and Label its value. Years sums each buyer's
// observed time since the first purchase, at least 30 days.
type ValueTally struct {
	Dimension string  `db:"dimension"`
	Label     string  `db:"label"`
	Customers int     `db:"customers"`
	Orders    int64   `db:"orders"`
	Revenue   float64 `db:"revenue"`
	Years     float64 `db:"years"`
	// Mature counts the buyers whose first purchase was at least a year
	// before the moment, Lapsed those of them with no purchase in the year
	// before it.
	Mature int `db:"mature"`
	Lapsed int `db:"lapsed"`
}

// valueBuyers are the buyers (orders_count > 0) of the moment $1, with
// their cohort and tier, over segment.From's aliases so a segment's
// condition can be added.
const valueBuyers = `
	SELECT c.orders_count, c.total_spent, c.first_purchase_at, c.last_purchase_at,
		to_char(c.first_purchase_at AT TIME ZONE 'UTC', 'YYYY-MM') AS cohort,
		coalesce(cs.value_tier, 'unscored') AS tier
	FROM ` + segment.From + `
	WHERE c.orders_count > 0 AND c.first_purchase_at IS NOT NULL AND c.first_purchase_at < $1`

// valueTotals are a ValueTally's figures over a group of valueBuyers.
const valueTotals = `
	count(*)::int AS customers, coalesce(sum(orders_count), 0)::bigint AS orders,
	coalesce(sum(total_spent), 0)::float8 AS revenue,
	coalesce(sum(greatest(extract(epoch FROM $1 - first_purchase_at), 30 * 86400) / (365.25 * 86400)), 0)::float8 AS years,
	count(*) FILTER (WHERE first_purchase_at <= $1 - interval '1 year')::int AS mature,
	count(*) FILTER (WHERE first_purchase_at <= $1 - interval '1 year'
		AND last_purchase_at < $1 - interval '1 year')::int AS lapsed`

// ValueTallies groups every buyer (orders_count > 0) as of at, in total,
// by cohort and by value tier, from the customers' purchase aggregates.
func (s *Store) ValueTallies(ctx context.Context, at time.Time) ([]ValueTally, error) {
	return list[ValueTally](ctx, s.pool, "customer value", `
		WITH buyers AS (`+valueBuyers+`)
		SELECT CASE WHEN grouping(cohort) = 0 THEN 'cohort' WHEN grouping(tier) = 0 THEN 'tier' ELSE 'total' END AS dimension,
			coalesce(cohort, tier, '') AS label, `+valueTotals+`
		FROM buyers
		GROUP BY GROUPING SETS ((), (cohort), (tier))
		ORDER BY 1, 2`, at)
}

// SegmentValueTallies is ValueTallies for the buyers of each saved
// segment as of at (dimension segment, label its name), in name order:
// CLV by the groups a marketer defined. An error names the segment.
func (s *Store) SegmentValueTallies(ctx context.Context, at time.Time) ([]ValueTally, error) {
	segs, err := s.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	out := []ValueTally{}
	for _, seg := range segs {
		def, err := segment.Parse([]byte(seg.Definition), seg.Name)
		if err != nil {
			return out, fmt.Errorf("saved segment %s: %w", seg.Name, err)
		}
		where, args, err := def.CompileAfter(at, []any{at, seg.Name})
		if err != nil {
			return out, err
		}
		t, err := get[ValueTally](ctx, s.pool, "customer value of segment "+seg.Name, `
			WITH buyers AS (`+valueBuyers+` AND (`+where+`))
			SELECT 'segment' AS dimension, $2::text AS label, `+valueTotals+`
			FROM buyers`, args...)
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// RFMCell is one cell of the recency × frequency grid of the scores
// (1–5, 0 = never bought): its customers and their spend.
type RFMCell struct {
	Recency   int     `db:"recency" json:"recency"`
	Frequency int     `db:"frequency" json:"frequency"`
	Customers int     `db:"customers" json:"customers"`
	Revenue   float64 `db:"revenue" json:"revenue"`
	// Monetary is the cell's average monetary score.
	Monetary float64 `db:"monetary" json:"monetary"`
}

// RFMCells counts the scored customers by recency and frequency score.
func (s *Store) RFMCells(ctx context.Context) ([]RFMCell, error) {
	return list[RFMCell](ctx, s.pool, "RFM grid", `
		SELECT cs.recency, cs.frequency, count(*)::int AS customers,
			coalesce(sum(c.total_spent), 0)::float8 AS revenue, avg(cs.monetary)::float8 AS monetary
		FROM customer_scores cs JOIN customers c ON c.id = cs.customer_id
		GROUP BY 1, 2 ORDER BY 1 DESC, 2 DESC`)
}
