package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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
// entries (entry, day, arm, holdout, converted_at, revenue, currency) and
// the sent messages of each entry (entry, step, id, sent_at, delivery); an
// entry is text in the "C" collation, so joining and grouping by it
// compares bytes rather than sorting by language rules, and day is the UTC
// day a journey's entry started (NULL for a campaign's).
//
// funnelTail turns them into a funnel's kept rows: what does not depend on
// the attribution window, per entry day. touched is what each entry's
// messages of a step reached (one row per entry and step, so the counts
// need no DISTINCT); credit the last step sent to a converted entry at or
// before its conversion, with the gap between them in microseconds (NULL
// when no step was sent before). With a window W the conversion is the
// last step's when gap < W, else no step's: an earlier step was sent
// earlier still. So a funnel of any window, and of any set of entry days,
// is a sum over these rows (funnelFold), whether counted now or kept by
// the refresh (kept_funnel_rows).
const funnelTail = `
, touched AS (
	SELECT e.day, e.arm, e.entry, m.step, min(m.sent_at) AS first_sent,
		bool_or(m.delivery NOT IN ('bounced', 'soft_bounced', 'undelivered', 'failed')) AS delivered,
		bool_or(EXISTS (SELECT 1 FROM message_clicks k WHERE k.message_id = m.id AND NOT k.machine)) AS clicked,
		bool_or(EXISTS (SELECT 1 FROM message_opens o WHERE o.message_id = m.id AND NOT o.machine)) AS opened,
		bool_or(EXISTS (SELECT 1 FROM coupons cp WHERE cp.message_id = m.id AND cp.redeemed_at IS NOT NULL)) AS redeemed
	FROM entries e JOIN msgs m ON m.entry = e.entry
	GROUP BY e.day, e.arm, e.entry, m.step
), credit AS (
	SELECT DISTINCT ON (e.entry) e.entry, m.step,
		(extract(epoch FROM e.converted_at - m.sent_at) * 1000000)::bigint AS gap_us
	FROM entries e JOIN msgs m ON m.entry = e.entry AND m.sent_at <= e.converted_at
	WHERE e.converted_at IS NOT NULL
	ORDER BY e.entry, m.sent_at DESC, m.step DESC
)
SELECT day, 'arm' AS kind, arm, bool_or(holdout) AS holdout, '' AS step, '' AS currency, NULL::bigint AS gap_us,
	count(*)::int AS entries, count(converted_at)::int AS converted,
	0 AS sent, 0 AS delivered, 0 AS opened, 0 AS clicked, 0 AS redeemed, 0::numeric AS revenue,
	NULL::timestamptz AS first_sent
FROM entries GROUP BY day, arm
UNION ALL
SELECT day, 'step', arm, false, step, '', NULL, 0, 0,
	count(*)::int,
	count(*) FILTER (WHERE delivered)::int,
	count(*) FILTER (WHERE opened OR clicked)::int,
	count(*) FILTER (WHERE clicked)::int,
	count(*) FILTER (WHERE redeemed)::int,
	0, min(first_sent)
FROM touched GROUP BY day, arm, step
UNION ALL
SELECT e.day, 'credit', e.arm, false, coalesce(c.step, ''), e.currency, c.gap_us, 0, count(*)::int,
	0, 0, 0, 0, 0, coalesce(sum(e.revenue), 0), NULL
FROM entries e LEFT JOIN credit c ON c.entry = e.entry
WHERE e.converted_at IS NOT NULL
GROUP BY e.day, e.arm, coalesce(c.step, ''), e.currency, c.gap_us`

// funnelFold sums kept rows (%[1]s: a statement of funnelTail's columns)
// into the FunnelRows of one attribution window (%[2]s: its placeholder,
// in microseconds): a credit whose gap is not under the window goes to no
// step.
const funnelFold = `
SELECT kind, arm, bool_or(holdout) AS holdout,
	CASE WHEN kind <> 'credit' OR gap_us < %[2]s THEN step ELSE '' END AS step, currency,
	sum(entries)::int AS entries, sum(converted)::int AS converted, sum(sent)::int AS sent,
	sum(delivered)::int AS delivered, sum(opened)::int AS opened, sum(clicked)::int AS clicked,
	sum(redeemed)::int AS redeemed, sum(revenue)::float8 AS revenue, min(first_sent) AS first_sent
FROM (%[1]s) r
GROUP BY 1, 2, 4, 5
ORDER BY 1, 2, 14, 4, 5`

