package store

import (
	"context"
	"fmt"
)

// CustomerJourneyRuns lists a customer's runs of the named journeys, newest
// first; the journey-first index answers it one journey at a time.
func (s *Store) CustomerJourneyRuns(ctx context.Context, customerID string, journeys []string) ([]JourneyRun, error) {
	return list[JourneyRun](ctx, s.pool, fmt.Sprintf("list journey runs of %s", customerID), `
		SELECT `+journeyRunColumns+`
		FROM journey_runs
		WHERE journey = ANY($1) AND customer_id = $2
		ORDER BY started_at DESC`, journeys, customerID)
}
