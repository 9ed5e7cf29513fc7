package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LoggedMessage is a ledger row as the message log shows it: the row and
// what the recipient's side reported after it went out.
type LoggedMessage struct {
	Message
	// Delivery is the last report that counts: delivered, undelivered,
	// failed, bounced, soft_bounced or complained ("" when none came).
	Delivery       string     `db:"delivery" json:"delivery,omitempty"`
	DeliveryDetail string     `db:"delivery_detail" json:"delivery_detail,omitempty"`
	DeliveryAt     *time.Time `db:"delivery_at" json:"delivery_at,omitempty"`
}

const loggedColumns = messageColumns + `, delivery, delivery_detail, delivery_at`

// MessageFilter narrows ListMessages; zero fields match everything.
type MessageFilter struct {
	CustomerID string
	// Journey is the ledger's journey ("onboarding", "care/..."); Campaign
	// a campaign's name (its messages' journey is "campaign/NAME").
	Journey  string
	Campaign string
	Template string
	Topic    string
	Channel  string
	Status   string
	// Reason matches reasons starting with it ("suppressed" finds every
	// suppressed:... skip).
	Reason   string
	Delivery string
	// Since and Until bound created_at: Since <= created_at < Until.
	Since, Until time.Time
	// After is the cursor of the previous page ("" for the first).
	After string
	Limit int
}

// ListMessages returns a page of the ledger, newest first, and the cursor
// of the next page ("" at the end). Pages are keyset-paginated on
// (created_at, id), so a page costs the same however deep it is.
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) ([]LoggedMessage, string, error) {
	f.Limit = pageSize(f.Limit, 50, 500)
	var at time.Time
	var afterID string
	if f.After != "" {
		var err error
		if at, afterID, err = decodeCursor(f.After); err != nil {
			return nil, "", err
		}
	}
	journey := f.Journey
	if f.Campaign != "" {
		journey = "campaign/" + f.Campaign
	}
	out, err := list[LoggedMessage](ctx, s.pool, "list messages", `
		SELECT `+loggedColumns+` FROM messages
		WHERE ($1 = '' OR customer_id = $1::uuid) AND ($2 = '' OR journey = $2) AND ($3 = '' OR template = $3)
		  AND ($4 = '' OR topic = $4) AND ($5 = '' OR channel = $5) AND ($6 = '' OR status = $6)
		  AND ($7 = '' OR reason LIKE $7 || '%') AND ($8 = '' OR delivery = $8)
		  AND ($9::timestamptz IS NULL OR created_at >= $9) AND ($10::timestamptz IS NULL OR created_at < $10)
		  AND ($11::timestamptz IS NULL OR (created_at, id) < ($11, $12::uuid))
		ORDER BY created_at DESC, id DESC
		LIMIT $13`,
		f.CustomerID, journey, f.Template, f.Topic, f.Channel, f.Status, f.Reason, f.Delivery,
		nullTime(f.Since), nullTime(f.Until), nullTime(at), nullUUID(afterID), f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := cutPage(out, f.Limit, func(last LoggedMessage) string { return encodeCursor(last.CreatedAt, last.ID) })
	return out, next, nil
}

// LoggedMessageByID returns one ledger row with its delivery outcome, or
// ErrNotFound.
func (s *Store) LoggedMessageByID(ctx context.Context, id string) (LoggedMessage, error) {
	return get[LoggedMessage](ctx, s.pool, fmt.Sprintf("message %s", id), `SELECT `+loggedColumns+` FROM messages WHERE id = $1`, id)
}

func nullUUID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// MessageRecord is everything known about one message: the ledger row with
// its delivery outcome, what went out, and what came back.
type MessageRecord struct {
	Message LoggedMessage `json:"message"`
	// Content is nil when it was not stored (sent before contents were
	// kept, or pruned since).
	Content *MessageContent `json:"content,omitempty"`
	// Attempts are the hand-overs to the provider, oldest first. An
	// attempt counted on the ledger row without one here was interrupted
	// (a crash mid-send) or is under way.
	Attempts []MessageAttempt `json:"attempts"`
	Clicks   []MessageClick   `json:"clicks"`
	Opens    []MessageOpen    `json:"opens"`
	Reports  []Bounce         `json:"reports"`
}

// MessageRecordByID gathers a message's record, or ErrNotFound.
func (s *Store) MessageRecordByID(ctx context.Context, id string) (MessageRecord, error) {
	var rec MessageRecord
	var err error
	if rec.Message, err = s.LoggedMessageByID(ctx, id); err != nil {
		return rec, err
	}
	c, err := s.MessageContentOf(ctx, id)
	switch {
	case err == nil:
		rec.Content = &c
	case !errors.Is(err, ErrNotFound):
		return rec, err
	}
	if rec.Attempts, err = s.MessageAttempts(ctx, id); err != nil {
		return rec, err
	}
	if rec.Clicks, err = s.MessageClicks(ctx, id); err != nil {
		return rec, err
	}
	if rec.Opens, err = s.MessageOpens(ctx, id); err != nil {
		return rec, err
	}
	if rec.Reports, err = s.MessageBounces(ctx, id); err != nil {
		return rec, err
	}
	if rec.Attempts == nil {
		rec.Attempts = []MessageAttempt{}
	}
	if rec.Clicks == nil {
		rec.Clicks = []MessageClick{}
	}
	if rec.Opens == nil {
		rec.Opens = []MessageOpen{}
	}
	if rec.Reports == nil {
		rec.Reports = []Bounce{}
	}
	return rec, nil
}

// MessageAttempt is one hand-over of a message to its provider and the
// answer: sent, failed (refused for good), skipped (the retry found it must
// not send) or retry (a temporary failure, tried again later).
type MessageAttempt struct {
	MessageID         string    `db:"message_id" json:"message_id,omitempty"`
	Attempt           int       `db:"attempt" json:"attempt"`
	Outcome           string    `db:"outcome" json:"outcome"`
	Temporary         bool      `db:"temporary" json:"temporary"`
	Reply             string    `db:"reply" json:"reply,omitempty"`
	ProviderMessageID string    `db:"provider_message_id" json:"provider_message_id,omitempty"`
	At                time.Time `db:"at" json:"at"`
}

const attemptColumns = `message_id::text AS message_id, attempt, outcome, outcome = 'retry' AS temporary,
	reply, provider_message_id, at`

// MessageAttempts lists a message's attempts, oldest first.
func (s *Store) MessageAttempts(ctx context.Context, messageID string) ([]MessageAttempt, error) {
	return list[MessageAttempt](ctx, s.pool, fmt.Sprintf("load attempts of message %s", messageID), `
		SELECT `+attemptColumns+` FROM message_attempts WHERE message_id = $1 ORDER BY id`, messageID)
}
