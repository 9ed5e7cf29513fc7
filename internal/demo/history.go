package demo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidingsdev/tidings/examples"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/segment"
)

// Execer runs one SQL statement; *pgxpool.Pool implements it.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// HistoryCampaign is the past campaign the demo company ran: an A/B test of
// two offers with a holdout, whose report, funnel and uplift the demo shows.
const HistoryCampaign = "tea-festival"

// history is the past the reports read beyond the orders: a campaign with
// its entries and messages (opened, clicked, bounced), survey invitations
// and answers with comments in the customer's language, and signups with
// the channel they came from (for buyers only: the customers who never
// bought are the ones the demo signs up live, and a stored signup would
// make it pass them over). Every row is derived in PostgreSQL from the
// demo customers' external IDs and the anchor (hashtext of the ID with a
// salt picks who gets what), so it is the same on every load, and written
// with ON CONFLICT DO NOTHING, so loading again adds nothing. Signups are
// stored as already routed: they are history, not news for the onboarding
// journey. $1 is the anchor.
// signupSources are the channels the demo's customers signed up from, in
// the order the history picks them by hash.
var signupSources = []string{"google-ads", "instagram", "referral", "newsletter", "organic"}

// spendPerMonth is what the demo company pays each source a month, so the
// acquisition report shows CAC by source: search ads cost the most (a
// CLV:CAC under 3, the one to look at), the referral programme pays a
// reward per friend, the newsletter is cheap and organic signups cost
// nothing (and so have no CAC).
var spendPerMonth = reports.SpendPerMonth{"google-ads": 7500, "instagram": 4500, "referral": 2000, "newsletter": 600}

// AcquisitionSpend is the spend the acquisition report is computed with on
// `tidings dev --demo`: the policy file's when it gives one, else the demo
// company's own.
func AcquisitionSpend(policy reports.SpendPerMonth) reports.SpendPerMonth {
	if len(policy) > 0 {
		return policy
	}
	return spendPerMonth
}

