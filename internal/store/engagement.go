package store

import (
	"context"
	"fmt"
	"time"
)

// MessageClick is a visit of one tracked link of one message, by a person or by a
// machine (a link scanner, a privacy proxy), with the first visitor's user
// agent and how often it was followed.
type MessageClick struct {
	MessageID     string    `db:"message_id" json:"message_id,omitempty"`
	Link          int       `db:"link" json:"link"`
	URL           string    `db:"url" json:"url"`
	Machine       bool      `db:"machine" json:"machine"`
	MachineReason string    `db:"machine_reason" json:"machine_reason,omitempty"`
	UserAgent     string    `db:"user_agent" json:"user_agent,omitempty"`
	Clicks        int       `db:"clicks" json:"clicks"`
	FirstAt       time.Time `db:"first_at" json:"first_at"`
	LastAt        time.Time `db:"last_at" json:"last_at"`
}

// MessageOpen is the loading of a message's open pixel, by a person or a machine.
type MessageOpen struct {
	MessageID     string    `db:"message_id" json:"message_id,omitempty"`
	Machine       bool      `db:"machine" json:"machine"`
	MachineReason string    `db:"machine_reason" json:"machine_reason,omitempty"`
	UserAgent     string    `db:"user_agent" json:"user_agent,omitempty"`
	Opens         int       `db:"opens" json:"opens"`
	FirstAt       time.Time `db:"first_at" json:"first_at"`
	LastAt        time.Time `db:"last_at" json:"last_at"`
}

// RecordClick records a click: the first per (message, link, person or
// machine) is stored with its time and user agent, later ones are counted.
// It reports whether this was the first.
func (s *Store) RecordClick(ctx context.Context, c MessageClick) (bool, error) {
	var first bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO message_clicks AS k (message_id, link, url, machine, machine_reason, user_agent, first_at, last_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (message_id, link, machine) DO UPDATE SET clicks = k.clicks + 1, last_at = greatest(k.last_at, excluded.last_at)
		RETURNING (xmax = 0)`, c.MessageID, c.Link, c.URL, c.Machine, c.MachineReason, c.UserAgent, c.FirstAt).Scan(&first)
	if err != nil {
		return false, fmt.Errorf("record click on message %s: %w", c.MessageID, err)
	}
	return first, nil
}

// RecordOpen records an open the way RecordClick records a click.
func (s *Store) RecordOpen(ctx context.Context, o MessageOpen) (bool, error) {
	var first bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO message_opens AS k (message_id, machine, machine_reason, user_agent, first_at, last_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (message_id, machine) DO UPDATE SET opens = k.opens + 1, last_at = greatest(k.last_at, excluded.last_at)
		RETURNING (xmax = 0)`, o.MessageID, o.Machine, o.MachineReason, o.UserAgent, o.FirstAt).Scan(&first)
	if err != nil {
		return false, fmt.Errorf("record open of message %s: %w", o.MessageID, err)
	}
	return first, nil
}

// MessageClicks lists a message's clicks by link.
func (s *Store) MessageClicks(ctx context.Context, messageID string) ([]MessageClick, error) {
	return list[MessageClick](ctx, s.pool, fmt.Sprintf("load clicks of message %s", messageID), `
		SELECT message_id::text AS message_id, link, url, machine, machine_reason, user_agent, clicks, first_at, last_at
		FROM message_clicks WHERE message_id = $1 ORDER BY link, machine`, messageID)
}

// MessageOpens lists a message's opens (at most one person's row and one
// machine's).
func (s *Store) MessageOpens(ctx context.Context, messageID string) ([]MessageOpen, error) {
	return list[MessageOpen](ctx, s.pool, fmt.Sprintf("load opens of message %s", messageID), `
		SELECT message_id::text AS message_id, machine, machine_reason, user_agent, opens, first_at, last_at
		FROM message_opens WHERE message_id = $1 ORDER BY machine`, messageID)
}

// EngagementCount is one row of the engagement metrics: per topic,
// template and journey (a campaign's is "campaign/NAME").
type EngagementCount struct {
	Channel      string `db:"channel"`
	Topic        string `db:"topic"`
	Template     string `db:"template"`
	Journey      string `db:"journey"`
	Sent         int64  `db:"sent"`
	Bounced      int64  `db:"bounced"`
	SoftBounced  int64  `db:"soft_bounced"`
	Complained   int64  `db:"complained"`
	Opened       int64  `db:"opened"`
	OpenedHuman  int64  `db:"opened_human"`
	Clicked      int64  `db:"clicked"`
	ClickedHuman int64  `db:"clicked_human"`
}

// EngagementCounts counts, per channel, topic, template and journey, the
// messages sent since a time and how many of them bounced, drew a
// complaint, were opened and clicked (each message once; "human" leaves
// machine visits out).
func (s *Store) EngagementCounts(ctx context.Context, since time.Time) ([]EngagementCount, error) {
	return list[EngagementCount](ctx, s.pool, "count engagement", `
		SELECT m.channel, m.topic, m.template, m.journey,
			count(*) FILTER (WHERE m.status = 'sent') AS sent,
			count(*) FILTER (WHERE m.delivery = 'bounced') AS bounced,
			count(*) FILTER (WHERE m.delivery = 'soft_bounced') AS soft_bounced,
			count(*) FILTER (WHERE m.delivery = 'complained') AS complained,
			coalesce(sum(o.any), 0)::bigint AS opened, coalesce(sum(o.human), 0)::bigint AS opened_human,
			coalesce(sum(k.any), 0)::bigint AS clicked, coalesce(sum(k.human), 0)::bigint AS clicked_human
		FROM messages m
		LEFT JOIN (SELECT message_id, 1 AS any, max(CASE WHEN NOT machine THEN 1 ELSE 0 END) AS human
		           FROM message_opens GROUP BY message_id) o ON o.message_id = m.id
		LEFT JOIN (SELECT message_id, 1 AS any, max(CASE WHEN NOT machine THEN 1 ELSE 0 END) AS human
		           FROM message_clicks GROUP BY message_id) k ON k.message_id = m.id
		WHERE m.status = 'sent' AND m.created_at >= $1
		GROUP BY m.channel, m.topic, m.template, m.journey`, since)
}

// CustomerIDsByPhone lists the customers (not erased) with a phone number,
// for SMS replies, which name only the number.
func (s *Store) CustomerIDsByPhone(ctx context.Context, phone string) ([]string, error) {
	return listValues[string](ctx, s.pool, "look up customers by phone", `SELECT id::text FROM customers WHERE phone = $1 AND erased_at IS NULL ORDER BY id`, phone)
}