// keptRows are the rows a refresh kept of one funnel ($%[1]d: campaign/<name>
// or journey/<name>) of the entry days [$%[2]d, $%[3]d) (a campaign's,
// whose day is NULL, all).
const keptRows = `
SELECT day, kind, arm, holdout, step, currency, gap_us, entries, converted,
	sent, delivered, opened, clicked, redeemed, revenue, first_sent
FROM kept_funnel_rows
WHERE funnel = $%[1]d AND (day IS NULL OR day >= $%[2]d::date AND day < $%[3]d::date)`

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
	SELECT (e.customer_id::text || '/' || e.occurrence) COLLATE "C" AS entry, NULL::date AS day,
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

// A journey's entries are those started in [$2, $3) or [$4, $5) (the
// parts of a period a refresh has not kept, or one period and an empty
// one); $6 is the earliest a message of theirs can have been created.

// journeyRunFunnel: an entry is a run of a per-customer journey started in
// the period, its conversion the one the run recorded (its goal event in
// the journey's goal window). A journey message's key is
// journey/customer/run/step; %s is a further condition on the messages
// (runsByCustomer, or none).
const journeyRunFunnel = `
WITH entries AS (
	SELECT r.run_id COLLATE "C" AS entry, (r.started_at AT TIME ZONE 'UTC')::date AS day, '' AS arm, false AS holdout,
		c.converted_at, coalesce(c.revenue, 0) AS revenue, coalesce(c.currency, '') AS currency, r.customer_id
	FROM journey_runs r
	LEFT JOIN conversions c ON c.journey = r.journey AND c.run_id = r.run_id
	WHERE r.journey = $1 AND (r.started_at >= $2 AND r.started_at < $3 OR r.started_at >= $4 AND r.started_at < $5)
), msgs AS (
	SELECT split_part(m.idempotency_key, '/', 3) COLLATE "C" AS entry, m.step, m.id,
		coalesce(m.sent_at, m.created_at) AS sent_at, m.delivery
	FROM messages m WHERE m.journey = $1 AND m.status = 'sent' AND m.created_at >= $6 %s
)`

// runsByCustomer finds journeyRunFunnel's messages by its entries'
// customers, for when the entries are few and recent (the part of a day a
// period cuts, the runs since the refresh): by the journey and time alone
// those would read every message of the journey since (0.7 s at 100,000
// customers, for a handful of runs). For a year of runs it is the slower
// way (2.8 s against 0.5 s).
const runsByCustomer = `AND m.customer_id IN (SELECT customer_id FROM entries)`

// journeyMessageFunnel: for a sweep without runs (birthday, anniversary)
// an entry is a message the sweep meant to send in the period (whatever
// the send path decided), its conversion the redemption of the coupon the
// message carried.
const journeyMessageFunnel = `
WITH entries AS (
	SELECT m.idempotency_key COLLATE "C" AS entry, (m.created_at AT TIME ZONE 'UTC')::date AS day, '' AS arm, false AS holdout, c.converted_at,
		coalesce(c.revenue, 0) AS revenue, coalesce(c.currency, '') AS currency
	FROM messages m
	LEFT JOIN LATERAL (
		SELECT cv.converted_at, cv.revenue, cv.currency
		FROM coupons cp JOIN conversions cv ON cv.journey = m.journey AND cv.run_id = 'coupon:' || cp.code
		WHERE cp.message_id = m.id AND cp.redeemed_at IS NOT NULL
		ORDER BY cv.converted_at LIMIT 1
	) c ON true
	WHERE m.journey = $1 AND m.status <> 'queued' AND (m.created_at >= $2 AND m.created_at < $3 OR m.created_at >= $4 AND m.created_at < $5) AND m.created_at >= $6
), msgs AS (
	SELECT m.idempotency_key COLLATE "C" AS entry, m.step, m.id, coalesce(m.sent_at, m.created_at) AS sent_at, m.delivery
	FROM messages m WHERE m.journey = $1 AND m.status = 'sent' AND (m.created_at >= $2 AND m.created_at < $3 OR m.created_at >= $4 AND m.created_at < $5) AND m.created_at >= $6
)`

