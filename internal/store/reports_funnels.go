package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// FunnelRow is one line of a funnel's counts. Kind says which:
//
//   - arm: an arm's entries (Entries) and those that reached the goal
//     (Converted);
//   - step: the entries of an arm a step was sent to, and of those how many
//     were delivered, opened, clicked and redeemed a coupon the message
//     carried; FirstSent orders the steps;
//   - credit: the conversions of an arm credited to Step (the last step
//     sent before the goal within the window; "" when none was), with
//     their revenue in one currency.
type FunnelRow struct {
	Kind      string     `db:"kind"`
	Arm       string     `db:"arm"`
	Holdout   bool       `db:"holdout"`
	Step      string     `db:"step"`
	Currency  string     `db:"currency"`
	Entries   int        `db:"entries"`
	Converted int        `db:"converted"`
	Sent      int        `db:"sent"`
	Delivered int        `db:"delivered"`
	Opened    int        `db:"opened"`
	Clicked   int        `db:"clicked"`
	Redeemed  int        `db:"redeemed"`
	Revenue   float64    `db:"revenue"`
	FirstSent *time.Time `db:"first_sent"`
}

// Funnel kinds of the rows.
const (
	FunnelArm    = "arm"
	FunnelStep   = "step"
	FunnelCredit = "credit"
)

// A funnel is computed from two row sets that differ by what an entry is:
// entries (entry, arm, holdout, converted_at, revenue, currency) and the
// sent messages of each entry (entry, step, id, sent_at, delivery); an
// entry is text in the "C" collation, so joining and grouping by it
// compares bytes rather than sorting by language rules. The tail below is
// the same for every funnel: touched is what each entry's messages of a
// step reached (one row per entry and step, so the counts need no
// DISTINCT), credit the last step sent to a converted entry within the
// window before its conversion; %[1]s is the placeholder of the
// attribution window in seconds.
const funnelTail = `
, touched AS (
	SELECT e.arm, e.entry, m.step, min(m.sent_at) AS first_sent,
		bool_or(m.delivery NOT IN ('bounced', 'soft_bounced', 'undelivered', 'failed')) AS delivered,
		bool_or(EXISTS (SELECT 1 FROM message_clicks k WHERE k.message_id = m.id AND NOT k.machine)) AS clicked,
		bool_or(EXISTS (SELECT 1 FROM message_opens o WHERE o.message_id = m.id AND NOT o.machine)) AS opened,
		bool_or(EXISTS (SELECT 1 FROM coupons cp WHERE cp.message_id = m.id AND cp.redeemed_at IS NOT NULL)) AS redeemed
	FROM entries e JOIN msgs m ON m.entry = e.entry
	GROUP BY e.arm, e.entry, m.step
), credit AS (
	SELECT DISTINCT ON (e.entry) e.entry, m.step
	FROM entries e JOIN msgs m ON m.entry = e.entry
		AND m.sent_at <= e.converted_at AND m.sent_at > e.converted_at - make_interval(secs => %[1]s)
	WHERE e.converted_at IS NOT NULL
	ORDER BY e.entry, m.sent_at DESC, m.step DESC
)
SELECT 'arm' AS kind, arm, bool_or(holdout) AS holdout, '' AS step, '' AS currency,
	count(*)::int AS entries, count(converted_at)::int AS converted,
	0 AS sent, 0 AS delivered, 0 AS opened, 0 AS clicked, 0 AS redeemed, 0::float8 AS revenue,
	NULL::timestamptz AS first_sent
FROM entries GROUP BY arm
UNION ALL
SELECT 'step', arm, false, step, '', 0, 0,
	count(*)::int,
	count(*) FILTER (WHERE delivered)::int,
	count(*) FILTER (WHERE opened OR clicked)::int,
	count(*) FILTER (WHERE clicked)::int,
	count(*) FILTER (WHERE redeemed)::int,
	0, min(first_sent)
FROM touched GROUP BY arm, step
UNION ALL
SELECT 'credit', e.arm, false, coalesce(c.step, ''), e.currency, 0, count(*)::int,
	0, 0, 0, 0, 0, coalesce(sum(e.revenue), 0)::float8, NULL
FROM entries e LEFT JOIN credit c ON c.entry = e.entry
WHERE e.converted_at IS NOT NULL
GROUP BY 2, 4, 5
ORDER BY 1, 2, 14, 4, 5`

