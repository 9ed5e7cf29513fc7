package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// DeliverFunc delivers one stored event to the journeys it concerns and
// returns the starts it defers (journey runs with nothing to do yet). The
// outbox marks the event routed, and records those starts, only when it
// returns nil. It may be called concurrently for events of different
// customers.
type DeliverFunc func(ctx context.Context, e Event) ([]JourneyStart, error)

// outboxParallel is how many customers' events DeliverOutbox delivers at
// once. Delivering is a round trip to Temporal per journey an event
// concerns; one after another, a batch of 500 events would spend its time
// waiting on them.
const outboxParallel = 16

// DeliverOutbox hands unrouted events (routed_at IS NULL) to deliver: the
// events with the given IDs, or, when ids is empty, the oldest up to limit.
// Rows are locked FOR UPDATE SKIP LOCKED for the duration, so several
// processes can drain at once without delivering an event twice, and an
// event already routed is never routed again. Each customer's events are
// delivered in the order they were stored, one after another; different
// customers' events are delivered concurrently (up to outboxParallel). A
// failure (the journey engine is most likely unreachable) stops that
// customer's later events and keeps any customer not yet started from
// starting; the error is recorded on the event that failed. Routed events
// are marked in one statement. It returns the IDs it routed, in stored
// order, and the first failure. The starts deliver defers are recorded in
// journey_starts in the transaction that marks their events routed, so an
// event is either still in the outbox or has its starts recorded.
func (s *Store) DeliverOutbox(ctx context.Context, ids []int64, limit int, deliver DeliverFunc) ([]int64, error) {
	var routed []int64
	var deliverErr error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		evs, err := rowsOf[Event](ctx, tx, `
			SELECT `+eventColumns+`
			FROM events
			WHERE routed_at IS NULL AND (coalesce(cardinality($1::bigint[]), 0) = 0 OR id = ANY($1))
			ORDER BY id
			LIMIT $2
			FOR UPDATE SKIP LOCKED`, ids, limit)
		if err != nil {
			return err
		}
		var failed []failedEvent
		var starts []JourneyStart
		routed, starts, failed = deliverByCustomer(ctx, evs, deliver)
		if len(failed) > 0 {
			deliverErr = failed[0].err
			fids, reasons := make([]int64, len(failed)), make([]string, len(failed))
			for i, f := range failed {
				fids[i], reasons[i] = f.id, f.err.Error()
			}
			if _, err := tx.Exec(ctx, `
				UPDATE events e SET route_attempts = e.route_attempts + 1, route_error = f.reason
				FROM unnest($1::bigint[], $2::text[]) AS f(id, reason)
				WHERE e.id = f.id`, fids, reasons); err != nil {
				return err
			}
		}
		if len(routed) > 0 {
			if _, err := tx.Exec(ctx, `
				UPDATE events SET routed_at = now(), route_attempts = route_attempts + 1, route_error = ''
				WHERE id = ANY($1)`, routed); err != nil {
				return err
			}
		}
		return deferStarts(ctx, tx, starts)
	})
	if err != nil {
		return nil, fmt.Errorf("deliver outbox: %w", err)
	}
	if deliverErr != nil {
		return routed, fmt.Errorf("deliver outbox: %w", deliverErr)
	}
	return routed, nil
}

// failedEvent is an event whose delivery failed, and why.
type failedEvent struct {
	id  int64
	err error
}

// deliverByCustomer delivers evs (in stored order) as DeliverOutbox
// describes and returns the IDs delivered, in stored order, the starts
// their delivery deferred, and the failures, in stored order.
func deliverByCustomer(ctx context.Context, evs []Event, deliver DeliverFunc) ([]int64, []JourneyStart, []failedEvent) {
	var order []string
	byCustomer := map[string][]int{}
	for i, e := range evs {
		if _, ok := byCustomer[e.CustomerID]; !ok {
			order = append(order, e.CustomerID)
		}
		byCustomer[e.CustomerID] = append(byCustomer[e.CustomerID], i)
	}
	done := make([]bool, len(evs))
	errs := make([]error, len(evs))
	deferred := make([][]JourneyStart, len(evs))
	var stop atomic.Bool
	next := make(chan []int)
	var wg sync.WaitGroup
	for range min(outboxParallel, len(order)) {
		wg.Go(func() {
			for idx := range next {
				for _, i := range idx {
					if deferred[i], errs[i] = deliver(ctx, evs[i]); errs[i] != nil {
						stop.Store(true)
						break
					}
					done[i] = true
				}
			}
		})
	}
	for _, c := range order {
		if stop.Load() {
			break
		}
		next <- byCustomer[c]
	}
	close(next)
	wg.Wait()
	var routed []int64
	var starts []JourneyStart
	var failed []failedEvent
	for i, e := range evs {
		switch {
		case done[i]:
			routed = append(routed, e.ID)
			starts = append(starts, deferred[i]...)
		case errs[i] != nil:
			failed = append(failed, failedEvent{e.ID, errs[i]})
		}
	}
	return routed, starts, failed
}

// OutboxSize counts events not yet routed, for metrics and `tidings report`.
func (s *Store) OutboxSize(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE routed_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// OutboxStats is the outbox as metrics show it.
type OutboxStats struct {
	// Size counts the events not yet routed.
	Size int
	// OldestAge is how long the oldest of them has waited since it was
	// stored; 0 when there is none.
	OldestAge time.Duration
}

// OutboxStats reads the outbox's size and age in one statement.
func (s *Store) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var o OutboxStats
	var age float64
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM now() - min(received_at)), 0)::float8
		FROM events WHERE routed_at IS NULL`).Scan(&o.Size, &age)
	if err != nil {
		return OutboxStats{}, fmt.Errorf("read outbox: %w", err)
	}
	o.OldestAge = time.Duration(age * float64(time.Second))
	return o, nil
}
