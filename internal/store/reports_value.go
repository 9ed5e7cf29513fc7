package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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

// keptValue is the customer value report's name in report_tallies.
const keptValue = "value"

// ValueCounts is what the customer value report reads: Tallies in total,
// by cohort and by tier, Segments one per saved segment (dimension segment,
// label its name) in name order. AsOf is set when they are as of a
// refresh's moment rather than the one asked for.
type ValueCounts struct {
	Tallies  []ValueTally
	Segments []ValueTally
	AsOf     *time.Time
}

// valueGroups groups every valueBuyer of $1 in total, by cohort and by
// value tier.
const valueGroups = `
	WITH buyers AS (` + valueBuyers + `)
	SELECT CASE WHEN grouping(cohort) = 0 THEN 'cohort' WHEN grouping(tier) = 0 THEN 'tier' ELSE 'total' END AS dimension,
		coalesce(cohort, tier, '') AS label, ` + valueTotals + `
	FROM buyers
	GROUP BY GROUPING SETS ((), (cohort), (tier))`

// keptValueTally is a value_tallies row: a segment's carries the
// definition it was counted by.
type keptValueTally struct {
	ValueTally
	Definition string `db:"definition"`
}

// ValueTallies groups the buyers (orders_count > 0) as of at, from the
// customers' purchase aggregates, in total, by cohort, by value tier and
// by saved segment: CLV by the groups a marketer defined. Reading every
// buyer takes seconds at a million customers, so when a refresh has kept
// the groups (value_tallies) and at is not before it, they are read from
// there, as of the refresh (AsOf); a segment saved or changed since is
// counted as of the refresh too. An earlier at is counted live. An error
// names the segment.
func (s *Store) ValueTallies(ctx context.Context, at time.Time) (v ValueCounts, err error) {
	err = s.readKept(ctx, keptValue, func(tx querier, through *time.Time) error {
		if through == nil || at.Before(*through) {
			if v.Tallies, err = list[ValueTally](ctx, tx, "customer value", valueGroups+` ORDER BY 1, 2`, at); err != nil {
				return err
			}
			v.Segments, err = segmentValues(ctx, tx, at, nil)
			return err
		}
		rows, err := list[keptValueTally](ctx, tx, "kept customer value", `
			SELECT dimension, label, definition, customers, orders, revenue, years, mature, lapsed
			FROM value_tallies ORDER BY 1, 2`)
		if err != nil {
			return err
		}
		v.AsOf, v.Tallies = through, []ValueTally{}
		segments := map[string]keptValueTally{}
		for _, r := range rows {
			if r.Dimension == "segment" {
				segments[r.Label] = r
			} else {
				v.Tallies = append(v.Tallies, r.ValueTally)
			}
		}
		v.Segments, err = segmentValues(ctx, tx, *through, segments)
		return err
	})
	return v, err
}

// segmentValues is the value tally of each saved segment's buyers as of
// at, in name order: the kept one where the segment's definition is the
// one kept, else counted.
func segmentValues(ctx context.Context, q querier, at time.Time, kept map[string]keptValueTally) ([]ValueTally, error) {
	segs, err := listSegments(ctx, q)
	if err != nil {
		return nil, err
	}
	out := []ValueTally{}
	for _, seg := range segs {
		if k, ok := kept[seg.Name]; ok && k.Definition == seg.Definition {
			out = append(out, k.ValueTally)
			continue
		}
		sql, args, err := segmentValue(seg, at)
		if err != nil {
			return out, err
		}
		t, err := get[ValueTally](ctx, q, "customer value of segment "+seg.Name, sql, args...)
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// segmentValue is the query of seg's value tally as of at and its
// parameters ($1 at, $2 the segment's name).
func segmentValue(seg Segment, at time.Time) (string, []any, error) {
	def, err := segment.Parse([]byte(seg.Definition), seg.Name)
	if err != nil {
		return "", nil, fmt.Errorf("saved segment %s: %w", seg.Name, err)
	}
	where, args, err := def.CompileAfter(at, []any{at, seg.Name})
	if err != nil {
		return "", nil, fmt.Errorf("saved segment %s: %w", seg.Name, err)
	}
	return `
		WITH buyers AS (` + valueBuyers + ` AND (` + where + `))
		SELECT 'segment' AS dimension, $2::text AS label, ` + valueTotals + `
		FROM buyers`, args, nil
}

// keepValueTallies writes the refresh's value_tallies as of at: the groups
// in total, by cohort and tier, and each saved segment's with its
// definition (but a segment whose definition no longer compiles: one bad
// segment must not stop the refresh).
func keepValueTallies(ctx context.Context, tx pgx.Tx, at time.Time) (int64, error) {
	const insert = `INSERT INTO value_tallies (dimension, label, definition, customers, orders, revenue, years, mature, lapsed)
		SELECT dimension, label, %s, customers, orders, revenue, years, mature, lapsed FROM (%s) g`
	tag, err := tx.Exec(ctx, fmt.Sprintf(insert, "''", valueGroups), at)
	if err != nil {
		return 0, err
	}
	n := tag.RowsAffected()
	segs, err := listSegments(ctx, tx)
	if err != nil {
		return 0, err
	}
	for _, seg := range segs {
		sql, args, err := segmentValue(seg, at)
		if err != nil {
			// Not kept: the report counts it, and says what is wrong.
			continue
		}
		args = append(args, seg.Definition)
		tag, err := tx.Exec(ctx, fmt.Sprintf(insert, fmt.Sprintf("$%d::text", len(args)), sql), args...)
		if err != nil {
			return 0, fmt.Errorf("customer value of segment %s: %w", seg.Name, err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
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