// campaignFunnel: an entry is a customer's entry into the campaign (its
// occurrence), its arm the variant, "<variant> rollout" for the rest of
// the audience sent an automatic A/B test's winner, or "holdout", its conversion the first
// goal event inside the goal window recorded at entry (the campaign
// report's rule), its revenue that event's amount. A campaign message's key
// ends in the occurrence (campaign.RunKey); its step is written step:variant
// when the step is split.
//
// The goal events are found by joining the entries to the events of the
// goal types between the first entry and the last goal window's end, read
// by time (events_type_time), rather than by looking up each entry's
// customer: most entries have none, and at 425,000 entries the lookups
// took 10 of the funnel's 28 s against 3 s for the join.
const campaignFunnel = `
WITH goals AS (
	SELECT DISTINCT ON (e.customer_id, e.occurrence) e.customer_id, e.occurrence, ev.id
	FROM campaign_entries e
	JOIN events ev ON ev.customer_id = e.customer_id AND ev.type = e.goal_event
		AND ev.occurred_at >= e.entered_at AND ev.occurred_at < e.goal_until
	WHERE e.campaign = $1
	  AND ev.type IN (SELECT goal_event FROM campaign_entries WHERE campaign = $1)
	  AND ev.occurred_at >= (SELECT min(entered_at) FROM campaign_entries WHERE campaign = $1)
	  AND ev.occurred_at < (SELECT max(goal_until) FROM campaign_entries WHERE campaign = $1)
	ORDER BY e.customer_id, e.occurrence, ev.occurred_at, ev.id
), entries AS (
	SELECT (e.customer_id::text || '/' || e.occurrence) COLLATE "C" AS entry,
		CASE WHEN e.holdout THEN 'holdout' WHEN e.rollout THEN e.variant || ' rollout' ELSE e.variant END AS arm, e.holdout,
		coalesce(ev.occurred_at, e.goal_at) AS converted_at,
		coalesce(CASE WHEN jsonb_typeof(ev.properties->'amount') = 'number' THEN (ev.properties->>'amount')::numeric END, 0) AS revenue,
		coalesce(ev.properties->>'currency', '') AS currency
	FROM campaign_entries e
	LEFT JOIN goals g ON g.customer_id = e.customer_id AND g.occurrence = e.occurrence
	LEFT JOIN events ev ON ev.id = g.id
	WHERE e.campaign = $1
), msgs AS (
	SELECT (m.customer_id::text || '/' || split_part(m.idempotency_key, '/', 6)) COLLATE "C" AS entry,
		split_part(m.step, ':', 1) AS step, m.id, coalesce(m.sent_at, m.created_at) AS sent_at, m.delivery
	FROM messages m WHERE m.journey = $2 AND m.status = 'sent'
)`

// journeyRunFunnel: an entry is a run of a per-customer journey started in
// the period, its conversion the one the run recorded (its goal event in
// the journey's goal window). A journey message's key is
// journey/customer/run/step.
const journeyRunFunnel = `
WITH entries AS (
	SELECT r.run_id COLLATE "C" AS entry, '' AS arm, false AS holdout, c.converted_at,
		coalesce(c.revenue, 0) AS revenue, coalesce(c.currency, '') AS currency
	FROM journey_runs r
	LEFT JOIN conversions c ON c.journey = r.journey AND c.run_id = r.run_id
	WHERE r.journey = $1 AND r.started_at >= $2 AND r.started_at < $3
), msgs AS (
	SELECT split_part(m.idempotency_key, '/', 3) COLLATE "C" AS entry, m.step, m.id,
		coalesce(m.sent_at, m.created_at) AS sent_at, m.delivery
	FROM messages m WHERE m.journey = $1 AND m.status = 'sent' AND m.created_at >= $2
)`

// journeyMessageFunnel: for a sweep without runs (birthday, anniversary)
// an entry is a message the sweep meant to send in the period (whatever
// the send path decided), its conversion the redemption of the coupon the
// message carried.
const journeyMessageFunnel = `
WITH entries AS (
	SELECT m.idempotency_key COLLATE "C" AS entry, '' AS arm, false AS holdout, c.converted_at,
		coalesce(c.revenue, 0) AS revenue, coalesce(c.currency, '') AS currency
	FROM messages m
	LEFT JOIN LATERAL (
		SELECT cv.converted_at, cv.revenue, cv.currency
		FROM coupons cp JOIN conversions cv ON cv.journey = m.journey AND cv.run_id = 'coupon:' || cp.code
		WHERE cp.message_id = m.id AND cp.redeemed_at IS NOT NULL
		ORDER BY cv.converted_at LIMIT 1
	) c ON true
	WHERE m.journey = $1 AND m.status <> 'queued' AND m.created_at >= $2 AND m.created_at < $3
), msgs AS (
	SELECT m.idempotency_key COLLATE "C" AS entry, m.step, m.id, coalesce(m.sent_at, m.created_at) AS sent_at, m.delivery
	FROM messages m WHERE m.journey = $1 AND m.status = 'sent' AND m.created_at >= $2 AND m.created_at < $3
)`

