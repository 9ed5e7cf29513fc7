package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// DeliverFunc delivers one stored event to the journeys it concerns. The
// outbox marks the event routed only when it returns nil.
type DeliverFunc func(ctx context.Context, e Event) error

// DeliverOutbox hands unrouted events (routed_at IS NULL) to deliver in the
// order they were stored: the events with the given IDs, or, when ids is
// empty, the oldest up to limit. Rows are locked FOR UPDATE SKIP LOCKED for the
// duration, so several processes can drain at once without delivering an
// event twice, and an event already routed is never routed again. It stops at
// the first failure (the journey engine is most likely unreachable), records
// the error on that event, and returns the IDs it routed.
func (s *Store) DeliverOutbox(ctx context.Context, ids []int64, limit int, deliver DeliverFunc) ([]int64, error) {
	var routed []int64
	var deliverErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+eventColumns+`
			FROM events
			WHERE routed_at IS NULL AND (coalesce(cardinality($1::bigint[]), 0) = 0 OR id = ANY($1))
			ORDER BY id
			LIMIT $2
			FOR UPDATE SKIP LOCKED`, ids, limit)
		if err != nil {
			return err
		}
		evs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Event])
		if err != nil {
			return err
		}
		for _, e := range evs {
			if deliverErr = deliver(ctx, e); deliverErr != nil {
				_, err := tx.Exec(ctx, `
					UPDATE events SET route_attempts = route_attempts + 1, route_error = $2
					WHERE id = $1`, e.ID, deliverErr.Error())
				return err
			}
			if _, err := tx.Exec(ctx, `
				UPDATE events SET routed_at = now(), route_attempts = route_attempts + 1, route_error = ''
				WHERE id = $1`, e.ID); err != nil {
				return err
			}
			routed = append(routed, e.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deliver outbox: %w", err)
	}
	if deliverErr != nil {
		return routed, fmt.Errorf("deliver outbox: %w", deliverErr)
	}
	return routed, nil
}

// OutboxSize counts events not yet routed, for metrics and `tidings report`.
func (s *Store) OutboxSize(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE routed_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// LedgerCount is how many ledger rows have one channel and status.
type LedgerCount struct {
	Channel string `db:"channel"`
	Status  string `db:"status"`
	Count   int64  `db:"count"`
}

// LedgerCounts counts the delivery ledger by channel and status; metrics read
// it at scrape time so the numbers are the ledger's, not a process's memory.
func (s *Store) LedgerCounts(ctx context.Context) ([]LedgerCount, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT channel, status, count(*) AS count FROM messages GROUP BY channel, status ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("count ledger: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[LedgerCount])
	if err != nil {
		return nil, fmt.Errorf("count ledger: %w", err)
	}
	return cs, nil
}
