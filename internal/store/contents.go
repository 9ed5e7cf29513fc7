package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
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
// again (a retry after a crash) keeps the content stored first. The bodies
// travel as arrays in pgx's binary protocol rather than as one JSON
// document: encoding and parsing kilobytes of HTML as JSON per message cost
// more than the insert itself.
func (s *Store) StoreMessageContents(ctx context.Context, cs []MessageContent) error {
	if len(cs) == 0 {
		return nil
	}
	n := len(cs)
	ids, headers := make([]string, n), make([]string, n)
	subjects, htmls, texts, smss, links := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	tracked := make([]bool, n)
	for i, c := range cs {
		h, err := json.Marshal(c.Headers)
		if err != nil {
			return fmt.Errorf("encode headers of message %s: %w", c.MessageID, err)
		}
		ids[i], headers[i], subjects[i], htmls[i], texts[i], smss[i] = c.MessageID, string(h), c.Subject, c.HTML, c.Text, c.SMS
		links[i], tracked[i] = strings.Join(c.Links, "\n"), c.Tracked
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO message_contents (message_id, headers, subject, html, text, sms, links, tracked)
		SELECT id, headers::jsonb, subject, html, text, sms,
			CASE WHEN links = '' THEN '{}'::text[] ELSE string_to_array(links, E'\n') END, tracked
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[])
			AS c(id, headers, subject, html, text, sms, links, tracked)
		ON CONFLICT (message_id) DO NOTHING`, ids, headers, subjects, htmls, texts, smss, links, tracked)
	if err != nil {
		return fmt.Errorf("store %d message contents: %w", n, err)
	}
	return nil
}

// MessageContentOf returns the stored content of a message, or ErrNotFound.
func (s *Store) MessageContentOf(ctx context.Context, messageID string) (MessageContent, error) {
	return get[MessageContent](ctx, s.pool, fmt.Sprintf("content of message %s", messageID), `
		SELECT message_id::text AS message_id, headers, subject, html, text, sms, links, tracked, stored_at
		FROM message_contents WHERE message_id = $1`, messageID)
}
