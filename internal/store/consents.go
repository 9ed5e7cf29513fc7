package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Consent statuses.
const (
	Granted = "granted"
	Denied  = "denied"
)

// Consent is the current consent of a customer for one channel and topic.
type Consent struct {
	CustomerID string    `db:"customer_id" json:"-"`
	Channel    string    `db:"channel" json:"channel"`
	Topic      string    `db:"topic" json:"topic"`
	Status     string    `db:"status" json:"status"`
	Source     string    `db:"source" json:"source"`
	ChangedAt  time.Time `db:"changed_at" json:"changed_at"`
}

// ConsentChange is one request to change consent, kept forever as evidence:
// Source says how (signup form, unsubscribe link, import), Actor who (the
// customer, an operator, an API key), IP where from when known.
type ConsentChange struct {
	ID         int64     `db:"id" json:"-"`
	CustomerID string    `db:"customer_id" json:"-"`
	Channel    string    `db:"channel" json:"channel"`
	Topic      string    `db:"topic" json:"topic"`
	Status     string    `db:"status" json:"status"`
	Source     string    `db:"source" json:"source"`
	Actor      string    `db:"actor" json:"actor"`
	IP         string    `db:"ip" json:"ip,omitempty"`
	ChangedAt  time.Time `db:"changed_at" json:"changed_at"`
}

// SetConsent records a consent change and makes it the current state, in one
// transaction so the history can never miss a state the system acted on.
func (s *Store) SetConsent(ctx context.Context, ch ConsentChange) (Consent, error) {
	if ch.Status != Granted && ch.Status != Denied {
		return Consent{}, fmt.Errorf("set consent: status %q is neither %q nor %q", ch.Status, Granted, Denied)
	}
	var out Consent
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = setConsent(ctx, tx, ch)
		return err
	})
	if err != nil {
		return Consent{}, fmt.Errorf("set %s/%s consent of %s: %w", ch.Channel, ch.Topic, ch.CustomerID, err)
	}
	return out, nil
}

// setConsent is SetConsent inside tx, for changes that go with others
// (a complaint withdraws consent in the transaction that records it). A
// change to the status already held records nothing: a replayed one-click
// unsubscribe or a form submitted twice is not evidence of a second
// decision. The upsert locks the row, so concurrent replays add one history
// row between them.
func setConsent(ctx context.Context, tx pgx.Tx, ch ConsentChange) (Consent, error) {
	rows, err := tx.Query(ctx, `
		INSERT INTO consents (customer_id, channel, topic, status, source, changed_at)
		VALUES ($1, $2, $3, $4, $5, now())
		ON CONFLICT (customer_id, channel, topic) DO UPDATE
		SET status = excluded.status, source = excluded.source, changed_at = excluded.changed_at
		WHERE consents.status <> excluded.status
		RETURNING customer_id::text AS customer_id, channel, topic, status, source, changed_at`,
		ch.CustomerID, ch.Channel, ch.Topic, ch.Status, ch.Source)
	if err != nil {
		return Consent{}, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Consent])
	if errors.Is(err, pgx.ErrNoRows) {
		rows, err = tx.Query(ctx, `
			SELECT customer_id::text AS customer_id, channel, topic, status, source, changed_at
			FROM consents
			WHERE customer_id = $1 AND channel = $2 AND topic = $3`,
			ch.CustomerID, ch.Channel, ch.Topic)
		if err != nil {
			return Consent{}, err
		}
		return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Consent])
	}
	if err != nil {
		return Consent{}, err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO consent_changes (customer_id, channel, topic, status, source, actor, ip, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ch.CustomerID, ch.Channel, ch.Topic, ch.Status, ch.Source, ch.Actor, ch.IP, out.ChangedAt)
	if err != nil {
		return Consent{}, err
	}
	return out, nil
}

// Consents lists a customer's current consents.
func (s *Store) Consents(ctx context.Context, customerID string) ([]Consent, error) {
	return list[Consent](ctx, s.pool, fmt.Sprintf("list consents of %s", customerID), `
		SELECT customer_id::text AS customer_id, channel, topic, status, source, changed_at
		FROM consents
		WHERE customer_id = $1
		ORDER BY channel, topic`, customerID)
}

// ConsentStatus returns the current status for one channel and topic, or ""
// when the customer never said either way (the topic's policy decides).
func (s *Store) ConsentStatus(ctx context.Context, customerID, channel, topic string) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `
		SELECT status FROM consents WHERE customer_id = $1 AND channel = $2 AND topic = $3`,
		customerID, channel, topic).Scan(&status)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s/%s consent of %s: %w", channel, topic, customerID, err)
	}
	return status, nil
}

// ConsentHistory lists every consent change of a customer, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, customerID string) ([]ConsentChange, error) {
	return list[ConsentChange](ctx, s.pool, fmt.Sprintf("consent history of %s", customerID), `
		SELECT id, customer_id::text AS customer_id, channel, topic, status, source, actor, ip, changed_at
		FROM consent_changes
		WHERE customer_id = $1
		ORDER BY id`, customerID)
}
