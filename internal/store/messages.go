package store

import (
	"context"
	"errors"
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

// ReserveMessage inserts the ledger row for m.IdempotencyKey, with m.ID as
// its ID when given (so links rendered before the insert can name the row).
// It returns the row and true when this call created it. When the key exists
// it returns the existing row and false; the caller must not send again
// unless that row is still queued (an attempt that crashed mid-send), in
// which case the attempt is counted and the row returned with the new count.
// A queued row created here counts as the first attempt.
func (s *Store) ReserveMessage(ctx context.Context, m Message) (Message, bool, error) {
	if m.Status == "" {
		m.Status = StatusQueued
	}
	var id, customer any
	if m.ID != "" {
		id = m.ID
	}
	if m.CustomerID != "" {
		customer = m.CustomerID
	}
	attempts := 0
	if m.Status == StatusQueued {
		attempts = 1
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO messages AS m (id, idempotency_key, customer_id, journey, step, channel, template,
			topic, locale, recipient, status, reason, segments, attempts)
		VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (idempotency_key) DO UPDATE
		SET attempts = m.attempts + 1, updated_at = now()
		WHERE m.status = 'queued' AND excluded.status = 'queued'
		RETURNING `+messageColumns+`, (xmax = 0) AS created`,
		id, m.IdempotencyKey, customer, m.Journey, m.Step, m.Channel, m.Template, m.Topic,
		m.Locale, m.Recipient, m.Status, m.Reason, m.Segments, attempts)
	if err != nil {
		return Message{}, false, fmt.Errorf("reserve message %s: %w", m.IdempotencyKey, err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[reserved])
	if err == nil {
		return got.Message, got.Created, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Message{}, false, fmt.Errorf("reserve message %s: %w", m.IdempotencyKey, err)
	}
	existing, err := s.MessageByKey(ctx, m.IdempotencyKey)
	return existing, false, err
}

// reserved is a ledger row plus whether the insert created it.
type reserved struct {
	Message
	Created bool `db:"created"`
}

// MessageByKey looks a ledger row up by its idempotency key.
func (s *Store) MessageByKey(ctx context.Context, key string) (Message, error) {
	return s.oneMessage(ctx, `SELECT `+messageColumns+` FROM messages WHERE idempotency_key = $1`, key)
}

// MessageByID looks a ledger row up by its ID (the ID carried in message
// headers and links).
func (s *Store) MessageByID(ctx context.Context, id string) (Message, error) {
	return s.oneMessage(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id)
}

func (s *Store) oneMessage(ctx context.Context, query, key string) (Message, error) {
	rows, err := s.pool.Query(ctx, query, key)
	if err != nil {
		return Message{}, fmt.Errorf("load message %s: %w", key, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Message])
	if errors.Is(err, pgx.ErrNoRows) {
		return Message{}, fmt.Errorf("message %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("load message %s: %w", key, err)
	}
	return m, nil
}

// Outcome is what became of a send attempt.
type Outcome struct {
	Status            string
	Reason            string
	ProviderMessageID string
	Segments          int
}

// StartAttempt counts a delivery attempt on a queued row, so the ledger shows
// how many tries a message took.
func (s *Store) StartAttempt(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE messages SET attempts = attempts + 1, updated_at = now()
		WHERE id = $1 AND status = 'queued'`, id)
	if err != nil {
		return fmt.Errorf("count attempt on message %s: %w", id, err)
	}
	return nil
}

// CompleteMessage records the outcome of a queued message. A row that already
// has a final status is left alone, so a late retry cannot overwrite "sent".
func (s *Store) CompleteMessage(ctx context.Context, id string, o Outcome) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE messages SET
			status = $2, reason = $3, provider_message_id = $4,
			segments = CASE WHEN $5 > 0 THEN $5 ELSE segments END,
			updated_at = now(),
			sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
		WHERE id = $1 AND status = 'queued'`,
		id, o.Status, o.Reason, o.ProviderMessageID, o.Segments)
	if err != nil {
		return fmt.Errorf("complete message %s: %w", id, err)
	}
	return nil
}

// NoteAttemptError keeps the reason of a temporary failure on a queued row,
// so an operator sees why a message is still waiting for its retry.
func (s *Store) NoteAttemptError(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE messages SET reason = $2, updated_at = now()
		WHERE id = $1 AND status = 'queued'`, id, reason)
	if err != nil {
		return fmt.Errorf("note attempt error on message %s: %w", id, err)
	}
	return nil
}

// CountRecentMessages counts the messages a customer was sent (or is being
// sent) on a channel since a time, leaving out the given topics; it feeds the
// frequency cap.
func (s *Store) CountRecentMessages(ctx context.Context, customerID, channel string, since time.Time, exempt []string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FROM messages
		WHERE customer_id = $1 AND channel = $2 AND created_at >= $3
		  AND status IN ('queued', 'sent') AND NOT (topic = ANY($4))`,
		customerID, channel, since, exempt).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count recent %s messages of %s: %w", channel, customerID, err)
	}
	return n, nil
}

// SendFacts is everything the send path's policy needs about one customer
// and channel, read in a single round trip: the profile, the consents on the
// channel, whether the address is suppressed and how many messages went out
// in each cap window.
type SendFacts struct {
	Customer
	// Consents maps topic to status for the channel asked about.
	Consents map[string]string `db:"consents"`
	// Suppressed is the suppression reason of the address, or "".
	Suppressed string `db:"suppressed"`
	// Recent holds one count per entry of SendFactsQuery.Since.
	Recent []int `db:"recent"`
}

// SendFactsQuery says what SendFacts should look at.
type SendFactsQuery struct {
	CustomerID string
	Channel    string
	// Address overrides the customer's own address for the suppression
	// check (a message to a fixed internal mailbox).
	Address string
	// Since lists the starts of the cap windows to count messages in,
	// leaving out the topics in Exempt.
	Since  []time.Time
	Exempt []string
}

// SendFacts loads the facts for one intended message, or ErrNotFound.
func (s *Store) SendFacts(ctx context.Context, q SendFactsQuery) (SendFacts, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+customerColumns+`,
			(SELECT coalesce(jsonb_object_agg(k.topic, k.status), '{}')
			   FROM consents k WHERE k.customer_id = c.id AND k.channel = $2) AS consents,
			coalesce((SELECT sp.reason FROM suppressions sp
			   WHERE sp.channel = $2 AND sp.address = lower(btrim(coalesce(nullif($3, ''),
			         CASE WHEN $2 = 'email' THEN c.email ELSE c.phone END)))), '') AS suppressed,
			ARRAY(SELECT (SELECT count(*) FROM messages m
			    WHERE m.customer_id = c.id AND m.channel = $2 AND m.created_at >= w.since
			      AND m.status IN ('queued', 'sent') AND NOT (m.topic = ANY($5)))::int
			   FROM unnest($4::timestamptz[]) WITH ORDINALITY AS w(since, n) ORDER BY w.n) AS recent
		FROM customers c
		WHERE c.id = $1`,
		q.CustomerID, q.Channel, q.Address, q.Since, q.Exempt)
	if err != nil {
		return SendFacts{}, fmt.Errorf("load send facts of %s: %w", q.CustomerID, err)
	}
	f, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[SendFacts])
	if errors.Is(err, pgx.ErrNoRows) {
		return SendFacts{}, fmt.Errorf("customer %s: %w", q.CustomerID, ErrNotFound)
	}
	if err != nil {
		return SendFacts{}, fmt.Errorf("load send facts of %s: %w", q.CustomerID, err)
	}
	return f, nil
}