// CampaignFunnel counts a campaign's funnel over all its entries, per arm,
// crediting each conversion to the last step sent to the entry at most
// window before it.
func (s *Store) CampaignFunnel(ctx context.Context, name string, window time.Duration) ([]FunnelRow, error) {
	if _, err := s.GetCampaign(ctx, name); err != nil {
		return nil, err
	}
	var rows []FunnelRow
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		rows, err = foldFunnel(ctx, tx, campaignFunnel+funnelTail, "$3", name, "campaign/"+name, window.Microseconds())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("campaign %s funnel: %w", name, err)
	}
	return rows, nil
}

// JourneyFunnel counts a built-in journey's funnel for the entries of
// [since, until): its runs started then, or, for a journey that has never
// run per customer (a date sweep), its messages of the period.
func (s *Store) JourneyFunnel(ctx context.Context, journey string, since, until time.Time, window time.Duration) ([]FunnelRow, error) {
	var rows []FunnelRow
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		entries, err := journeyEntries(ctx, tx, journey, false)
		if err != nil {
			return err
		}
		rows, err = foldFunnel(ctx, tx, entries+funnelTail, "$7", journey, since, until, until, until, since, window.Microseconds())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journey %s funnel: %w", journey, err)
	}
	return rows, nil
}

// journeyEntries is the statement of a journey's entries: its runs, or,
// for a journey that has never run per customer, its messages; few says
// the entries are few and recent (runsByCustomer).
func journeyEntries(ctx context.Context, tx pgx.Tx, journey string, few bool) (string, error) {
	var perRun bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM journey_runs WHERE journey = $1)`, journey).Scan(&perRun); err != nil {
		return "", err
	}
	switch {
	case !perRun:
		return journeyMessageFunnel, nil
	case few:
		return fmt.Sprintf(journeyRunFunnel, runsByCustomer), nil
	}
	return fmt.Sprintf(journeyRunFunnel, ""), nil
}

// foldFunnel sums the kept rows src yields into one window's FunnelRows,
// without JIT compilation and with room to sort and hash the entries in
// memory. The planner cannot estimate how an entry's messages join it (the
// key is computed), so it expects millions of rows, and compiling the
// statement for them took longer than running it (3.1 of 6.1 s at 100,000
// customers); at the default work_mem its sorts spilled to disk.
func foldFunnel(ctx context.Context, tx pgx.Tx, src, window string, args ...any) ([]FunnelRow, error) {
	if err := funnelSettings(ctx, tx); err != nil {
		return nil, err
	}
	return rowsOf[FunnelRow](ctx, tx, strings.TrimSpace(fmt.Sprintf(funnelFold, src, window)), args...)
}

func funnelSettings(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`)
	return err
}

// keepFunnel replaces the kept rows of funnel (campaign/<name>,
// journey/<name>) with those src counts now.
func keepFunnel(ctx context.Context, tx pgx.Tx, funnel, src string, args ...any) error {
	if _, err := tx.Exec(ctx, `DELETE FROM kept_funnel_rows WHERE funnel = $1`, funnel); err != nil {
		return fmt.Errorf("keep funnel %s: %w", funnel, err)
	}
	n := len(args) + 1
	_, err := tx.Exec(ctx, fmt.Sprintf(`
		INSERT INTO kept_funnel_rows (funnel, day, kind, arm, holdout, step, currency, gap_us, entries, converted,
			sent, delivered, opened, clicked, redeemed, revenue, first_sent)
		SELECT $%d::text, r.* FROM (%s) r`, n, src), append(args, funnel)...)
	if err != nil {
		return fmt.Errorf("keep funnel %s: %w", funnel, err)
	}
	return nil
}

// KeptFunnel is a funnel as the refresh kept it, for the attribution
// window it is read with and, for a journey, the entries of [Since,
// Until); At is the refresh's moment, zero when none of it was kept (all
// of it was counted now).
type KeptFunnel struct {
	Since time.Time   `json:"since,omitzero"`
	Until time.Time   `json:"until,omitzero"`
	Rows  []FunnelRow `json:"-"`
	At    time.Time   `json:"-"`
}

// keptFunnel is a kept funnel's stored form: for a journey, the entries
// its rows are of.
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

