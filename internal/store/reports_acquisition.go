package store

import (
	"context"
	"time"
)

// AcquisitionTally is the customers who signed up through one source (the
// signup event's "source" property; "" when it has none) in a period, how
// many of them have bought, and what they have spent.
type AcquisitionTally struct {
	Source  string  `db:"source" json:"source"`
	Signups int     `db:"signups" json:"signups"`
	Buyers  int     `db:"buyers" json:"buyers"`
	Revenue float64 `db:"revenue" json:"revenue"`
}

// AcquisitionTallies counts the signups of [since, until) by source; a
// customer counts once, by their first signup event of the period.
func (s *Store) AcquisitionTallies(ctx context.Context, since, until time.Time) ([]AcquisitionTally, error) {
	return list[AcquisitionTally](ctx, s.pool, "acquisition", `
		WITH signups AS (
			SELECT DISTINCT ON (customer_id) customer_id, coalesce(properties->>'source', '') AS source
			FROM events WHERE type = 'signup' AND occurred_at >= $1 AND occurred_at < $2
			ORDER BY customer_id, occurred_at
		)
		SELECT s.source, count(*)::int AS signups, count(*) FILTER (WHERE c.orders_count > 0)::int AS buyers,
			coalesce(sum(c.total_spent), 0)::float8 AS revenue
		FROM signups s JOIN customers c ON c.id = s.customer_id
		GROUP BY 1 ORDER BY 2 DESC, 1`, since, until)
}
