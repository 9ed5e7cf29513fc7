package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErasedPrefix starts the external ID of an erased customer's tombstone, so
// the client's own ID (which may itself identify the person) is gone too and
// a later upsert under that ID creates a new, unrelated profile.
const ErasedPrefix = "erased:"

// IsErased reports whether c is the tombstone of an erased customer.
func IsErased(c Customer) bool { return strings.HasPrefix(c.ExternalID, ErasedPrefix) }

// OutcomeErased ends the journey runs and campaign entries that were still
// open when their customer was erased, so reports and the "already in this
// journey" checks see them closed rather than running for ever.
const OutcomeErased = "erased"

// EraseCustomer removes a customer's personal data on request (GDPR art. 17,
// PIPL art. 47) in one transaction: the profile keeps only its ID and
// aggregates; consents and their history (which hold IP addresses) are
// deleted; events keep their type and time but lose their properties and
// leave the outbox; ledger rows lose the recipient and the link to the
// customer; survey answers lose their comment; open journey runs and
// campaign entries end as OutcomeErased. Suppressions stay, because they
// protect the address rather than describe the person. Cancelling running
// journeys is the caller's job (the store cannot reach Temporal); a run
// cancelled afterwards keeps the erased outcome.
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
			// What went out named the person; clicks and opens keep only counts.
			`DELETE FROM message_contents WHERE message_id IN (SELECT id FROM messages WHERE customer_id = $1)`,
			`UPDATE message_clicks SET user_agent = '' WHERE message_id IN (SELECT id FROM messages WHERE customer_id = $1)`,
			`UPDATE message_opens SET user_agent = '' WHERE message_id IN (SELECT id FROM messages WHERE customer_id = $1)`,
			// Relays quote the address in their replies and reports.
			`UPDATE message_attempts SET reply = '' WHERE message_id IN (` + customerMessages + `)`,
			`UPDATE message_bounces SET address = '', detail = '' WHERE message_id IN (` + customerMessages + `)`,
			`UPDATE messages SET recipient = '', customer_id = NULL, updated_at = now() WHERE customer_id = $1`,
			`UPDATE survey_responses SET comment = '' WHERE customer_id = $1`,
			`UPDATE journey_runs SET ended_at = now(), outcome = '` + OutcomeErased + `'
			 WHERE customer_id = $1 AND ended_at IS NULL`,
			`UPDATE campaign_entries SET finished_at = now(), outcome = '` + OutcomeErased + `'
			 WHERE customer_id = $1 AND finished_at IS NULL`,
			`DELETE FROM journey_starts WHERE customer_id = $1`,
			unflowStages,
			`DELETE FROM customer_stages WHERE customer_id = $1`,
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
// requests (GDPR art. 20, PIPL art. 45). Every table with rows about a
// customer has its list here, under the table's name (consent_changes is
// consent_history); a test walks the schema to keep it so.
type CustomerExport struct {
	Customer        Customer         `json:"customer"`
	Consents        []Consent        `json:"consents"`
	ConsentHistory  []ConsentChange  `json:"consent_history"`
	Events          []Event          `json:"events"`
	Messages        []Message        `json:"messages"`
	SurveyResponses []SurveyResponse `json:"survey_responses"`
	JourneyRuns     []JourneyRun     `json:"journey_runs"`
	// JourneyStarts are the runs the customer's events will start when due.
	JourneyStarts   []JourneyStart  `json:"journey_starts"`
	Stages          []MonthStage    `json:"customer_stages"`
	Conversions     []Conversion    `json:"conversions"`
	CampaignEntries []CampaignEntry `json:"campaign_entries"`
	CampaignSkips   []CampaignSkip  `json:"campaign_skips"`
	Scores          []CustomerScore `json:"customer_scores"`
	// Coupons are the codes the customer's messages handed out; erasure
	// keeps them (they hold no personal data beyond the customer ID), so a
	// code in hand can still be redeemed.
	Coupons []Coupon `json:"coupons"`
	// What went out to the customer and what came back of it, for every
	// message in Messages.
	MessageContents []MessageContent `json:"message_contents"`
	MessageAttempts []MessageAttempt `json:"message_attempts"`
	MessageClicks   []MessageClick   `json:"message_clicks"`
	MessageOpens    []MessageOpen    `json:"message_opens"`
	MessageBounces  []Bounce         `json:"message_bounces"`
	// Suppressions and their history (suppression_changes) are the entries
	// for the customer's current email address and phone number and for
	// every address their messages went to: the list is kept by address,
	// not by customer.
	Suppressions       []Suppression       `json:"suppressions"`
	SuppressionHistory []SuppressionChange `json:"suppression_history"`
}

