package store

import (
	"context"
	"time"
)

// DeliveryTally is one group of the deliverability report: Dimension is
// total, topic, template, domain (the recipient's mail domain; "sms" for
// text messages), week (2026-W14) or month (2026-03), Label its value.
// Messages count in the period they were created; Unsubscribes in the one
// they happened, credited to the customer's last message on that channel
// and topic before (last touch).
type DeliveryTally struct {
	Dimension    string `db:"dimension" json:"dimension"`
	Label        string `db:"label" json:"label"`
	Sent         int    `db:"sent" json:"sent"`
	Failed       int    `db:"failed" json:"failed"`
	Skipped      int    `db:"skipped" json:"skipped"`
	Delivered    int    `db:"delivered" json:"delivered"`
	Bounced      int    `db:"bounced" json:"bounced"`
	SoftBounced  int    `db:"soft_bounced" json:"soft_bounced"`
	Complained   int    `db:"complained" json:"complained"`
	Unsubscribes int    `db:"unsubscribes" json:"unsubscribes"`
}

// deliveryTallies groups the ledger's messages and the unsubscribes they
// earned in one pass. An unsubscribe is a consent change to denied made
// from a message's unsubscribe link or a one-click request.
const deliveryTallies = `
WITH unsubs AS (
    SELECT m.topic, m.template, m.channel, m.recipient, cc.changed_at AS at
    FROM consent_changes cc
    JOIN LATERAL (
        SELECT m.topic, m.template, m.channel, m.recipient FROM messages m
        WHERE m.customer_id = cc.customer_id AND m.channel = cc.channel AND m.topic = cc.topic
          AND m.status = 'sent' AND m.created_at <= cc.changed_at
        ORDER BY m.created_at DESC LIMIT 1
    ) m ON true
    WHERE cc.status = 'denied' AND cc.source = 'unsubscribe_link' AND cc.changed_at >= $1 AND cc.changed_at < $2
), rows AS (
    SELECT false AS unsub, status, delivery, topic, template, channel, recipient, created_at AS at
    FROM messages WHERE created_at >= $1 AND created_at < $2 AND status <> 'queued'
    UNION ALL
    SELECT true, 'sent', '', topic, template, channel, recipient, at FROM unsubs
), grouped AS (
    SELECT unsub, status, delivery, topic, template,
        CASE WHEN channel = 'sms' THEN 'sms' ELSE coalesce(nullif(split_part(lower(recipient), '@', 2), ''), '(unknown)') END AS domain,
        to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'IYYY-"W"IW') AS week,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM') AS month
    FROM rows
)
SELECT CASE WHEN grouping(topic) = 0 THEN 'topic' WHEN grouping(template) = 0 THEN 'template'
        WHEN grouping(domain) = 0 THEN 'domain' WHEN grouping(week) = 0 THEN 'week'
        WHEN grouping(month) = 0 THEN 'month' ELSE 'total' END AS dimension,
    coalesce(topic, template, domain, week, month, '') AS label,
    count(*) FILTER (WHERE NOT unsub AND status = 'sent')::int AS sent,
    count(*) FILTER (WHERE NOT unsub AND status = 'failed')::int AS failed,
    count(*) FILTER (WHERE NOT unsub AND status = 'skipped')::int AS skipped,
    count(*) FILTER (WHERE NOT unsub AND delivery = 'delivered')::int AS delivered,
    count(*) FILTER (WHERE NOT unsub AND delivery = 'bounced')::int AS bounced,
    count(*) FILTER (WHERE NOT unsub AND delivery = 'soft_bounced')::int AS soft_bounced,
    count(*) FILTER (WHERE NOT unsub AND delivery = 'complained')::int AS complained,
    count(*) FILTER (WHERE unsub)::int AS unsubscribes
FROM grouped
GROUP BY GROUPING SETS ((), (topic), (template), (domain), (week), (month))
ORDER BY 1, 2`

// DeliveryTallies counts the messages of [since, until) by outcome, in
// total and by topic, template, domain, week and month (UTC).
func (s *Store) DeliveryTallies(ctx context.Context, since, until time.Time) ([]DeliveryTally, error) {
	return list[DeliveryTally](ctx, s.pool, "deliverability", deliveryTallies, since, until)
}