// KeptCampaignFunnel is the campaign's funnel for window as the last
// refresh kept it beside its results (SaveCampaignResults); ErrNotFound
// before any did.
func (s *Store) KeptCampaignFunnel(ctx context.Context, name string, window time.Duration) (KeptFunnel, error) {
	var f KeptFunnel
	err := s.readReport(ctx, func(tx pgx.Tx) error {
		k, err := rowOf[keptFunnel](ctx, tx, `
			SELECT funnel, computed_at FROM campaign_results WHERE campaign = $1 AND funnel IS NOT NULL`, name)
		if err != nil {
			return err
		}
		f.At = k.At
		f.Rows, err = foldFunnel(ctx, tx, fmt.Sprintf(keptRows, 1, 2, 3), "$4",
			"campaign/"+name, "1970-01-01", "1970-01-01", window.Microseconds())
		return err
	})
	if err != nil {
		return KeptFunnel{}, fmt.Errorf("kept funnel of campaign %s: %w", name, err)
	}
	return f, nil
}

// KeepJourneyFunnels counts the rows of each journey's funnel for the
// entries of [since, at) and keeps them, per entry day, replacing the ones
// kept before, all or none.
func (s *Store) KeepJourneyFunnels(ctx context.Context, journeys []string, since, at time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := funnelSettings(ctx, tx); err != nil {
			return err
		}
		// Never past the database's clock: a run started after the refresh
		// but stamped before a future at would be neither kept nor live.
		through := at
		if err := tx.QueryRow(ctx, `SELECT least($1::timestamptz, now())`, at).Scan(&through); err != nil {
			return err
		}
		doc, err := json.Marshal(KeptFunnel{Since: since, Until: through})
		if err != nil {
			return err
		}
		for _, j := range journeys {
			entries, err := journeyEntries(ctx, tx, j, false)
			if err != nil {
				return err
			}
			if err := keepFunnel(ctx, tx, "journey/"+j, entries+funnelTail, j, since, through, through, through, since); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO journey_funnels (journey, funnel, computed_at) VALUES ($1, $2, $3)
				ON CONFLICT (journey) DO UPDATE SET funnel = EXCLUDED.funnel, computed_at = EXCLUDED.computed_at`, j, doc, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keep funnels of %d journeys: %w", len(journeys), err)
	}
	return nil
}

// KeptJourneyFunnel is the journey's funnel for window over the entries of
// [since, until): the whole UTC days of it the last refresh kept, as it
// kept them, and the rest (entries since the refresh, before what it kept,
// or in the parts of days the period cuts) counted now, in one snapshot;
// ErrNotFound before any refresh kept it.
func (s *Store) KeptJourneyFunnel(ctx context.Context, journey string, since, until time.Time, window time.Duration) (KeptFunnel, error) {
	var f KeptFunnel
	err := s.readReport(ctx, func(tx pgx.Tx) error {
		k, err := rowOf[keptFunnel](ctx, tx, `SELECT funnel, computed_at FROM journey_funnels WHERE journey = $1`, journey)
		if err != nil {
			return err
		}
		kept, err := k.decode("journey " + journey)
		if err != nil {
			return err
		}
		sp := spanOf(later(since, kept.Since), until, &kept.Until)
		if sp.days0 == sp.days1 {
			// Nothing of the period was kept: all of it is counted now.
			sp = keptSpan{live1: until, live2: until, days0: sp.days0, days1: sp.days1}
		} else {
			f.At = kept.At
		}
		// The earliest a live entry's message can have been created.
		var from any = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}
		switch {
		case since.Before(sp.live1):
			from = since
		case sp.live2.Before(until):
			from = sp.live2
		}
		// The live entries are few when they are those of a day's part
		// and of up to two days since the refresh.
		few := !f.At.IsZero() && !since.Before(kept.Since) && until.Sub(sp.live2) <= 48*time.Hour
		entries, err := journeyEntries(ctx, tx, journey, few)
		if err != nil {
			return err
		}
		src := fmt.Sprintf(keptRows, 8, 9, 10) + "\nUNION ALL\n(" + entries + funnelTail + ")"
		f.Rows, err = foldFunnel(ctx, tx, src, "$7", journey, since, sp.live1, sp.live2, until, from,
			window.Microseconds(), "journey/"+journey, sp.days0, sp.days1)
		return err
	})
	if err != nil {
		return KeptFunnel{}, fmt.Errorf("kept funnel of journey %s: %w", journey, err)
	}
	f.Since, f.Until = since, until
	return f, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
