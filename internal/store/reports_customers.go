package store

import (
	"context"
	"time"
)

// RetentionCell counts the customers of a first-purchase cohort (a month,
// 2026-03) who purchased in the month Offset months after it; Offset 0 is
// the cohort's size.
type RetentionCell struct {
	Cohort    string `db:"cohort"`
	Offset    int    `db:"month_offset"`
	Customers int    `db:"customers"`
}

// RetentionCells counts, for every customer whose first purchase fell in
// [since, until), the months (UTC) in which they purchased before until,
// by cohort and months since the cohort. The first purchase is the
// customer's first_purchase_at, so imported history counts; later
// purchases are purchase events.
func (s *Store) RetentionCells(ctx context.Context, since, until time.Time) ([]RetentionCell, error) {
	return list[RetentionCell](ctx, s.pool, "retention", `
		WITH cohort AS (
			SELECT id AS customer_id, date_trunc('month', first_purchase_at AT TIME ZONE 'UTC') AS month
			FROM customers WHERE first_purchase_at >= $1 AND first_purchase_at < $2
		), bought AS (
			SELECT DISTINCT customer_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS month
			FROM events WHERE type = 'purchase' AND occurred_at >= $1 AND occurred_at < $2
		)
		SELECT to_char(c.month, 'YYYY-MM') AS cohort, 0 AS month_offset, count(*)::int AS customers
		FROM cohort c GROUP BY c.month
		UNION ALL
		SELECT to_char(c.month, 'YYYY-MM'),
			((extract(year FROM b.month) - extract(year FROM c.month)) * 12
				+ extract(month FROM b.month) - extract(month FROM c.month))::int,
			count(*)::int
		FROM cohort c JOIN bought b ON b.customer_id = c.customer_id AND b.month > c.month
		GROUP BY 1, 2
		ORDER BY 1, 2`, since, until)
}

// ChurnCount is one period of the churn report. A customer is active at a
// moment when they purchased in the days before it; ActiveAtStart were
// active at the period's start, Churned of those are not at its end, and
// Gained were active at the end but not at the start (new or returning).
type ChurnCount struct {
	Start         time.Time `db:"start" json:"start"`
	End           time.Time `db:"end" json:"end"`
	ActiveAtStart int       `db:"active_at_start" json:"active_at_start"`
	Churned       int       `db:"churned" json:"churned"`
	ActiveAtEnd   int       `db:"active_at_end" json:"active_at_end"`
	Gained        int       `db:"gained" json:"gained"`
}

// ChurnCounts counts, for each period [starts[i], ends[i]), the customers
// active (a purchase event within days before the moment) at its start and
// at its end. Periods without customers are returned with zero counts.
func (s *Store) ChurnCounts(ctx context.Context, starts, ends []time.Time, days int) ([]ChurnCount, error) {
	return list[ChurnCount](ctx, s.pool, "churn", `
		WITH periods AS (
			SELECT s AS start, e AS "end" FROM unnest($1::timestamptz[], $2::timestamptz[]) AS p(s, e)
		), per AS (
			SELECT p.start, p."end", ev.customer_id,
				bool_or(ev.occurred_at < p.start) AS at_start,
				bool_or(ev.occurred_at >= p."end" - make_interval(days => $3)) AS at_end
			FROM periods p
			JOIN events ev ON ev.type = 'purchase'
				AND ev.occurred_at >= p.start - make_interval(days => $3) AND ev.occurred_at < p."end"
			GROUP BY 1, 2, 3
		)
		SELECT p.start, p."end",
			count(per.customer_id) FILTER (WHERE per.at_start)::int AS active_at_start,
			count(per.customer_id) FILTER (WHERE per.at_start AND NOT per.at_end)::int AS churned,
			count(per.customer_id) FILTER (WHERE per.at_end)::int AS active_at_end,
			count(per.customer_id) FILTER (WHERE per.at_end AND NOT per.at_start)::int AS gained
		FROM periods p LEFT JOIN per ON per.start = p.start
		GROUP BY 1, 2 ORDER BY 1`, starts, ends, days)
}