var history = []struct{ what, sql string }{
	{"signups", `
		INSERT INTO events (event_id, customer_id, type, properties, occurred_at, routed_at)
		SELECT 'demo-history-signup-' || external_id, id, 'signup',
			jsonb_build_object('source', (ARRAY['` + strings.Join(signupSources, "', '") + `'])[1 + abs(hashtext(external_id || ':source')) % ` + strconv.Itoa(len(signupSources)) + `]),
			coalesce(first_purchase_at, $1::timestamptz) - make_interval(days => 1 + abs(hashtext(external_id || ':joined')) % 40),
			$1::timestamptz
		FROM customers WHERE external_id LIKE 'demo-%' AND first_purchase_at IS NOT NULL
		ON CONFLICT (event_id) DO NOTHING`},
	{"campaign", `
		WITH c AS (
			INSERT INTO campaigns (name, description, status, current_version, trigger_kind, created_at, updated_at)
			VALUES ('` + HistoryCampaign + `', 'Tea festival: 15% off or a free sample (A/B), 10% held out', 'archived', 1, 'once',
				$1::timestamptz - interval '45 days', $1::timestamptz - interval '20 days')
			ON CONFLICT (name) DO NOTHING
			RETURNING name
		)
		INSERT INTO campaign_versions (campaign, version, source, spec, created_at)
		SELECT name, 1, 'name: ` + HistoryCampaign + `', '{"name": "` + HistoryCampaign + `"}', $1::timestamptz - interval '45 days' FROM c`},
	{"campaign entries", `
		INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, variant,
			entered_at, goal_event, goal_until, finished_at, outcome)
		SELECT '` + HistoryCampaign + `', id, 1, 1, 'demo-history-' || external_id, h % 10 = 0,
			CASE WHEN h % 10 = 0 THEN '' WHEN h % 2 = 0 THEN 'discount' ELSE 'sample' END,
			$1::timestamptz - interval '40 days', 'purchase', $1::timestamptz - interval '26 days',
			$1::timestamptz - interval '26 days', 'completed'
		FROM (SELECT id, external_id, abs(hashtext(external_id || ':festival')) AS h FROM customers
			WHERE external_id LIKE 'demo-%' AND orders_count > 0) c
		WHERE h % 100 < 70
		ON CONFLICT DO NOTHING`},
	{"campaign messages", `
		INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, locale, recipient,
			status, delivery, delivery_at, created_at, updated_at, sent_at)
		SELECT 'campaign/` + HistoryCampaign + `/1/' || e.customer_id || '/offer/1', e.customer_id, 'campaign/` + HistoryCampaign + `',
			'offer:' || e.variant, 'email', 'care', 'marketing', c.locale, coalesce(c.email, ''), 'sent',
			CASE WHEN abs(hashtext(c.external_id || ':bounce')) % 100 < 3 THEN 'bounced'
				WHEN abs(hashtext(c.external_id || ':bounce')) % 100 < 4 THEN 'complained' ELSE '' END,
			e.entered_at + interval '2 hours', e.entered_at + interval '1 hour', e.entered_at + interval '1 hour', e.entered_at + interval '1 hour'
		FROM campaign_entries e JOIN customers c ON c.id = e.customer_id
		WHERE e.campaign = '` + HistoryCampaign + `' AND NOT e.holdout
		ON CONFLICT (idempotency_key) DO NOTHING`},
	{"survey runs", `
		INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at, ended_at, outcome)
		SELECT 'survey', 'demo-history-' || external_id, id,
			CASE WHEN h % 100 < 30 THEN 'order_delivered' ELSE 'ticket_closed' END,
			last_purchase_at + interval '2 days', last_purchase_at + interval '5 days', 'answered'
		FROM (SELECT id, external_id, last_purchase_at, abs(hashtext(external_id || ':survey')) AS h FROM customers
			WHERE external_id LIKE 'demo-%' AND last_purchase_at < $1::timestamptz - interval '5 days') c
		WHERE h % 100 < 45
		ON CONFLICT DO NOTHING`},
	{"survey invitations", `
		INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, locale, recipient,
			status, created_at, updated_at, sent_at)
		SELECT 'survey/' || r.customer_id || '/' || r.run_id || '/survey', r.customer_id, 'survey', 'survey', 'email',
			'survey_request', 'surveys', c.locale, coalesce(c.email, ''), 'sent',
			r.started_at + interval '1 day', r.started_at + interval '1 day', r.started_at + interval '1 day'
		FROM journey_runs r JOIN customers c ON c.id = r.customer_id
		WHERE r.journey = 'survey' AND r.run_id LIKE 'demo-history-%'
		ON CONFLICT (idempotency_key) DO NOTHING`},
	{"survey answers", `
		INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
		SELECT customer_id, kind, score,
			CASE WHEN band = 'detractor' OR h % 3 = 0 THEN comments[1 + h % array_length(comments, 1)] ELSE '' END,
			id, sent_at + interval '6 hours'
		FROM (
			SELECT m.id, m.customer_id, m.sent_at, s.kind, s.score, s.h, s.band,
				CASE WHEN s.band = 'detractor' THEN CASE m.locale
						WHEN 'zh-CN' THEN ARRAY['快递太慢了，等了一个多星期。', '茶叶受潮了，味道不对。', '客服回复太慢，问题还没解决。']
						WHEN 'zh-TW' THEN ARRAY['出貨太慢，等了一個多星期。', '茶葉受潮了，味道不對。', '客服回覆太慢，問題還沒解決。']
						ELSE ARRAY['Delivery took over a week.', 'The tea arrived damp and tasted stale.', 'Support took days to answer and did not fix it.'] END
					ELSE CASE m.locale
						WHEN 'zh-CN' THEN ARRAY['包装很用心，茶也很香。', '下单很方便，会再回购。']
						WHEN 'zh-TW' THEN ARRAY['包裝很用心，茶也很香。', '訂購很方便，會再回購。']
						ELSE ARRAY['Lovely packaging and a fragrant tea.', 'Easy to order, I will buy again.'] END
				END AS comments
			FROM messages m
			JOIN journey_runs r ON r.journey = 'survey' AND m.idempotency_key = 'survey/' || r.customer_id || '/' || r.run_id || '/survey'
			CROSS JOIN LATERAL (
				SELECT CASE WHEN r.trigger = 'order_delivered' THEN 'nps' ELSE 'csat' END AS kind,
					abs(hashtext(r.run_id || ':score')) AS h
			) k
			CROSS JOIN LATERAL (
				SELECT k.kind, k.h,
					CASE WHEN k.kind = 'nps' THEN (ARRAY[10, 10, 9, 9, 9, 10, 8, 7, 8, 6, 3, 9, 10, 5, 9, 8, 10, 2, 9, 7])[1 + k.h % 20]
						ELSE (ARRAY[5, 5, 4, 5, 4, 3, 5, 2, 4, 5, 1, 5, 4, 5, 3])[1 + k.h % 15] END AS score
			) sc
			CROSS JOIN LATERAL (
				SELECT sc.kind, sc.score, sc.h,
					CASE WHEN (sc.kind = 'nps' AND sc.score <= 6) OR (sc.kind = 'csat' AND sc.score <= 2) THEN 'detractor' ELSE 'other' END AS band
			) s
			WHERE r.run_id LIKE 'demo-history-%' AND abs(hashtext(r.run_id || ':answers')) % 100 < 75
		) a
		ON CONFLICT (message_id) DO NOTHING`},
	{"opens", `
		INSERT INTO message_opens (message_id, machine, first_at, last_at)
		SELECT id, false, sent_at + interval '3 hours', sent_at + interval '3 hours'
		FROM messages
		WHERE (journey = 'campaign/` + HistoryCampaign + `' OR (journey = 'survey' AND idempotency_key LIKE '%/demo-history-%'))
		  AND delivery <> 'bounced'
		  AND abs(hashtext(idempotency_key || ':open')) % 100 < CASE WHEN step = 'offer:sample' THEN 58 ELSE 46 END
		ON CONFLICT DO NOTHING`},
	{"clicks", `
		INSERT INTO message_clicks (message_id, link, url, machine, first_at, last_at)
		SELECT o.message_id, 0, 'https://shop.example/tea-festival', false, o.first_at + interval '2 minutes', o.first_at + interval '2 minutes'
		FROM message_opens o JOIN messages m ON m.id = o.message_id
		WHERE m.journey = 'campaign/` + HistoryCampaign + `' AND NOT o.machine
		  AND abs(hashtext(m.idempotency_key || ':click')) % 100 < CASE WHEN m.step = 'offer:sample' THEN 35 ELSE 25 END
		ON CONFLICT DO NOTHING`},
}

