package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is something a customer did, stored before it is routed to journeys:
// the row is the truth, a lost signal can be replayed from it.
type Event struct {
	ID         int64          `db:"id" json:"-"`
	EventID    string         `db:"event_id" json:"event_id"`
	CustomerID string         `db:"customer_id" json:"customer_id"`
	Type       string         `db:"type" json:"type"`
	Properties map[string]any `db:"properties" json:"properties"`
	OccurredAt time.Time      `db:"occurred_at" json:"occurred_at"`
	ReceivedAt time.Time      `db:"received_at" json:"received_at"`
	RoutedAt   *time.Time     `db:"routed_at" json:"routed_at,omitempty"`
}

// EventInput is an event to record. EventID is the client's own ID and makes
// ingestion idempotent.
type EventInput struct {
	EventID    string         `json:"event_id"`
	CustomerID string         `json:"customer_id"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	OccurredAt time.Time      `json:"occurred_at"`
	// Unrouted says the event concerns no journey or campaign (a page view,
	// usually): it is stored as routed and never enters the outbox, which
	// saves a second write of the row.
	Unrouted bool `json:"unrouted,omitempty"`
}

// PurchaseEvent is the event type that moves the purchase aggregates; its
// "amount" property is the order value.
const PurchaseEvent = "purchase"

// RecordedEvent is one stored event and whether this call created it (false:
// the event ID was already stored, nothing changed).
type RecordedEvent struct {
	Event
	Created bool
}

const eventColumns = `id, event_id, customer_id::text AS customer_id, type, properties, occurred_at, received_at, routed_at`

// recordEvents inserts a batch, skipping event IDs already stored, and in the
// same statement folds the new purchases into the customers' aggregates, so
// the aggregates can never disagree with the events.
const recordEvents = `
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
        event_id text, customer_id uuid, type text, properties jsonb, occurred_at timestamptz, unrouted boolean)
), ins AS (
    INSERT INTO events (event_id, customer_id, type, properties, occurred_at, routed_at)
    SELECT event_id, customer_id, type, coalesce(properties, '{}'), occurred_at,
        CASE WHEN unrouted THEN now() END FROM r
    ON CONFLICT (event_id) DO NOTHING
    RETURNING ` + eventColumns + `
), agg AS (
    UPDATE customers c SET
        orders_count = c.orders_count + a.orders,
        total_spent = c.total_spent + a.amount,
        first_purchase_at = least(c.first_purchase_at, a.first_purchase),
        last_purchase_at = greatest(c.last_purchase_at, a.last_purchase),
        last_seen_at = greatest(c.last_seen_at, a.seen)
    FROM (
        SELECT customer_id::uuid AS customer_id,
            count(*) FILTER (WHERE type = 'purchase') AS orders,
            coalesce(sum((properties->>'amount')::numeric) FILTER (WHERE type = 'purchase'), 0) AS amount,
            min(occurred_at) FILTER (WHERE type = 'purchase') AS first_purchase,
            max(occurred_at) FILTER (WHERE type = 'purchase') AS last_purchase,
            max(occurred_at) AS seen
        FROM ins GROUP BY customer_id
    ) a
    WHERE c.id = a.customer_id
)
SELECT ` + eventColumns + `, true AS created FROM ins`

// RecordEvents stores a batch of events idempotently and returns every input
// as stored, with Created false for duplicates. Inputs must be valid; a
// purchase's "amount" must be a number.
func (s *Store) RecordEvents(ctx context.Context, in []EventInput) ([]RecordedEvent, error) {
	if len(in) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode events: %w", err)
	}
	created, err := rowsOf[RecordedEvent](ctx, s.pool, recordEvents, payload)
	if err != nil {
		return nil, fmt.Errorf("record %d events: %w", len(in), err)
	}
	if len(created) == len(in) {
		return created, nil
	}
	byID := make(map[string]RecordedEvent, len(in))
	for _, e := range created {
		byID[e.EventID] = e
	}
	var missing []string
	for _, e := range in {
		if _, ok := byID[e.EventID]; !ok {
			missing = append(missing, e.EventID)
		}
	}
	dups, err := rowsOf[RecordedEvent](ctx, s.pool, `SELECT `+eventColumns+`, false AS created FROM events WHERE event_id = ANY($1)`, missing)
	if err != nil {
		return nil, fmt.Errorf("load duplicate events: %w", err)
	}
	for _, e := range dups {
		byID[e.EventID] = e
	}
	out := make([]RecordedEvent, 0, len(in))
	emitted := map[string]bool{}
	for _, e := range in {
		got, ok := byID[e.EventID]
		if !ok {
			return nil, fmt.Errorf("record event %s: neither stored nor found", e.EventID)
		}
		if emitted[e.EventID] {
			got.Created = false
		}
		emitted[e.EventID] = true
		out = append(out, got)
	}
	return out, nil
}

// RecordEvent stores one event idempotently.
func (s *Store) RecordEvent(ctx context.Context, in EventInput) (RecordedEvent, error) {
	out, err := s.RecordEvents(ctx, []EventInput{in})
	if err != nil {
		return RecordedEvent{}, err
	}
	return out[0], nil
}

// CustomerEvents lists a customer's events of one type (all types when typ is
// empty) since a time, newest first.
func (s *Store) CustomerEvents(ctx context.Context, customerID, typ string, since time.Time, limit int) ([]Event, error) {
	return list[Event](ctx, s.pool, fmt.Sprintf("list events of %s", customerID), `
		SELECT `+eventColumns+`
		FROM events
		WHERE customer_id = $1 AND ($2 = '' OR type = $2) AND occurred_at >= $3
		ORDER BY occurred_at DESC
		LIMIT $4`, customerID, typ, since, limit)
}

// CustomerEvent returns one of a customer's events by its event ID, or
// ErrNotFound. Journeys hear only an event's ID and type (workflows carry
// no PII); its activities read the properties here.
func (s *Store) CustomerEvent(ctx context.Context, customerID, eventID string) (Event, error) {
	return get[Event](ctx, s.pool, fmt.Sprintf("event %s of %s", eventID, customerID), `SELECT `+eventColumns+` FROM events WHERE customer_id = $1 AND event_id = $2`, customerID, eventID)
}
