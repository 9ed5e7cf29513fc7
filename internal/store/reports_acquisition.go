package store

import (
	"context"
	"time"
)

// keptAcquisition is the acquisition report's name in report_tallies.
const keptAcquisition = "acquisition"

// AcquisitionTally is the customers acquired through one source (the
// source property of their first signup event; "" when it has none) in a
// period, how many of them have bought, and what they have spent.
type AcquisitionTally struct {
	Source  string  `db:"source" json:"source"`
	Signups int     `db:"signups" json:"signups"`
	Buyers  int     `db:"buyers" json:"buyers"`
	Revenue float64 `db:"revenue" json:"revenue"`
}

// Acquisitions is the acquisition report's counts. AsOf is set when some
// of them come from days a refresh kept: those customers' buyers and
// revenue are as of then.
type Acquisitions struct {
	Sources []AcquisitionTally
	AsOf    *time.Time
}

// AcquisitionTallies counts by source the customers whose first signup
// event ever fell in [since, until): a customer is acquired once, when
// they first signed up, so a second signup (a new source, a re-signup)
// does not count them again. The days the refresh kept (acquisition_days)
// are read from there; only the signups after it and the parts of days the
// period cuts are counted live.
func (s *Store) AcquisitionTallies(ctx context.Context, since, until time.Time) (a Acquisitions, err error) {
	err = s.readKept(ctx, keptAcquisition, func(tx querier, through *time.Time) error {
		sp := spanOf(since, until, through)
		if sp.days0 < sp.days1 {
			a.AsOf = through
		}
		a.Sources, err = list[AcquisitionTally](ctx, tx, "acquisition", acquisitionTallies, sp.args()...)
		return err
	})
	return a, err
}

// acquired counts the customers of signups, the buyers among them and
// their spend, for a GROUP BY to follow.
const acquired = `count(*) AS signups, count(*) FILTER (WHERE c.orders_count > 0) AS buyers,
		coalesce(sum(c.total_spent), 0) AS revenue
	FROM signups s JOIN customers c ON c.id = s.customer_id`

// keepAcquisitionDays is the refresh's acquisition_days: every customer's
// first signup before $1 by its day and source.
var keepAcquisitionDays = `
INSERT INTO acquisition_days (day, source, signups, buyers, revenue)
WITH signups AS (
	SELECT DISTINCT ON (customer_id) customer_id, coalesce(properties->>'source', '') AS source, occurred_at
	FROM events WHERE type = 'signup' AND occurred_at < $1
	ORDER BY customer_id, occurred_at, id
)
SELECT (s.occurred_at AT TIME ZONE 'UTC')::date, s.source, ` + acquired + `
GROUP BY 1, 2`

// acquisitionTallies adds the kept days to the signups of the live parts
// that are their customer's first (by time, then id, as DISTINCT ON picks
// them in keepAcquisitionDays), over a keptSpan's parameters.
var acquisitionTallies = `
WITH signups AS (
	SELECT ev.customer_id, coalesce(ev.properties->>'source', '') AS source
	FROM events ev
	WHERE ev.type = 'signup' AND ` + live("ev.occurred_at", 1) + ` AND NOT EXISTS (
		SELECT 1 FROM events e WHERE e.customer_id = ev.customer_id AND e.type = 'signup'
			AND e.occurred_at <= ev.occurred_at AND (e.occurred_at < ev.occurred_at OR e.id < ev.id))
), counted AS (
	SELECT s.source, ` + acquired + ` GROUP BY 1
	UNION ALL
	SELECT source, signups, buyers, revenue FROM acquisition_days WHERE day >= $5::date AND day < $6::date
)
SELECT source, sum(signups)::int AS signups, sum(buyers)::int AS buyers, sum(revenue)::float8 AS revenue
FROM counted GROUP BY 1 ORDER BY 2 DESC, 1`
