package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Feedback kinds: what a relay, a carrier or a DSN reported about a
// message after the provider accepted it.
const (
	FeedbackHard        = "hard"        // the address does not exist or refuses mail for good
	FeedbackSoft        = "soft"        // a mailbox full, a server down: may work later
	FeedbackComplaint   = "complaint"   // the recipient marked it as spam
	FeedbackDelivered   = "delivered"   // handed to the recipient (SMS receipts, some relays)
	FeedbackUndelivered = "undelivered" // the carrier could not hand the SMS over
	FeedbackFailed      = "failed"      // the provider gave up on the message
)

// delivery is the ledger's delivery column for each kind.
var delivery = map[string]string{
	FeedbackHard: "bounced", FeedbackSoft: "soft_bounced", FeedbackComplaint: "complained",
	FeedbackDelivered: "delivered", FeedbackUndelivered: "undelivered", FeedbackFailed: "failed",
}

// Feedback is one report about one message.
type Feedback struct {
	MessageID string
	Kind      string
	// Provider names the source: ses, sendgrid, mailgun, postmark, generic,
	// dsn, twilio.
	Provider string
	// ReceiptID is the provider's own ID of the notification; a second
	// report with the same ID is a replay and changes nothing.
	ReceiptID string
	// Address is the recipient as reported; empty means the ledger's.
	Address string
	Detail  string
	// Suppress, when set, suppresses the address for this reason (hard
	// bounces and complaints always are).
	Suppress   string
	OccurredAt time.Time
}

// SoftBouncePolicy suppresses an address after Max soft bounces within
// Window; Max 0 never does.
type SoftBouncePolicy struct {
	Max    int
	Window time.Duration
}

// FeedbackResult is what one Feedback changed.
type FeedbackResult struct {
	// Duplicate: the receipt was handled before; nothing changed.
	Duplicate bool `json:"duplicate,omitempty"`
	// Suppressed is the reason the address was put on the list now.
	Suppressed string `json:"suppressed,omitempty"`
	// ConsentWithdrawn: a complaint denied marketing consent now.
	ConsentWithdrawn bool `json:"consent_withdrawn,omitempty"`
}

// Bounce is one stored report, for the message log.
type Bounce struct {
	MessageID  string    `db:"message_id" json:"message_id,omitempty"`
	Kind       string    `db:"kind" json:"kind"`
	Provider   string    `db:"provider" json:"provider"`
	Address    string    `db:"address" json:"address"`
	Detail     string    `db:"detail" json:"detail,omitempty"`
	OccurredAt time.Time `db:"occurred_at" json:"occurred_at"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
}

// Sources of consent changes and suppressions made by feedback.
const (
	SourceComplaint = "complaint"
	// ActorProvider prefixes the provider's name as the actor of changes
	// feedback makes ("provider:ses").
	ActorProvider = "provider:"
)

// RecordFeedback stores reports in one transaction: each report's receipt
// (a replayed one is skipped), the report itself, the ledger row's delivery
// outcome (a complaint outranks a bounce, which outranks a delivery, so a
// late "delivered" never hides a complaint), suppression of hard bounces,
// complaints and addresses that soft-bounced too often, and for a complaint
// the withdrawal of marketing consent with its consent_changes row. Every
// MessageID must name a ledger row (ErrNotFound otherwise, and nothing is
// stored).
func (s *Store) RecordFeedback(ctx context.Context, fs []Feedback, soft SoftBouncePolicy) ([]FeedbackResult, error) {
	out := make([]FeedbackResult, len(fs))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for i, f := range fs {
			r, err := recordFeedback(ctx, tx, f, soft)
			if err != nil {
				return fmt.Errorf("message %s: %w", f.MessageID, err)
			}
			out[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record feedback: %w", err)
	}
	return out, nil
}

func recordFeedback(ctx context.Context, tx pgx.Tx, f Feedback, soft SoftBouncePolicy) (FeedbackResult, error) {
	var res FeedbackResult
	col, ok := delivery[f.Kind]
	if !ok {
		return res, fmt.Errorf("feedback kind %q is unknown", f.Kind)
	}
	if f.ReceiptID != "" {
		tag, err := tx.Exec(ctx, `INSERT INTO webhook_receipts (provider, receipt_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			f.Provider, f.ReceiptID)
		if err != nil {
			return res, err
		}
		if tag.RowsAffected() == 0 {
			res.Duplicate = true
			return res, nil
		}
	}
	var channel, recipient, customer string
	err := tx.QueryRow(ctx, `SELECT channel, recipient, coalesce(customer_id::text, '') FROM messages WHERE id = $1 FOR UPDATE`,
		f.MessageID).Scan(&channel, &recipient, &customer)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, ErrNotFound
	}
	if err != nil {
		return res, err
	}
	addr := NormalizeAddress(f.Address)
	if addr == "" {
		addr = NormalizeAddress(recipient)
	}
	if f.OccurredAt.IsZero() {
		f.OccurredAt = time.Now()
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO message_bounces (message_id, channel, address, kind, provider, detail, occurred_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.MessageID, channel, addr, f.Kind, f.Provider, f.Detail, f.OccurredAt); err != nil {
		return res, err
	}
	if _, err := tx.Exec(ctx, `
		UPDATE messages SET delivery = $2, delivery_detail = $3, delivery_at = $4, updated_at = now()
		WHERE id = $1 AND `+deliveryRank("delivery")+` <= `+deliveryRank("$2::text"),
		f.MessageID, col, f.Detail, f.OccurredAt); err != nil {
		return res, err
	}
	reason := f.Suppress
	switch f.Kind {
	case FeedbackHard:
		reason = HardBounce
	case FeedbackComplaint:
		reason = Complaint
	case FeedbackSoft:
		if soft.Max > 0 && reason == "" {
			var n int
			if err := tx.QueryRow(ctx, `
				SELECT count(*) FROM message_bounces
				WHERE channel = $1 AND address = $2 AND kind = 'soft' AND occurred_at > $3`,
				channel, addr, f.OccurredAt.Add(-soft.Window)).Scan(&n); err != nil {
				return res, err
			}
			if n >= soft.Max {
				reason = SoftBounce
				f.Detail = fmt.Sprintf("%d soft bounces within %s; last: %s", n, soft.Window, f.Detail)
			}
		}
	}
	if reason != "" && addr != "" {
		added, err := suppress(ctx, tx, Suppression{Channel: channel, Address: addr, Reason: reason, Source: f.Provider,
			Detail: f.Detail, Actor: ActorProvider + f.Provider})
		if err != nil {
			return res, err
		}
		if added {
			res.Suppressed = reason
		}
	}
	if f.Kind == FeedbackComplaint && customer != "" {
		var current string
		err := tx.QueryRow(ctx, `SELECT status FROM consents WHERE customer_id = $1 AND channel = $2 AND topic = 'marketing'`,
			customer, channel).Scan(&current)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return res, err
		}
		if current != Denied {
			if _, err := setConsent(ctx, tx, ConsentChange{CustomerID: customer, Channel: channel, Topic: "marketing",
				Status: Denied, Source: SourceComplaint, Actor: ActorProvider + f.Provider}); err != nil {
				return res, err
			}
			res.ConsentWithdrawn = true
		}
	}
	return res, nil
}

