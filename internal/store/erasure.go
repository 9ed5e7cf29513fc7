package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErasedPrefix starts the external ID of an erased customer's tombstone, so
// the client's own ID (which may itself identify the person) is gone too and
// a later upsert under that ID creates a new, unrelated profile.
const ErasedPrefix = "erased:"

// IsErased reports whether c is the tombstone of an erased customer.
func IsErased(c Customer) bool { return strings.HasPrefix(c.ExternalID, ErasedPrefix) }

// EraseCustomer removes a customer's personal data on request (GDPR art. 17,
// PIPL art. 47) in one transaction: the profile keeps only its ID and
// aggregates; consents and their history (which hold IP addresses) are
// deleted; events keep their type and time but lose their properties and
// leave the outbox; ledger rows lose the recipient and the link to the
// customer; survey answers lose their comment. Suppressions stay, because they
// protect the address rather than describe the person. Cancelling running
// journeys is the caller's job (the store cannot reach Temporal).
func (s *Store) EraseCustomer(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE customers SET
				external_id = $2 || id::text, email = NULL, phone = NULL, first_name = '', last_name = '',
				birthday = NULL, country = '', region = '', city = '', gender = '', tags = '{}',
				attributes = '{}', erased_at = now(), updated_at = now()
			WHERE id = $1`, id, ErasedPrefix)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		for _, q := range []string{
			`DELETE FROM consents WHERE customer_id = $1`,
			`DELETE FROM consent_changes WHERE customer_id = $1`,
			`UPDATE events SET properties = '{}',
				route_error = CASE WHEN routed_at IS NULL THEN 'customer erased' ELSE route_error END,
				routed_at = coalesce(routed_at, now())
			 WHERE customer_id = $1`,
			`UPDATE messages SET recipient = '', customer_id = NULL, updated_at = now() WHERE customer_id = $1`,
			`UPDATE survey_responses SET comment = '' WHERE customer_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase customer %s: %w", id, err)
	}
	return nil
}

// CustomerExport is all data held on one customer, for data portability
// requests (GDPR art. 20, PIPL art. 45).
type CustomerExport struct {
	Customer        Customer         `json:"customer"`
	Consents        []Consent        `json:"consents"`
	ConsentHistory  []ConsentChange  `json:"consent_history"`
	Events          []Event          `json:"events"`
	Messages        []Message        `json:"messages"`
	SurveyResponses []SurveyResponse `json:"survey_responses"`
}

// ExportCustomer gathers everything stored about a customer in one
// repeatable-read snapshot, so the parts agree with each other.
func (s *Store) ExportCustomer(ctx context.Context, id string) (CustomerExport, error) {
	var out CustomerExport
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if out.Customer, err = collectOne[Customer](ctx, tx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id); err != nil {
			return err
		}
		if out.Consents, err = collectAll[Consent](ctx, tx, `
			SELECT customer_id::text AS customer_id, channel, topic, status, source, changed_at
			FROM consents WHERE customer_id = $1 ORDER BY channel, topic`, id); err != nil {
			return err
		}
		if out.ConsentHistory, err = collectAll[ConsentChange](ctx, tx, `
			SELECT id, customer_id::text AS customer_id, channel, topic, status, source, actor, ip, changed_at
			FROM consent_changes WHERE customer_id = $1 ORDER BY id`, id); err != nil {
			return err
		}
		if out.Events, err = collectAll[Event](ctx, tx, `
			SELECT `+eventColumns+` FROM events WHERE customer_id = $1 ORDER BY occurred_at, id`, id); err != nil {
			return err
		}
		if out.Messages, err = collectAll[Message](ctx, tx, `
			SELECT `+messageColumns+` FROM messages WHERE customer_id = $1 ORDER BY created_at, id`, id); err != nil {
			return err
		}
		out.SurveyResponses, err = collectAll[SurveyResponse](ctx, tx, `
			SELECT `+surveyColumns+` FROM survey_responses WHERE customer_id = $1 ORDER BY answered_at, id`, id)
		return err
	})
	if err != nil {
		return CustomerExport{}, fmt.Errorf("export customer %s: %w", id, err)
	}
	return out, nil
}

func collectAll[T any](ctx context.Context, tx pgx.Tx, query string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[T])
	if out == nil {
		out = []T{}
	}
	return out, err
}

func collectOne[T any](ctx context.Context, tx pgx.Tx, query string, args ...any) (T, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	if err == pgx.ErrNoRows {
		return out, ErrNotFound
	}
	return out, err
}
