package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// JourneyRuns counts a journey's runs started in a period: how many, for how
// many customers, and how many of them converted (at any time since);
// Recovered is the customers with a conversion recorded in the period.
type JourneyRuns struct {
	Runs      int `db:"runs"`
	Customers int `db:"customers"`
	Converted int `db:"converted"`
	Recovered int `db:"recovered"`
}

// JourneyConversions is the conversions of a period credited to one step
// (the step before the goal event: last touch), in one currency.
type JourneyConversions struct {
	Step        string  `db:"step" json:"step"`
	Currency    string  `db:"currency" json:"currency"`
	Conversions int     `db:"conversions" json:"conversions"`
	Customers   int     `db:"customers" json:"customers"`
	Revenue     float64 `db:"revenue" json:"revenue"`
}

// JourneyResults counts the runs of a journey started in [since, until) and
// the conversions recorded in it, by credited step and currency.
func (s *Store) JourneyResults(ctx context.Context, journey string, since, until time.Time) (JourneyRuns, []JourneyConversions, error) {
	var runs JourneyRuns
	rows, err := s.pool.Query(ctx, `
		SELECT count(*)::int AS runs, count(DISTINCT r.customer_id)::int AS customers,
			count(c.run_id)::int AS converted,
			(SELECT count(DISTINCT customer_id) FROM conversions
			 WHERE journey = $1 AND converted_at >= $2 AND converted_at < $3)::int AS recovered
		FROM journey_runs r
		LEFT JOIN conversions c ON c.journey = r.journey AND c.run_id = r.run_id
		WHERE r.journey = $1 AND r.started_at >= $2 AND r.started_at < $3`, journey, since, until)
	if err == nil {
		runs, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[JourneyRuns])
	}
	if err != nil {
		return runs, nil, fmt.Errorf("journey %s runs: %w", journey, err)
	}
	conv, err := rowsOf[JourneyConversions](ctx, s.pool, `
		SELECT step, currency, count(*)::int AS conversions, count(DISTINCT customer_id)::int AS customers,
			coalesce(sum(revenue), 0)::float8 AS revenue
		FROM conversions
		WHERE journey = $1 AND converted_at >= $2 AND converted_at < $3
		GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2`, journey, since, until)
	if err != nil {
		return runs, nil, fmt.Errorf("journey %s conversions: %w", journey, err)
	}
	return runs, conv, nil
}
