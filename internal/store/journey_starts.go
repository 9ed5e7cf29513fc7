package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// JourneyStart is a journey run an event will start when it is due: the
// router defers the start of a journey whose first step is days after its
// trigger, so ingesting the event costs a row here instead of a run in
// Temporal.
type JourneyStart struct {
	Journey    string    `db:"journey" json:"journey"`
	CustomerID string    `db:"customer_id" json:"customer_id"`
	EventID    string    `db:"event_id" json:"event_id"`
	EventType  string    `db:"event_type" json:"event_type"`
	OccurredAt time.Time `db:"occurred_at" json:"occurred_at"`
	DueAt      time.Time `db:"due_at" json:"due_at"`
}

// journeyStartColumns selects a JourneyStart.
const journeyStartColumns = `journey, customer_id::text AS customer_id, event_id, event_type, occurred_at, due_at`

// StartFunc starts one deferred run; the row is removed only when it
// returns nil.
type StartFunc func(ctx context.Context, js JourneyStart) error

// deferStarts records starts in the outbox's transaction. A customer with a
// start of the journey pending keeps it: the later event is that run's goal.
func deferStarts(ctx context.Context, tx pgx.Tx, starts []JourneyStart) error {
	if len(starts) == 0 {
		return nil
	}
	journeys, customers, events, types := make([]string, len(starts)), make([]string, len(starts)), make([]string, len(starts)), make([]string, len(starts))
	occurred, due := make([]time.Time, len(starts)), make([]time.Time, len(starts))
	for i, js := range starts {
		journeys[i], customers[i], events[i], types[i], occurred[i], due[i] = js.Journey, js.CustomerID, js.EventID, js.EventType, js.OccurredAt, js.DueAt
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO journey_starts (journey, customer_id, event_id, event_type, occurred_at, due_at)
		SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
		ON CONFLICT (journey, customer_id) DO NOTHING`, journeys, customers, events, types, occurred, due)
	if err != nil {
		return fmt.Errorf("defer %d journey starts: %w", len(starts), err)
	}
	return nil
}

// StartDue hands the deferred starts due by now, earliest first and up to
// limit, to start, and removes those it started. Rows are locked FOR UPDATE
// SKIP LOCKED, so several routers share the work without starting a run
// twice. It stops at the first failure, which is recorded on its row, and
// returns how many it started.
func (s *Store) StartDue(ctx context.Context, now time.Time, limit int, start StartFunc) (int, error) {
	var started int
	var startErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		due, err := rowsOf[JourneyStart](ctx, tx, `
			SELECT `+journeyStartColumns+`
			FROM journey_starts
			WHERE due_at <= $1
			ORDER BY due_at
			LIMIT $2
			FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return err
		}
		var journeys, customers []string
		for _, js := range due {
			if startErr = start(ctx, js); startErr != nil {
				if _, err := tx.Exec(ctx, `
					UPDATE journey_starts SET attempts = attempts + 1, error = $3
					WHERE journey = $1 AND customer_id = $2`, js.Journey, js.CustomerID, startErr.Error()); err != nil {
					return err
				}
				break
			}
			journeys, customers = append(journeys, js.Journey), append(customers, js.CustomerID)
		}
		started = len(journeys)
		_, err = tx.Exec(ctx, `
			DELETE FROM journey_starts s USING unnest($1::text[], $2::uuid[]) AS d(journey, customer_id)
			WHERE s.journey = d.journey AND s.customer_id = d.customer_id`, journeys, customers)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start due journeys: %w", err)
	}
	if startErr != nil {
		return started, fmt.Errorf("start due journeys: %w", startErr)
	}
	return started, nil
}

// PendingStarts counts the deferred starts of each journey, for `tidings
// journeys list` and the ingest benchmark.
func (s *Store) PendingStarts(ctx context.Context) (map[string]int, error) {
	type pending struct {
		Journey string `db:"journey"`
		N       int    `db:"n"`
	}
	ps, err := list[pending](ctx, s.pool, "pending journey starts", `SELECT journey, count(*)::int AS n FROM journey_starts GROUP BY journey`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(ps))
	for _, p := range ps {
		out[p.Journey] = p.N
	}
	return out, nil
}