// customerAddresses lists (channel, address) of customer $1, whose current
// email and phone are $2 and $3, in the form suppressions keep them.
const customerAddresses = `
	SELECT 'email' AS channel, $2::text AS address WHERE $2 <> ''
	UNION SELECT 'sms', $3::text WHERE $3 <> ''
	UNION SELECT channel, lower(trim(recipient)) FROM messages WHERE customer_id = $1 AND recipient <> ''`

// customerMessages selects the IDs of customer $1's messages.
const customerMessages = `SELECT id FROM messages WHERE customer_id = $1`

// CampaignSkip is a send a campaign itself decided not to make for a
// customer (too late after a pause).
type CampaignSkip struct {
	Campaign   string    `db:"campaign" json:"campaign"`
	CustomerID string    `db:"customer_id" json:"customer_id"`
	Occurrence int       `db:"occurrence" json:"occurrence"`
	Step       string    `db:"step" json:"step"`
	Variant    string    `db:"variant" json:"variant,omitempty"`
	Reason     string    `db:"reason" json:"reason"`
	SkippedAt  time.Time `db:"skipped_at" json:"skipped_at"`
}

// CustomerScore is a customer's RFM quintiles and value tier as of the last
// score refresh.
type CustomerScore struct {
	CustomerID string    `db:"customer_id" json:"customer_id"`
	Recency    int       `db:"recency" json:"recency"`
	Frequency  int       `db:"frequency" json:"frequency"`
	Monetary   int       `db:"monetary" json:"monetary"`
	ValueTier  string    `db:"value_tier" json:"value_tier"`
	ScoredAt   time.Time `db:"scored_at" json:"scored_at"`
}