// loadHistory writes the demo's history (see history) for the anchor.
// savedSegments are the example segments the demo company keeps saved, so
// the console's segment pages, and each segment's size over time as the
// refreshes measure it, have something to show.
var savedSegments = []string{"champions", "winback"}

// loadSegments saves the example segments the company lacks; one a user
// changed since stays as they left it.
func loadSegments(ctx context.Context, db Execer) error {
	for _, name := range savedSegments {
		file := "segments/" + name + ".yaml"
		src, err := examples.Segments.ReadFile(file)
		if err != nil {
			return err
		}
		def, err := segment.Parse(src, file)
		if err != nil {
			return err
		}
		if _, err := db.Exec(ctx, `INSERT INTO segments (name, description, format, definition) VALUES ($1, $2, 'yaml', $3)
			ON CONFLICT (name) DO NOTHING`, def.Name, def.Description, string(src)); err != nil {
			return fmt.Errorf("save demo segment %s: %w", name, err)
		}
	}
	return nil
}

func loadHistory(ctx context.Context, db Execer, anchor time.Time) error {
	for _, h := range history {
		var args []any
		if strings.Contains(h.sql, "$1") {
			args = append(args, anchor)
		}
		if _, err := db.Exec(ctx, h.sql, args...); err != nil {
			return fmt.Errorf("demo history, %s: %w", h.what, err)
		}
	}
	return nil
}