// CampaignFunnel counts a campaign's funnel over all its entries, per arm,
// crediting each conversion to the last step sent to the entry at most
// window before it.
func (s *Store) CampaignFunnel(ctx context.Context, name string, window time.Duration) ([]FunnelRow, error) {
	if _, err := s.GetCampaign(ctx, name); err != nil {
		return nil, err
	}
	return s.funnel(ctx, "campaign "+name, campaignFunnel+fmt.Sprintf(funnelTail, "$3"),
		name, "campaign/"+name, window.Seconds())
}

// JourneyFunnel counts a built-in journey's funnel for the entries of
// [since, until): its runs started then, or, for a journey that has never
// run per customer (a date sweep), its messages of the period.
func (s *Store) JourneyFunnel(ctx context.Context, journey string, since, until time.Time, window time.Duration) ([]FunnelRow, error) {
	var perRun bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM journey_runs WHERE journey = $1)`, journey).Scan(&perRun); err != nil {
		return nil, fmt.Errorf("journey %s funnel: %w", journey, err)
	}
	entries := journeyMessageFunnel
	if perRun {
		entries = journeyRunFunnel
	}
	return s.funnel(ctx, "journey "+journey, entries+fmt.Sprintf(funnelTail, "$4"),
		journey, since, until, window.Seconds())
}

// funnel runs a funnel's statement without JIT compilation and with room
// to sort and hash its entries in memory. The planner cannot estimate how
// an entry's messages join it (the key is computed), so it expects
// millions of rows, and compiling the statement for them took longer than
// running it (3.1 of 6.1 s at 100,000 customers); at the default work_mem
// its sorts spilled to disk.
func (s *Store) funnel(ctx context.Context, what, sql string, args ...any) ([]FunnelRow, error) {
	var rows []FunnelRow
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`); err != nil {
			return err
		}
		var err error
		rows, err = rowsOf[FunnelRow](ctx, tx, strings.TrimSpace(sql), args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s funnel: %w", what, err)
	}
	return rows, nil
}

// KeptFunnel is a funnel's rows as a refresh counted them: for the
// attribution window Window and, for a journey, the entries of [Since,
// Until); At is the refresh's moment.
type KeptFunnel struct {
	Window time.Duration `json:"window"`
	Since  time.Time     `json:"since,omitzero"`
	Until  time.Time     `json:"until,omitzero"`
	Rows   []FunnelRow   `json:"rows"`
	At     time.Time     `json:"-"`
}

// keptFunnel is a kept funnel's stored form.
type keptFunnel struct {
	Funnel []byte    `db:"funnel"`
	At     time.Time `db:"computed_at"`
}

func (k keptFunnel) decode(what string) (KeptFunnel, error) {
	var f KeptFunnel
	if err := json.Unmarshal(k.Funnel, &f); err != nil {
		return KeptFunnel{}, fmt.Errorf("kept funnel of %s: %w", what, err)
	}
	f.At = k.At
	return f, nil
}

// KeptCampaignFunnel is the campaign's funnel as the last refresh kept it
// beside its results (SaveCampaignResults); ErrNotFound before any did.
func (s *Store) KeptCampaignFunnel(ctx context.Context, name string) (KeptFunnel, error) {
	k, err := rowOf[keptFunnel](ctx, s.pool, `
		SELECT funnel, computed_at FROM campaign_results WHERE campaign = $1 AND funnel IS NOT NULL`, name)
	if err != nil {
		return KeptFunnel{}, fmt.Errorf("kept funnel of campaign %s: %w", name, err)
	}
	return k.decode("campaign " + name)
}

// SaveJourneyFunnels keeps each journey's funnel as of at, replacing the
// one kept before.
func (s *Store) SaveJourneyFunnels(ctx context.Context, funnels map[string]KeptFunnel, at time.Time) error {
	if len(funnels) == 0 {
		return nil
	}
	var names []string
	var docs [][]byte
	for name, f := range funnels {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("keep funnel of journey %s: %w", name, err)
		}
		names, docs = append(names, name), append(docs, b)
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO journey_funnels (journey, funnel, computed_at)
		SELECT n, f, $3 FROM unnest($1::text[], $2::jsonb[]) AS r(n, f)
		ON CONFLICT (journey) DO UPDATE SET funnel = EXCLUDED.funnel, computed_at = EXCLUDED.computed_at`, names, docs, at)
	if err != nil {
		return fmt.Errorf("keep funnels of %d journeys: %w", len(funnels), err)
	}
	return nil
}

// KeptJourneyFunnel is the journey's funnel as the last refresh kept it;
// ErrNotFound before any did.
func (s *Store) KeptJourneyFunnel(ctx context.Context, journey string) (KeptFunnel, error) {
	k, err := rowOf[keptFunnel](ctx, s.pool, `SELECT funnel, computed_at FROM journey_funnels WHERE journey = $1`, journey)
	if err != nil {
		return KeptFunnel{}, fmt.Errorf("kept funnel of journey %s: %w", journey, err)
	}
	return k.decode("journey " + journey)
}
