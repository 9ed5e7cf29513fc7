package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CustomerJourneyRuns lists a customer's runs of the named journeys, newest
// first; the journey-first index answers it one journey at a time.
func (s *Store) CustomerJourneyRuns(ctx context.Context, customerID string, journeys []string) ([]JourneyRun, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+journeyRunColumns+`
		FROM journey_runs
		WHERE journey = ANY($1) AND customer_id = $2
		ORDER BY started_at DESC`, journeys, customerID)
	if err != nil {
		return nil, fmt.Errorf("list journey runs of %s: %w", customerID, err)
	}
	runs, err := pgx.CollectRows(rows, pgx.RowToStructByName[JourneyRun])
	if err != nil {
		return nil, fmt.Errorf("list journey runs of %s: %w", customerID, err)
	}
	return runs, nil
}
