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

// deliveryFacts is one row per ledger message created, and per
// unsubscribe made, at a time passing cond (a function of the time's
// expression), with what the deliverability report groups by. An
// unsubscribe is a consent change to denied made from a message's
// unsubscribe link or a one-click request.
func deliveryFacts(cond func(expr string) string) string {
	return `
    WITH unsubs AS (
        SELECT m.topic, m.template, m.channel, m.recipient, cc.changed_at AS at
        FROM consent_changes cc
        JOIN LATERAL (
            SELECT m.topic, m.template, m.channel, m.recipient FROM messages m
            WHERE m.customer_id = cc.customer_id AND m.channel = cc.channel AND m.topic = cc.topic
              AND m.status = 'sent' AND m.created_at <= cc.changed_at
            ORDER BY m.created_at DESC LIMIT 1
        ) m ON true
        WHERE cc.status = 'denied' AND cc.source = 'unsubscribe_link' AND ` + cond("cc.changed_at") + `
    ), rows AS (
        SELECT false AS unsub, status, delivery, topic, template, channel, recipient, created_at AS at
        FROM messages WHERE ` + cond("created_at") + ` AND status <> 'queued'
        UNION ALL
        SELECT true, 'sent', '', topic, template, channel, recipient, at FROM unsubs
    )
    SELECT unsub, status, delivery, topic, template, at,
        CASE WHEN channel = 'sms' THEN 'sms' ELSE coalesce(nullif(split_part(lower(recipient), '@', 2), ''), '(unknown)') END AS domain
    FROM rows`
}

// keepDeliveryDays is the refresh's delivery_days: every message and
// unsubscribe before $1, counted per UTC day and group.
var keepDeliveryDays = `
INSERT INTO delivery_days (day, unsubscribe, status, delivery, topic, template, domain, n)
SELECT (f.at AT TIME ZONE 'UTC')::date, f.unsub, f.status, f.delivery, f.topic, f.template, f.domain, count(*)
FROM (` + deliveryFacts(before1) + `) f
GROUP BY 1, 2, 3, 4, 5, 6, 7`

// deliveryTallies groups the messages and the unsubscribes they earned
// every way the report shows them in one pass: the kept days of
// delivery_days, and the rest of the period counted live.
var deliveryTallies = `
WITH u AS (
    SELECT unsub, status, delivery, topic, template, domain, at, 1 AS n
    FROM (` + deliveryFacts(func(e string) string { return live(e, 1) }) + `) f
    UNION ALL
    SELECT unsubscribe, status, delivery, topic, template, domain, day::timestamp AT TIME ZONE 'UTC', n
    FROM delivery_days WHERE day >= $5::date AND day < $6::date
), grouped AS (
    SELECT unsub, status, delivery, topic, template, domain, n,
        to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'IYYY-"W"IW') AS week,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM') AS month
    FROM u
)
SELECT CASE WHEN grouping(topic) = 0 THEN 'topic' WHEN grouping(template) = 0 THEN 'template'
        WHEN grouping(domain) = 0 THEN 'domain' WHEN grouping(week) = 0 THEN 'week'
        WHEN grouping(month) = 0 THEN 'month' ELSE 'total' END AS dimension,
    coalesce(topic, template, domain, week, month, '') AS label,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND status = 'sent'), 0)::int AS sent,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND status = 'failed'), 0)::int AS failed,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND status = 'skipped'), 0)::int AS skipped,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND delivery = 'delivered'), 0)::int AS delivered,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND delivery = 'bounced'), 0)::int AS bounced,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND delivery = 'soft_bounced'), 0)::int AS soft_bounced,
    coalesce(sum(n) FILTER (WHERE NOT unsub AND delivery = 'complained'), 0)::int AS complained,
    coalesce(sum(n) FILTER (WHERE unsub), 0)::int AS unsubscribes
FROM grouped
GROUP BY GROUPING SETS ((), (topic), (template), (domain), (week), (month))
ORDER BY 1, 2`

// DeliveryTallies counts the messages of [since, until) by outcome, in
// total and by topic, template, domain, week and month (UTC).
func (s *Store) DeliveryTallies(ctx context.Context, since, until time.Time) ([]DeliveryTally, error) {
	var out []DeliveryTally
	err := s.readKept(ctx, keptDelivery, func(tx querier, through *time.Time) error {
		sp := spanOf(since, until, through)
		var err error
		out, err = list[DeliveryTally](ctx, tx, "deliverability", deliveryTallies, sp.args()...)
		return err
	})
	return out, err
}