// ExportCustomer gathers everything stored about a customer in one
// repeatable-read snapshot, so the parts agree with each other.
func (s *Store) ExportCustomer(ctx context.Context, id string) (CustomerExport, error) {
	var out CustomerExport
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if out.Customer, err = rowOf[Customer](ctx, tx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id); err != nil {
			return err
		}
		parts := []func() error{
			collectInto(ctx, tx, &out.Consents, `
				SELECT customer_id::text AS customer_id, channel, topic, status, source, changed_at
				FROM consents WHERE customer_id = $1 ORDER BY channel, topic`, id),
			collectInto(ctx, tx, &out.ConsentHistory, `
				SELECT id, customer_id::text AS customer_id, channel, topic, status, source, actor, ip, changed_at
				FROM consent_changes WHERE customer_id = $1 ORDER BY id`, id),
			collectInto(ctx, tx, &out.Events, `
				SELECT `+eventColumns+` FROM events WHERE customer_id = $1 ORDER BY occurred_at, id`, id),
			collectInto(ctx, tx, &out.Messages, `
				SELECT `+messageColumns+` FROM messages WHERE customer_id = $1 ORDER BY created_at, id`, id),
			collectInto(ctx, tx, &out.SurveyResponses, `
				SELECT `+surveyColumns+` FROM survey_responses WHERE customer_id = $1 ORDER BY answered_at, id`, id),
			collectInto(ctx, tx, &out.JourneyRuns, `
				SELECT `+journeyRunColumns+` FROM journey_runs WHERE customer_id = $1 ORDER BY started_at, journey, run_id`, id),
			collectInto(ctx, tx, &out.JourneyStarts, `
				SELECT `+journeyStartColumns+` FROM journey_starts WHERE customer_id = $1 ORDER BY due_at, journey`, id),
			collectInto(ctx, tx, &out.Stages, `
				SELECT month, stage FROM customer_stages WHERE customer_id = $1 ORDER BY month`, id),
			collectInto(ctx, tx, &out.Conversions, `
				SELECT `+conversionColumns+` FROM conversions WHERE customer_id = $1 ORDER BY converted_at, id`, id),
			collectInto(ctx, tx, &out.CampaignEntries, `
				SELECT `+entryColumns+` FROM campaign_entries WHERE customer_id = $1 ORDER BY entered_at, campaign, occurrence`, id),
			collectInto(ctx, tx, &out.CampaignSkips, `
				SELECT campaign, customer_id::text AS customer_id, occurrence, step, variant, reason, skipped_at
				FROM campaign_skips WHERE customer_id = $1 ORDER BY skipped_at, campaign, occurrence, step`, id),
			collectInto(ctx, tx, &out.Scores, `
				SELECT customer_id::text AS customer_id, recency, frequency, monetary, value_tier, scored_at
				FROM customer_scores WHERE customer_id = $1`, id),
			collectInto(ctx, tx, &out.MessageContents, `
				SELECT message_id::text AS message_id, headers, subject, html, text, sms, links, tracked, stored_at
				FROM message_contents WHERE message_id IN (`+customerMessages+`) ORDER BY stored_at, message_id`, id),
			collectInto(ctx, tx, &out.MessageAttempts, `
				SELECT `+attemptColumns+` FROM message_attempts
				WHERE message_id IN (`+customerMessages+`) ORDER BY at, id`, id),
			collectInto(ctx, tx, &out.MessageClicks, `
				SELECT message_id::text AS message_id, link, url, machine, machine_reason, user_agent, clicks, first_at, last_at
				FROM message_clicks WHERE message_id IN (`+customerMessages+`) ORDER BY first_at, message_id, link, machine`, id),
			collectInto(ctx, tx, &out.MessageOpens, `
				SELECT message_id::text AS message_id, machine, machine_reason, user_agent, opens, first_at, last_at
				FROM message_opens WHERE message_id IN (`+customerMessages+`) ORDER BY first_at, message_id, machine`, id),
			collectInto(ctx, tx, &out.MessageBounces, `
				SELECT `+bounceColumns+` FROM message_bounces
				WHERE message_id IN (`+customerMessages+`) ORDER BY occurred_at, id`, id),
			collectInto(ctx, tx, &out.Coupons, `
				SELECT `+couponColumns+` FROM coupons WHERE customer_id = $1 ORDER BY issued_at, code`, id),
			collectInto(ctx, tx, &out.Suppressions, `
				SELECT `+suppressionColumns+` FROM suppressions
				WHERE (channel, address) IN (`+customerAddresses+`)
				ORDER BY created_at, channel, address`, id, NormalizeAddress(out.Customer.Email), NormalizeAddress(out.Customer.Phone)),
			collectInto(ctx, tx, &out.SuppressionHistory, `
				SELECT id, channel, address, action, reason, source, actor, detail, changed_at FROM suppression_changes
				WHERE (channel, address) IN (`+customerAddresses+`)
				ORDER BY changed_at, id`, id, NormalizeAddress(out.Customer.Email), NormalizeAddress(out.Customer.Phone)),
		}
		for _, collect := range parts {
			if err := collect(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CustomerExport{}, fmt.Errorf("export customer %s: %w", id, err)
	}
	return out, nil
}

// collectInto returns a step that reads every row of query into *dst.
func collectInto[T any](ctx context.Context, tx pgx.Tx, dst *[]T, query string, args ...any) func() error {
	return func() (err error) {
		*dst, err = rowsOf[T](ctx, tx, query, args...)
		return err
	}
}

// MonthStage is a customer's lifecycle stage at the end of a month, as the
// lifecycle history keeps it.
type MonthStage struct {
	Month time.Time `db:"month" json:"month"`
	Stage string    `db:"stage" json:"stage"`
}
