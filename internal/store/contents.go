package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MessageContent is an email or SMS as it went out: the headers Tidings set,
// the subject and bodies after link rewriting, and the links it carried.
type MessageContent struct {
	MessageID string            `db:"message_id" json:"message_id"`
	Headers   map[string]string `db:"headers" json:"headers"`
	Subject   string            `db:"subject" json:"subject,omitempty"`
	HTML      string            `db:"html" json:"html,omitempty"`
	Text      string            `db:"text" json:"text,omitempty"`
	SMS       string            `db:"sms" json:"sms,omitempty"`
	// Links are the distinct URLs the tracked links redirect to, by number.
	Links    []string  `db:"links" json:"links"`
	Tracked  bool      `db:"tracked" json:"tracked"`
	StoredAt time.Time `db:"stored_at" json:"stored_at"`
}

// StoreMessageContents stores contents in one statement. A message sent
// again (a retry after a crash) keeps the content stored first.
func (s *Store) StoreMessageContents(ctx context.Context, cs []MessageContent) error {
	if len(cs) == 0 {
		return nil
	}
	for i := range cs {
		if cs[i].Links == nil {
			cs[i].Links = []string{}
		}
	}
	payload, err := json.Marshal(cs)
	if err != nil {
		return fmt.Errorf("encode message contents: %w", err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO message_contents (message_id, headers, subject, html, text, sms, links, tracked)
		SELECT c.message_id, coalesce(c.headers, '{}'), coalesce(c.subject, ''), coalesce(c.html, ''),
			coalesce(c.text, ''), coalesce(c.sms, ''), ARRAY(SELECT jsonb_array_elements_text(c.links)), c.tracked
		FROM jsonb_to_recordset($1::jsonb) AS c(message_id uuid, headers jsonb, subject text, html text,
			text text, sms text, links jsonb, tracked boolean)
		ON CONFLICT (message_id) DO NOTHING`, payload)
	if err != nil {
		return fmt.Errorf("store %d message contents: %w", len(cs), err)
	}
	return nil
}

// MessageContentOf returns the stored content of a message, or ErrNotFound.
func (s *Store) MessageContentOf(ctx context.Context, messageID string) (MessageContent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT message_id::text AS message_id, headers, subject, html, text, sms, links, tracked, stored_at
		FROM message_contents WHERE message_id = $1`, messageID)
	if err != nil {
		return MessageContent{}, fmt.Errorf("load content of message %s: %w", messageID, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[MessageContent])
	if errors.Is(err, pgx.ErrNoRows) {
		return MessageContent{}, fmt.Errorf("content of message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return MessageContent{}, fmt.Errorf("load content of message %s: %w", messageID, err)
	}
	return c, nil
}