// deliveryRank orders delivery outcomes so a later, weaker report does not
// overwrite a stronger one.
func deliveryRank(expr string) string {
	return `(CASE ` + expr + ` WHEN 'complained' THEN 5 WHEN 'bounced' THEN 4 WHEN 'failed' THEN 3
		WHEN 'undelivered' THEN 3 WHEN 'soft_bounced' THEN 2 WHEN 'delivered' THEN 1 ELSE 0 END)`
}

// SeenReceipt records a webhook receipt on its own (a notification that
// changes no message, such as an inbound SMS); false means it was seen
// before.
func (s *Store) SeenReceipt(ctx context.Context, provider, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO webhook_receipts (provider, receipt_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, provider, id)
	if err != nil {
		return false, fmt.Errorf("record %s receipt: %w", provider, err)
	}
	return tag.RowsAffected() == 0, nil
}

const bounceColumns = `message_id::text AS message_id, kind, provider, address, detail, occurred_at, received_at`

// MessageBounces lists the reports about a message, oldest first.
func (s *Store) MessageBounces(ctx context.Context, messageID string) ([]Bounce, error) {
	return list[Bounce](ctx, s.pool, fmt.Sprintf("load reports of message %s", messageID), `
		SELECT `+bounceColumns+` FROM message_bounces WHERE message_id = $1 ORDER BY occurred_at, id`, messageID)
}

// MessageIDByProviderID finds the ledger row a provider's message ID or a
// Message-ID (with or without angle brackets) names, or ErrNotFound.
func (s *Store) MessageIDByProviderID(ctx context.Context, providerID string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
		SELECT id::text FROM messages WHERE provider_message_id = ANY($1) AND provider_message_id <> ''
		ORDER BY created_at DESC LIMIT 1`, providerIDForms(providerID)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("message with provider ID %q: %w", providerID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("look up provider ID %q: %w", providerID, err)
	}
	return id, nil
}

// providerIDForms is the ID as given and without the angle brackets a
// Message-ID header has, since relays report it either way.
func providerIDForms(id string) []string {
	forms := []string{id}
	if len(id) > 2 && id[0] == '<' && id[len(id)-1] == '>' {
		forms = append(forms, id[1:len(id)-1])
	} else {
		forms = append(forms, "<"+id+">")
	}
	return forms
}

// LatestMessageTo finds the newest sent message to an address on a channel
// in the window before at (and up to an hour after, for a provider's clock
// running behind ours), for reports that name only the recipient;
// ErrNotFound when none. It goes through the
// customer with that address, whose index reaches their messages.
func (s *Store) LatestMessageTo(ctx context.Context, channel, address string, at time.Time, window time.Duration) (string, error) {
	match := "lower(c.email) = $2"
	if channel != "email" {
		match = "c.phone = $2"
	}
	var id string
	err := s.pool.QueryRow(ctx, `
		SELECT m.id::text FROM customers c
		JOIN messages m ON m.customer_id = c.id AND m.channel = $1
		WHERE `+match+` AND m.status = 'sent' AND m.created_at <= $3 AND m.created_at > $4
		ORDER BY m.created_at DESC LIMIT 1`, channel, NormalizeAddress(address), at.Add(time.Hour), at.Add(-window)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("message to %s: %w", channel, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("look up message by recipient: %w", err)
	}
	return id, nil
}
