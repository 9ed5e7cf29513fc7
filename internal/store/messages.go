package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Message statuses in the ledger.
const (
	StatusQueued  = "queued"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// JourneyTest is the journey of a test send's ledger row: counted in no
// report and in no customer's frequency cap.
const JourneyTest = "test"

// Message is one ledger row: an intended message and what became of it.
type Message struct {
	ID                string     `db:"id" json:"id"`
	IdempotencyKey    string     `db:"idempotency_key" json:"idempotency_key"`
	CustomerID        string     `db:"customer_id" json:"customer_id"`
	Journey           string     `db:"journey" json:"journey"`
	Step              string     `db:"step" json:"step"`
	Channel           string     `db:"channel" json:"channel"`
	Template          string     `db:"template" json:"template"`
	Topic             string     `db:"topic" json:"topic"`
	Locale            string     `db:"locale" json:"locale"`
	Recipient         string     `db:"recipient" json:"recipient"`
	Status            string     `db:"status" json:"status"`
	Reason            string     `db:"reason" json:"reason,omitempty"`
	ProviderMessageID string     `db:"provider_message_id" json:"provider_message_id,omitempty"`
	Segments          int        `db:"segments" json:"segments,omitempty"`
	Attempts          int        `db:"attempts" json:"attempts"`
	CreatedAt         time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at" json:"updated_at"`
	SentAt            *time.Time `db:"sent_at" json:"sent_at,omitempty"`
}

const messageColumns = `
	id::text AS id, idempotency_key, coalesce(customer_id::text, '') AS customer_id, journey, step,
	channel, template, topic, locale, recipient, status, reason, provider_message_id,
	segments, attempts, created_at, updated_at, sent_at`

// ReserveMessage inserts the ledger row for m.IdempotencyKey; see
// ReserveMessages.
func (s *Store) ReserveMessage(ctx context.Context, m Message) (Message, bool, error) {
	got, created, err := s.ReserveMessages(ctx, []Message{m})
	if err != nil {
		return Message{}, false, err
	}
	return got[0], created[0], nil
}

// ReserveMessages inserts the ledger rows for a batch of messages in one
// statement (one commit for the whole batch), each with m.ID as its ID when
// given, so links rendered before the insert can name the row. For each
// input it returns the row (the input plus the stored ID, status, reason and
// attempts) and whether this call created it. When a key
// exists already the existing row comes back with false; the caller must not
// send again unless that row is still queued (an attempt that crashed
// mid-send), in which case the attempt is counted. A queued row created here
// counts as the first attempt. Keys must be unique within a batch.
func (s *Store) ReserveMessages(ctx context.Context, ms []Message) ([]Message, []bool, error) {
	if len(ms) == 0 {
		return nil, nil, nil
	}
	type input struct {
		Message
		N        int     `json:"n"`
		IDOrNull *string `json:"id_or_null"`
		Customer *string `json:"customer"`
	}
	in := make([]input, len(ms))
	index := make(map[string]int, len(ms))
	for i, m := range ms {
		if m.Status == "" {
			m.Status = StatusQueued
		}
		m.Attempts = 0
		if m.Status == StatusQueued {
			m.Attempts = 1
		}
		in[i] = input{Message: m, N: i}
		if m.ID != "" {
			in[i].IDOrNull = &ms[i].ID
		}
		if m.CustomerID != "" {
			in[i].Customer = &ms[i].CustomerID
		}
		if _, dup := index[m.IdempotencyKey]; dup {
			return nil, nil, fmt.Errorf("reserve messages: idempotency key %q appears twice in one batch", m.IdempotencyKey)
		}
		index[m.IdempotencyKey] = i
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, nil, fmt.Errorf("encode messages: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO messages AS m (id, idempotency_key, customer_id, journey, step, channel, template,
			topic, locale, recipient, status, reason, segments, attempts)
		SELECT coalesce(r.id_or_null, gen_random_uuid()), r.idempotency_key, r.customer, r.journey, r.step,
			r.channel, r.template, r.topic, coalesce(r.locale, ''), coalesce(r.recipient, ''), r.status,
			coalesce(r.reason, ''), coalesce(r.segments, 0), r.attempts
		FROM jsonb_to_recordset($1::jsonb) AS r(n int, id_or_null uuid, idempotency_key text, customer uuid,
			journey text, step text, channel text, template text, topic text, locale text, recipient text,
			status text, reason text, segments int, attempts int)
		ORDER BY r.n
		ON CONFLICT (idempotency_key) DO UPDATE
		SET attempts = m.attempts + 1, updated_at = now()
		WHERE m.status = 'queued' AND excluded.status = 'queued'
		RETURNING id::text AS id, idempotency_key, status, reason, attempts, (xmax = 0) AS created`, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("reserve %d messages: %w", len(ms), err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[reserved])
	if err != nil {
		return nil, nil, fmt.Errorf("reserve %d messages: %w", len(ms), err)
	}
	out := make([]Message, len(ms))
	created := make([]bool, len(ms))
	var missing []string
	for _, r := range got {
		i := index[r.IdempotencyKey]
		// The statement returns only what changed; the rest is the input.
		m := ms[i]
		m.ID, m.Status, m.Reason, m.Attempts = r.ID, r.Status, r.Reason, r.Attempts
		out[i], created[i] = m, r.Created
		delete(index, r.IdempotencyKey)
	}
	for key := range index {
		missing = append(missing, key)
	}
	if len(missing) > 0 {
		existing, err := s.MessagesByKey(ctx, missing)
		if err != nil {
			return nil, nil, err
		}
		for _, key := range missing {
			m, ok := existing[key]
			if !ok {
				return nil, nil, fmt.Errorf("reserve message %s: row vanished", key)
			}
			out[index[key]] = m
		}
	}
	return out, created, nil
}

// reserved is a ledger row plus whether the insert created it.
type reserved struct {
	Message
	Created bool `db:"created"`
}

// MessagesByKey looks ledger rows up by idempotency key; keys without a row
// are absent from the map.
func (s *Store) MessagesByKey(ctx context.Context, keys []string) (map[string]Message, error) {
	ms, err := rowsOf[Message](ctx, s.pool, `SELECT `+messageColumns+` FROM messages WHERE idempotency_key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("load %d messages: %w", len(keys), err)
	}
	out := make(map[string]Message, len(ms))
	for _, m := range ms {
		out[m.IdempotencyKey] = m
	}
	return out, nil
}

// MessageByID looks a ledger row up by its ID (the ID carried in message
// headers and links).
func (s *Store) MessageByID(ctx context.Context, id string) (Message, error) {
	return s.oneMessage(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id)
}

func (s *Store) oneMessage(ctx context.Context, query, key string) (Message, error) {
	return get[Message](ctx, s.pool, fmt.Sprintf("message %s", key), query, key)
}

// Outcome is what became of a send attempt.
type Outcome struct {
	Status            string `json:"status"`
	Reason            string `json:"reason"`
	ProviderMessageID string `json:"provider_message_id"`
	Segments          int    `json:"segments"`
}

// CompleteMessage records the outcome of a queued message; see
// CompleteMessages.
func (s *Store) CompleteMessage(ctx context.Context, id string, o Outcome) error {
	return s.CompleteMessages(ctx, []Completion{{ID: id, Outcome: o}})
}

// Completion is the outcome of one ledger row.
type Completion struct {
	ID string `json:"id"`
	Outcome
}

// CompleteMessages records the outcomes of queued messages in one statement.
// A row that already has a final status is left alone, so a late retry
// cannot overwrite "sent".
func (s *Store) CompleteMessages(ctx context.Context, cs []Completion) error {
	if len(cs) == 0 {
		return nil
	}
	payload, err := json.Marshal(cs)
	if err != nil {
		return fmt.Errorf("encode outcomes: %w", err)
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	// The same statement keeps the attempt (see message_attempts).
	_, err = s.pool.Exec(ctx, `
		WITH done AS (
			UPDATE messages m SET
				status = o.status, reason = o.reason, provider_message_id = o.provider_message_id,
				segments = CASE WHEN o.segments > 0 THEN o.segments ELSE m.segments END,
				updated_at = now(),
				sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE m.sent_at END
			FROM jsonb_to_recordset($1::jsonb) AS o(id uuid, status text, reason text,
				provider_message_id text, segments int)
			WHERE m.id = o.id AND m.status = 'queued'
			  AND m.id = ANY($2::uuid[]) -- lets the planner reach the rows by primary key
			RETURNING m.id, m.attempts, m.status, m.reason, m.provider_message_id
		)
		INSERT INTO message_attempts (message_id, attempt, outcome, reply, provider_message_id)
		SELECT id, attempts, status, reason, provider_message_id FROM done`, payload, ids)
	if err != nil {
		return fmt.Errorf("complete %d messages: %w", len(cs), err)
	}
	return nil
}

// NoteAttemptError keeps the reason of a temporary failure on a queued row,
// so an operator sees why a message is still waiting for its retry, and
// adds the attempt to the message's history.
func (s *Store) NoteAttemptError(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `
		WITH noted AS (
			UPDATE messages SET reason = $2, updated_at = now()
			WHERE id = $1 AND status = 'queued'
			RETURNING id, attempts
		)
		INSERT INTO message_attempts (message_id, attempt, outcome, reply)
		SELECT id, attempts, 'retry', $2 FROM noted`, id, reason)
	if err != nil {
		return fmt.Errorf("note attempt error on message %s: %w", id, err)
	}
	return nil
}

// SendFacts is everything the send path's policy needs about one customer
// and channel: the profile, the consents on the channel, whether the address
// is suppressed and how many messages went out in each cap window.
type SendFacts struct {
	// Customer holds the fields messages use (see sendFactsCustomer); it is
	// the zero Customer when the ID matches no customer.
	Customer
	// Consents maps topic to status for the channel asked about.
	Consents map[string]string `db:"-"`
	// Suppressed is the suppression reason of the address, or "".
	Suppressed string `db:"suppressed"`
	// Recent holds one count per entry of SendFactsQuery.Since.
	Recent []int `db:"-"`
}

// SendFactsQuery says what SendFacts should look at.
type SendFactsQuery struct {
	CustomerID string `json:"customer_id"`
	Channel    string `json:"channel"`
	// Address overrides the customer's own address for the suppression
	// check (a message to a fixed internal mailbox).
	Address string `json:"address"`
	// Since lists the starts of the cap windows to count messages in.
	Since []time.Time `json:"since"`
	// Key is the idempotency key of the message being decided. Its own
	// row, left queued by a failed attempt, is not counted: a retry must
	// not be capped by itself.
	Key string `json:"key"`
}

// SendFacts loads the facts for a batch of intended messages in one round
// trip, aligned with qs; exempt topics are left out of every count.
//
// The batch travels as arrays, and each customer's counted messages are read
// once, from the longest window: the statement reaches every row by index,
// its plan does not depend on the batch (so PostgreSQL plans it once per
// connection, not once per chunk), and the per-window counts are made here.
// Only messages that count toward a cap are read, so their number is bounded
// by the caps themselves.
func (s *Store) SendFacts(ctx context.Context, qs []SendFactsQuery, exempt []string) ([]SendFacts, error) {
	if len(qs) == 0 {
		return nil, nil
	}
	n := len(qs)
	ids, channels, addresses, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	since := make([]*time.Time, n)
	for i, q := range qs {
		ids[i], channels[i], addresses[i], keys[i] = q.CustomerID, q.Channel, q.Address, q.Key
		for _, t := range q.Since {
			if since[i] == nil || t.Before(*since[i]) {
				since[i] = &t
			}
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT q.n::int - 1 AS n, `+sendFactsCustomer+`,
			k.topics AS consent_topics, k.statuses AS consent_statuses,
			coalesce((SELECT sp.reason FROM suppressions sp
			   WHERE sp.channel = q.channel AND sp.address = lower(btrim(coalesce(nullif(q.address, ''),
			         CASE WHEN q.channel = 'email' THEN c.email ELSE c.phone END)))), '') AS suppressed,
			ARRAY(SELECT m.created_at FROM messages m
			    WHERE m.customer_id = c.id AND m.channel = q.channel AND m.created_at >= q.since
			      AND m.status IN ('queued', 'sent') AND NOT (m.topic = ANY($6))
			      AND m.idempotency_key <> q.key AND m.journey <> '`+JourneyTest+`') AS counted_at
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
			WITH ORDINALITY AS q(customer_id, channel, address, key, since, n)
		JOIN customers c ON c.id = q.customer_id
		CROSS JOIN LATERAL (SELECT array_agg(k.topic) AS topics, array_agg(k.status) AS statuses
			FROM consents k WHERE k.customer_id = c.id AND k.channel = q.channel) AS k`, ids, channels, addresses, keys, since, exempt)
	if err != nil {
		return nil, fmt.Errorf("load send facts: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[numberedFacts])
	if err != nil {
		return nil, fmt.Errorf("load send facts: %w", err)
	}
	out := make([]SendFacts, n)
	for _, f := range got {
		f.Consents = make(map[string]string, len(f.ConsentTopics))
		for i, topic := range f.ConsentTopics {
			f.Consents[topic] = f.ConsentStatuses[i]
		}
		f.Recent = make([]int, len(qs[f.N].Since))
		for i, from := range qs[f.N].Since {
			for _, at := range f.CountedAt {
				if !at.Before(from) {
					f.Recent[i]++
				}
			}
		}
		out[f.N] = f.SendFacts
	}
	return out, nil
}

// sendFactsCustomer is the part of a customer a message needs: the address,
// the locale and zone, and what templates print. Leaving out tags and
// attributes keeps a campaign's batches cheap to read.
const sendFactsCustomer = `
	c.id::text AS id, coalesce(c.email, '') AS email, coalesce(c.phone, '') AS phone,
	c.first_name, c.last_name, c.locale, c.time_zone, c.city, c.country,
	c.orders_count, c.total_spent::float8 AS total_spent`

type numberedFacts struct {
	N int `db:"n"`
	SendFacts
	ConsentTopics   []string    `db:"consent_topics"`
	ConsentStatuses []string    `db:"consent_statuses"`
	CountedAt       []time.Time `db:"counted_at"`
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
	return list[LedgerCount](ctx, s.pool, "count ledger", `
		SELECT channel, status, count(*) AS count FROM messages GROUP BY channel, status ORDER BY 1, 2`)
}
