package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The dataset's statements run on one session. pg_temp.ds_now() and
// pg_temp.ds_n() are the history's end and the number of customers;
// pg_temp.ds_u(key) is a uniform number in [0, 1) hashed from key, so the
// statements that derive rows from other rows (a run's steps, an answer's
// comment) agree without joining; pg_temp.ds_id(g) is customer g's ID.
// random() is seeded at the start, so the same sizes give the same rows.

// setup creates the session's functions and lookup tables.
func (g *generator) setup(ctx context.Context) error {
	sz := g.opt.Sizes
	buyers := max(1, sz.Customers*62/100)
	// Purchases are three in ten events; orders past the end of the
	// history are cut, which the mean makes up for.
	meanOrders := max(1.05, float64(sz.Events)*0.3/float64(buyers)*1.3)
	places := datasetPlaceSlots()
	fn := fmt.Sprintf(`
		SET work_mem = '256MB';
		SET maintenance_work_mem = '512MB';
		SET synchronous_commit = off;
		CREATE FUNCTION pg_temp.ds_now() RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$ SELECT '%s'::timestamptz $$;
		CREATE FUNCTION pg_temp.ds_n() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT %d $$;
		CREATE FUNCTION pg_temp.ds_slots() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT %d $$;
		CREATE FUNCTION pg_temp.ds_sources() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT %d $$;
		CREATE FUNCTION pg_temp.ds_mean_orders() RETURNS float8 LANGUAGE sql IMMUTABLE AS $$ SELECT %f::float8 $$;
		CREATE FUNCTION pg_temp.ds_u(k text) RETURNS float8 LANGUAGE sql IMMUTABLE
			AS $$ SELECT (hashtext(k)::float8 + 2147483648.0) / 4294967296.0 $$;
		CREATE FUNCTION pg_temp.ds_id(g bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
			AS $$ SELECT md5('ds-customer-' || g)::uuid $$;
		SELECT setseed(0.2026)`,
		g.opt.Now.Format(time.RFC3339), sz.Customers, len(places.zone), len(datasetSources), meanOrders)
	if _, err := g.exec(ctx, fn); err != nil {
		return fmt.Errorf("session functions: %w", err)
	}
	names := datasetNames()
	steps := datasetStepTable()
	comments := datasetComments()
	for _, t := range []struct {
		sql  string
		args []any
	}{
		{`CREATE TEMP TABLE ds_slot AS
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::int[])
			WITH ORDINALITY AS t(zone, country, city, phone_prefix, phone_digits, phone_lo, locale, names, i)`,
			[]any{places.zone, places.country, places.city, places.phone, places.digits, places.lo, places.locale, places.names}},
		{`CREATE TEMP TABLE ds_name AS SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[])
			AS t(locale, i, first, last, first_latin, last_latin)`,
			[]any{names.locale, names.i, names.first, names.last, names.firstLatin, names.lastLatin}},
		{`CREATE TEMP TABLE ds_source AS SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS t(source, i)`,
			[]any{datasetSources}},
		{`CREATE TEMP TABLE ds_step AS SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::text[])
			AS t(journey, step, template, topic, channel, after_hours, share, outcome)`,
			[]any{steps.journey, steps.step, steps.template, steps.topic, steps.channel, steps.afterHours, steps.share, steps.outcome}},
		{`CREATE TEMP TABLE ds_comment AS SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
			AS t(locale, band, i, text)`,
			[]any{comments.locale, comments.band, comments.i, comments.text}},
	} {
		if _, err := g.exec(ctx, t.sql, t.args...); err != nil {
			return fmt.Errorf("lookup table: %w", err)
		}
	}
	return nil
}

// datasetPeople draws each customer's place, name, age and whether they
// buy; the company grows, so more customers joined recently.
const datasetPeople = `
	CREATE TEMP TABLE ds_people AS
	SELECT r.g, pg_temp.ds_id(r.g) AS id, s.zone, s.country, s.city, s.locale,
		s.phone_prefix || lpad((s.phone_lo + r.g % (10 ^ s.phone_digits - s.phone_lo)::bigint)::text, s.phone_digits, '0') AS phone,
		1 + floor(r.u_name * s.names)::int AS name_i, r.created_at, r.u_buyer < 0.62 AS buyer, r.u_phone < 0.6 AS has_phone
	FROM (
		SELECT g, 1 + floor(random() * pg_temp.ds_slots())::int AS slot, random() AS u_name, random() AS u_buyer,
			random() AS u_phone, pg_temp.ds_now() - (1 - sqrt(random())) * interval '730 days' - interval '1 hour' AS created_at
		FROM generate_series(1, pg_temp.ds_n()) g
	) r JOIN ds_slot s ON s.i = r.slot;
	ANALYZE ds_people;

	-- Buyers' orders: the first anywhere in the last 18 months after they
	-- joined, the next ones about every 55 days, so cohorts thin out month
	-- by month; baskets in the customer's currency.
	CREATE TEMP TABLE ds_orders AS
	SELECT row_number() OVER () AS o, g, id, locale, t, amount, currency, items FROM (
		SELECT b.g, b.id, b.locale,
			b.first_at + sum(CASE WHEN s.k = 1 THEN 0 ELSE -ln(1 - random()) * 55 END) OVER (PARTITION BY b.g ORDER BY s.k) * interval '1 day' AS t,
			CASE b.locale WHEN 'zh-CN' THEN round((260 * (0.4 + random() * 1.8))::numeric)
			              WHEN 'zh-TW' THEN round((1100 * (0.4 + random() * 1.8))::numeric)
			              ELSE round((45 * (0.4 + random() * 1.8))::numeric, 2) END AS amount,
			CASE b.locale WHEN 'zh-CN' THEN 'CNY' WHEN 'zh-TW' THEN 'TWD' ELSE 'USD' END AS currency,
			1 + floor(random() * 4)::int AS items
		FROM (
			SELECT g, id, locale, since + random() * (pg_temp.ds_now() - since) AS first_at,
				1 + floor(ln(1 - random()) / ln(1 - 1 / pg_temp.ds_mean_orders()))::int AS orders
			FROM (SELECT *, greatest(created_at, pg_temp.ds_now() - interval '18 months') AS since FROM ds_people WHERE buyer) p
		) b, generate_series(1, b.orders) s(k)
	) x WHERE t < pg_temp.ds_now();
	ANALYZE ds_orders;

	CREATE TEMP TABLE ds_delivered AS
	SELECT o, g, id, t + interval '3 days' AS t FROM ds_orders
	WHERE pg_temp.ds_u('delivered' || o) < 0.6 AND t + interval '3 days' < pg_temp.ds_now();
	ANALYZE ds_delivered`

// datasetCustomers writes the customers with their purchase totals.
const datasetCustomers = `
	INSERT INTO customers (id, external_id, email, phone, first_name, last_name, locale, time_zone, country, city,
		gender, birthday, tags, attributes, orders_count, total_spent, first_purchase_at, last_purchase_at,
		last_seen_at, created_at, updated_at)
	SELECT p.id, 'ds-' || p.g,
		lower(n.first_latin || '.' || n.last_latin || p.g || '@example.' || (ARRAY['com', 'net', 'org'])[1 + p.g % 3]),
		CASE WHEN p.has_phone THEN p.phone END,
		n.first, n.last, p.locale, p.zone, p.country, p.city,
		(ARRAY['female', 'male', ''])[1 + floor(random() * 3)::int],
		CASE WHEN random() < 0.7 THEN date '1955-01-01' + floor(random() * 18250)::int END,
		array_remove(ARRAY[
			CASE WHEN random() < 0.4 THEN 'newsletter' END,
			CASE WHEN a.orders >= 5 THEN 'vip' END,
			CASE WHEN random() < 0.03 THEN 'wholesale' END,
			CASE WHEN random() < 0.15 THEN 'app' END], NULL),
		jsonb_build_object('plan', (ARRAY['free', 'free', 'silver', 'gold'])[1 + floor(random() * 4)::int]),
		coalesce(a.orders, 0), coalesce(a.spent, 0), a.first_at, a.last_at,
		greatest(a.last_at, p.created_at), p.created_at, greatest(a.last_at, p.created_at)
	FROM ds_people p
	JOIN ds_name n ON n.locale = p.locale AND n.i = p.name_i
	LEFT JOIN (SELECT g, count(*) AS orders, sum(amount) AS spent, min(t) AS first_at, max(t) AS last_at
	           FROM ds_orders GROUP BY g) a ON a.g = p.g`

// datasetHistoryEvents are the signups (with where the customer came
// from) of the last 18 months, the purchases and the deliveries, all
// routed.
const datasetHistoryEvents = `
	INSERT INTO events (event_id, customer_id, type, properties, occurred_at, received_at, routed_at)
	SELECT 'ds-signup-' || p.g, p.id, 'signup', jsonb_build_object('source', s.source), p.created_at, p.created_at, p.created_at
	FROM (SELECT *, 1 + floor(random() * pg_temp.ds_sources())::int AS si FROM ds_people
	      WHERE created_at >= pg_temp.ds_now() - interval '18 months') p
	JOIN ds_source s ON s.i = p.si
	UNION ALL
	SELECT 'ds-order-' || o, id, 'purchase',
		jsonb_build_object('order_id', 'ds-o' || o, 'amount', amount, 'currency', currency, 'items', items), t, t, t
	FROM ds_orders
	UNION ALL
	SELECT 'ds-delivered-' || o, id, 'order_delivered', jsonb_build_object('order_id', 'ds-o' || o), t, t, t
	FROM ds_delivered`

// datasetPageViews makes up the requested number of events ($1) with page
// views, more of them recently.
const datasetPageViews = `
	INSERT INTO events (event_id, customer_id, type, properties, occurred_at, received_at, routed_at)
	SELECT 'ds-view-' || v, pg_temp.ds_id(1 + floor(random() * pg_temp.ds_n())::int), 'page_view',
		jsonb_build_object('path', (ARRAY['/', '/tea', '/teaware', '/gifts', '/tea/oolong', '/tea/green', '/cart', '/account'])[1 + floor(random() * 8)::int]),
		t, t, t
	FROM (SELECT v, pg_temp.ds_now() - (1 - sqrt(random())) * interval '18 months' AS t FROM generate_series(1, $1::bigint) v) x`

// datasetConsents: six in ten customers chose about marketing email (one
// in ten of them withdrew it by an unsubscribe link during the year), four
// in ten customers with a phone allowed marketing SMS; every consent has
// its history; a few addresses are suppressed.
const datasetConsents = `
	INSERT INTO consents (customer_id, channel, topic, status, source, changed_at)
	SELECT id, 'email', 'marketing',
		CASE WHEN u < 0.06 THEN 'denied' ELSE 'granted' END,
		CASE WHEN u < 0.06 THEN 'unsubscribe_link' WHEN u < 0.35 THEN 'checkout' ELSE 'newsletter_form' END,
		CASE WHEN u < 0.06 THEN greatest(created_at, pg_temp.ds_now() - random() * interval '365 days') ELSE created_at END
	FROM (SELECT id, created_at, random() AS u FROM ds_people) p WHERE u < 0.6
	UNION ALL
	SELECT id, 'sms', 'marketing', 'granted', 'checkout', created_at FROM ds_people
	WHERE has_phone AND pg_temp.ds_u('sms' || g) < 0.4;

	INSERT INTO consent_changes (customer_id, channel, topic, status, source, actor, changed_at)
	SELECT c.customer_id, c.channel, c.topic, 'granted', CASE WHEN c.status = 'denied' THEN 'checkout' ELSE c.source END,
		'customer', p.created_at
	FROM consents c JOIN ds_people p ON p.id = c.customer_id
	UNION ALL
	SELECT customer_id, channel, topic, status, source, 'customer', changed_at FROM consents WHERE status = 'denied';

	INSERT INTO suppressions (channel, address, reason, source, created_at)
	SELECT 'email', email, (ARRAY['hard_bounce', 'hard_bounce', 'complaint', 'unsubscribe'])[1 + floor(random() * 4)::int],
		'webhook', pg_temp.ds_now() - random() * interval '365 days'
	FROM customers WHERE pg_temp.ds_u('suppressed' || external_id) < 0.008`

// datasetJourneyRuns are the built-in journeys' runs of the last year:
// onboarding after each signup, a survey after each delivery (one in five
// a support ticket's CSAT), win-back 60 days after a buyer's last order,
// a cross-sell after one purchase in five. Runs younger than their
// journey's length are still in flight.
const datasetJourneyRuns = `
	INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at, ended_at, outcome)
	SELECT journey, run_id, customer_id, trigger, started_at,
		CASE WHEN started_at + days * interval '1 day' < pg_temp.ds_now() THEN started_at + days * interval '1 day' END,
		CASE WHEN started_at + days * interval '1 day' >= pg_temp.ds_now() THEN ''
		     WHEN pg_temp.ds_u('outcome' || run_id) < hit THEN CASE journey WHEN 'survey' THEN 'answered' ELSE 'converted' END
		     ELSE CASE journey WHEN 'survey' THEN 'no_response' ELSE 'completed' END END
	FROM (
		SELECT 'onboarding' AS journey, 'ds-onb-' || g AS run_id, id AS customer_id, 'signup' AS trigger,
			created_at AS started_at, 14 AS days, 0.12 AS hit
		FROM ds_people WHERE created_at >= pg_temp.ds_now() - interval '365 days'
		UNION ALL
		SELECT 'survey', 'ds-srv-' || o, id, CASE WHEN pg_temp.ds_u('csat' || o) < 0.2 THEN 'ticket_closed' ELSE 'order_delivered' END,
			t, 7, 0.3
		FROM ds_delivered WHERE t >= pg_temp.ds_now() - interval '365 days'
		UNION ALL
		SELECT 'winback', 'ds-wb-' || g, id, 'sweep', last_at + interval '60 days', 21, 0.08
		FROM (SELECT g, id, max(t) AS last_at FROM ds_orders GROUP BY g, id) a
		WHERE last_at + interval '60 days' BETWEEN pg_temp.ds_now() - interval '365 days' AND pg_temp.ds_now()
		UNION ALL
		SELECT 'cross_sell', 'ds-xs-' || o, id, 'purchase', t + interval '1 day', 30, 0.05
		FROM ds_orders
		WHERE t >= pg_temp.ds_now() - interval '365 days' AND t + interval '1 day' < pg_temp.ds_now()
		  AND pg_temp.ds_u('cross_sell' || o) < 0.2
	) r`

// datasetMessages writes the ledger rows of a source (journey, step,
// template, topic, channel, customer_id, key, at), at most $1 of them:
// mostly sent, some skipped (with the send path's reasons), failed or
// still deferred by quiet hours; what the recipient's side reported for
// the sent ones.
const datasetMessages = `
	INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, locale, recipient,
		status, reason, provider_message_id, segments, attempts, created_at, updated_at, sent_at, delivery, delivery_at)
	SELECT key, customer_id, journey, step, channel, template, topic, locale, recipient, status,
		CASE status
			WHEN 'skipped' THEN CASE WHEN recipient = '' THEN 'no_address' WHEN u < 0.035 THEN 'opted_out'
				WHEN u < 0.05 THEN 'no_opt_in' WHEN u < 0.065 THEN 'suppressed' ELSE 'frequency_cap' END
			WHEN 'failed' THEN (ARRAY['550 5.1.1 mailbox unavailable', '554 5.7.1 message refused as spam',
				'421 4.4.2 timed out after 5 attempts'])[1 + floor(e * 3)::int]
			WHEN 'queued' THEN 'quiet_hours'
			ELSE '' END,
		CASE WHEN status = 'sent' THEN '<' || md5(key) || '@ds.example>' ELSE '' END,
		CASE WHEN channel = 'sms' AND status = 'sent' THEN 1 + floor(e * 3)::int ELSE 0 END,
		CASE WHEN status IN ('skipped', 'queued') THEN 0 WHEN e < 0.03 THEN 2 ELSE 1 END,
		at, at + interval '2 seconds', CASE WHEN status = 'sent' THEN at + interval '1 second' END,
		CASE WHEN status <> 'sent' THEN ''
		     WHEN channel = 'sms' THEN CASE WHEN e < 0.95 THEN 'delivered' WHEN e < 0.98 THEN 'undelivered' ELSE '' END
		     WHEN e < 0.012 THEN 'bounced' WHEN e < 0.022 THEN 'soft_bounced' WHEN e < 0.024 THEN 'complained' ELSE '' END,
		CASE WHEN status = 'sent' AND (channel = 'sms' OR e < 0.024) THEN least(pg_temp.ds_now(), at + interval '10 minutes') END
	FROM (
		SELECT s.*, x.*,
			CASE WHEN x.recipient = '' THEN 'skipped'
			     WHEN x.u < 0.015 THEN 'failed'
			     WHEN x.u < 0.09 AND s.topic NOT IN ('transactional', 'care') THEN 'skipped'
			     WHEN x.u < 0.10 AND s.at > pg_temp.ds_now() - interval '10 hours' THEN 'queued'
			     ELSE 'sent' END AS status
		FROM (%s) s
		JOIN customers c ON c.id = s.customer_id
		CROSS JOIN LATERAL (SELECT
			CASE WHEN s.channel = 'sms' THEN coalesce(c.phone, '') ELSE coalesce(c.email, '') END AS recipient,
			c.locale, pg_temp.ds_u(s.key) AS u, pg_temp.ds_u('e' || s.key) AS e) x
		LIMIT $1
	) m`

// datasetJourneyMessages are the journeys' steps (each run sends a step
// with the step's share, once its time came), the birthday greetings of
// the last year and the shop's order confirmations through the API.
const datasetJourneyMessages = `
	SELECT r.journey, st.step, st.template, st.topic, st.channel, r.customer_id,
		r.journey || '/' || r.customer_id || '/' || r.run_id || '/' || st.step AS key,
		r.started_at + st.after_hours * interval '1 hour' AS at
	FROM journey_runs r JOIN ds_step st ON st.journey = r.journey
	WHERE r.started_at + st.after_hours * interval '1 hour' < pg_temp.ds_now()
	  AND (st.outcome = '' OR st.outcome = r.outcome) AND pg_temp.ds_u(r.run_id || st.step) < st.share
	UNION ALL
	SELECT 'birthday', 'greeting', 'birthday', 'marketing', 'email', id, 'birthday/' || id || '/' || extract(year FROM at), at
	FROM (
		SELECT id, CASE WHEN d > pg_temp.ds_now() THEN d - interval '1 year' ELSE d END AS at
		FROM (
			SELECT id, make_date(extract(year FROM pg_temp.ds_now())::int, birthday_md / 100,
				CASE WHEN birthday_md = 229 THEN 28 ELSE birthday_md % 100 END) + interval '9 hours' AS d
			FROM customers WHERE birthday IS NOT NULL
		) b
	) b
	UNION ALL
	SELECT 'api', 'care', 'care', 'transactional', 'email', id, 'ds-order-' || o, t + interval '1 minute'
	FROM ds_orders WHERE t >= pg_temp.ds_now() - interval '365 days' AND t + interval '1 minute' < pg_temp.ds_now()`

// datasetCampaignMessages are the campaigns' sends: one to each entry
// that is not held out.
const datasetCampaignMessages = `
	SELECT 'campaign/' || campaign AS journey, 'announce' AS step, 'spring_sale' AS template, 'marketing' AS topic,
		'email' AS channel, customer_id, 'campaign/' || campaign || '/1/' || customer_id || '/announce/' || occurrence AS key,
		entered_at AS at
	FROM campaign_entries WHERE NOT holdout`

// datasetEntries enters each campaign's audience ($1 names, $2 launches,
// $3 treated entries, $4 strides, $5 A/B tests, $6 occurrences; $7
// customers): entry j is customer (j+1)*stride mod n, every tenth held
// out; a purchase within 7 days converts 4.5% of the treated and 3.5% of
// the held out.
const datasetEntries = `
	INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, variant, entered_at,
		goal_event, goal_until, goal_at, finished_at, outcome)
	SELECT k.name, x.id, k.occurrence, 1, 'campaign/' || k.name || '/1/' || x.id || '/' || k.occurrence, x.holdout,
		CASE WHEN NOT k.ab THEN '' WHEN pg_temp.ds_u(k.name || x.id) < 0.5 THEN 'calm' ELSE 'urgent' END,
		x.at, 'purchase', x.at + interval '7 days',
		CASE WHEN x.done AND x.conv THEN x.at + x.u * interval '7 days' END,
		CASE WHEN x.done THEN x.at + interval '7 days' END,
		CASE WHEN NOT x.done THEN '' WHEN x.conv THEN 'converted' ELSE 'completed' END
	FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::bigint[], $5::bool[], $6::int[])
		AS k(name, launch, treated, stride, ab, occurrence)
	CROSS JOIN LATERAL (
		SELECT pg_temp.ds_id(1 + ((j + 1) * k.stride) % $7::bigint) AS id, j % 10 = 9 AS holdout, at,
			at + interval '7 days' < pg_temp.ds_now() AS done, u,
			u < CASE WHEN j % 10 = 9 THEN 0.035 ELSE 0.045 END AS conv
		FROM (SELECT j, k.launch + random() * interval '8 hours' AS at, random() AS u
		      FROM generate_series(0, k.treated + k.treated / 9 - 1) j) e
	) x`

// datasetOpensClicks are the opens (a few by privacy proxies) and clicks
// (a few by link scanners) of the delivered email, in one pass over the
// ledger: a clicked message is one of the opened.
const datasetOpensClicks = `
	WITH m AS MATERIALIZED (
		SELECT id, template, u, f FROM (
			SELECT id, template, pg_temp.ds_u('open' || idempotency_key) AS u,
				least(pg_temp.ds_now(), sent_at + interval '1 hour' * (1 + 20 * pg_temp.ds_u('at' || idempotency_key))) AS f
			FROM messages WHERE status = 'sent' AND channel = 'email' AND delivery NOT IN ('bounced', 'soft_bounced')
		) x WHERE u < 0.32
	), opens AS (
		INSERT INTO message_opens (message_id, machine, machine_reason, user_agent, opens, first_at, last_at)
		SELECT id, u < 0.03, CASE WHEN u < 0.03 THEN 'privacy_proxy' ELSE '' END,
			CASE WHEN u < 0.03 THEN 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' ELSE 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)' END,
			1 + floor(u * 10)::int, f, least(pg_temp.ds_now(), f + u * interval '3 days')
		FROM m
	)
	INSERT INTO message_clicks (message_id, link, url, machine, machine_reason, user_agent, clicks, first_at, last_at)
	SELECT id, 0, 'https://shop.example.com/' || template, u < 0.004, CASE WHEN u < 0.004 THEN 'scanner' ELSE '' END,
		CASE WHEN u < 0.004 THEN 'Mozilla/5.0 (compatible; SafeLinks)' ELSE 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)' END,
		1 + floor(u * 30)::int, f, f
	FROM m WHERE u < 0.06`

// datasetBounces are the bounces and complaints the ledger records.
const datasetBounces = `
	INSERT INTO message_bounces (message_id, channel, address, kind, provider, detail, occurred_at, received_at)
	SELECT id, channel, recipient,
		CASE delivery WHEN 'bounced' THEN 'hard' WHEN 'soft_bounced' THEN 'soft' WHEN 'complained' THEN 'complaint'
		              WHEN 'delivered' THEN 'delivered' ELSE 'undelivered' END,
		CASE channel WHEN 'sms' THEN 'twilio' ELSE 'dsn' END,
		CASE delivery WHEN 'bounced' THEN '550 5.1.1 user unknown' WHEN 'soft_bounced' THEN '452 4.2.2 mailbox full' ELSE '' END,
		delivery_at, delivery_at
	FROM messages WHERE delivery IN ('bounced', 'soft_bounced', 'complained')`

// datasetAnswers are the survey answers, with comments in the customer's
// language.
const datasetAnswers = `
	INSERT INTO survey_responses (customer_id, survey, score, comment, message_id, answered_at)
	SELECT a.customer_id, a.survey, a.score,
		CASE WHEN pg_temp.ds_u('commented' || a.id) < 0.35 THEN coalesce(c.text, '') ELSE '' END,
		a.id, a.at
	FROM (
		SELECT m.id, m.customer_id, m.locale, s.survey, s.score,
			CASE WHEN s.survey = 'nps' THEN CASE WHEN s.score <= 6 THEN 'low' WHEN s.score <= 8 THEN 'mid' ELSE 'high' END
			     ELSE CASE WHEN s.score <= 2 THEN 'low' WHEN s.score = 3 THEN 'mid' ELSE 'high' END END AS band,
			least(pg_temp.ds_now(), m.created_at + pg_temp.ds_u('answered' || m.id) * interval '2 days') AS at
		FROM messages m
		JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
		CROSS JOIN LATERAL (SELECT CASE WHEN r.trigger = 'ticket_closed' THEN 'csat' ELSE 'nps' END AS survey,
			pg_temp.ds_u('score' || m.id) AS u) k
		CROSS JOIN LATERAL (SELECT k.survey, CASE WHEN k.survey = 'nps' THEN
				CASE WHEN k.u < 0.22 THEN floor(k.u / 0.22 * 7)::int WHEN k.u < 0.52 THEN 7 + floor((k.u - 0.22) / 0.15)::int
				     ELSE 9 + floor((k.u - 0.52) / 0.24)::int END
			ELSE CASE WHEN k.u < 0.12 THEN 1 + floor(k.u / 0.06)::int WHEN k.u < 0.3 THEN 3 ELSE 4 + floor((k.u - 0.3) / 0.35)::int END
			END AS score) s
		WHERE m.journey = 'survey' AND m.step = 'survey' AND m.status = 'sent' AND r.outcome = 'answered'
	) a
	LEFT JOIN ds_comment c ON c.locale = a.locale AND c.band = a.band
		AND c.i = 1 + floor(pg_temp.ds_u('comment' || a.id) * 3)::int`

// datasetConversions are the journeys' conversions.
const datasetConversions = `
	INSERT INTO conversions (journey, run_id, customer_id, step, event_id, revenue, currency, converted_at, recorded_at)
	SELECT r.journey, r.run_id, r.customer_id,
		CASE r.journey WHEN 'onboarding' THEN 'tips' WHEN 'winback' THEN 'offer' ELSE 'offer' END,
		'ds-conversion-' || r.run_id,
		CASE c.locale WHEN 'zh-CN' THEN round((260 * (0.5 + u))::numeric) WHEN 'zh-TW' THEN round((1100 * (0.5 + u))::numeric)
		              ELSE round((45 * (0.5 + u))::numeric, 2) END,
		CASE c.locale WHEN 'zh-CN' THEN 'CNY' WHEN 'zh-TW' THEN 'TWD' ELSE 'USD' END,
		r.started_at + u * (r.ended_at - r.started_at), r.ended_at
	FROM (SELECT *, pg_temp.ds_u('revenue' || run_id) AS u FROM journey_runs WHERE outcome = 'converted') r
	JOIN customers c ON c.id = r.customer_id`

// datasetContents are the newest messages' contents and attempts, for the
// message pages.
const datasetContents = `
	CREATE TEMP TABLE ds_newest AS
	SELECT id, subject, recipient, template, locale, sent_at, provider_message_id FROM (
		SELECT id, recipient, template, locale, sent_at, provider_message_id,
			CASE locale WHEN 'zh-CN' THEN '来自茶舍的消息' WHEN 'zh-TW' THEN '來自茶舍的訊息' ELSE 'News from the tea house' END AS subject
		FROM messages WHERE status = 'sent' AND channel = 'email'
		ORDER BY created_at DESC LIMIT 5000
	) n;

	INSERT INTO message_contents (message_id, headers, subject, html, text, links, tracked, stored_at)
	SELECT id, jsonb_build_object('To', recipient, 'Subject', subject, 'Message-ID', provider_message_id),
		subject, '<p>' || subject || '</p><p><a href="https://shop.example.com/' || template || '">shop.example.com</a></p>',
		subject || E'\n\nhttps://shop.example.com/' || template, ARRAY['https://shop.example.com/' || template], true, sent_at
	FROM ds_newest;

	INSERT INTO message_attempts (message_id, attempt, outcome, reply, provider_message_id, at)
	SELECT id, 1, 'sent', '250 2.0.0 OK queued', provider_message_id, sent_at FROM ds_newest`

// datasetPlaces are where customers live, with the locale they read and
// how many in 112 live there: 15 time zones; half read English, a third
// Simplified and a sixth Traditional Chinese.
var datasetPlaces = []struct {
	zone, country, city, locale string
	weight                      int
}{
	{"America/New_York", "US", "New York", "en", 12},
	{"America/New_York", "US", "New York", "zh-CN", 2},
	{"America/Chicago", "US", "Chicago", "en", 6},
	{"America/Denver", "US", "Denver", "en", 3},
	{"America/Los_Angeles", "US", "Los Angeles", "en", 8},
	{"America/Los_Angeles", "US", "San Francisco", "zh-CN", 3},
	{"America/Los_Angeles", "US", "San Francisco", "zh-TW", 2},
	{"America/Toronto", "CA", "Toronto", "en", 4},
	{"America/Vancouver", "CA", "Vancouver", "en", 2},
	{"America/Vancouver", "CA", "Vancouver", "zh-CN", 2},
	{"Europe/London", "GB", "London", "en", 7},
	{"Europe/Dublin", "IE", "Dublin", "en", 2},
	{"Europe/Berlin", "DE", "Berlin", "en", 3},
	{"Australia/Sydney", "AU", "Sydney", "en", 4},
	{"Australia/Sydney", "AU", "Sydney", "zh-CN", 1},
	{"Pacific/Auckland", "NZ", "Auckland", "en", 2},
	{"Asia/Singapore", "SG", "Singapore", "en", 2},
	{"Asia/Singapore", "SG", "Singapore", "zh-CN", 2},
	{"Asia/Shanghai", "CN", "Shanghai", "zh-CN", 12},
	{"Asia/Shanghai", "CN", "Beijing", "zh-CN", 9},
	{"Asia/Shanghai", "CN", "Shenzhen", "zh-CN", 6},
	{"Asia/Hong_Kong", "HK", "Hong Kong", "zh-TW", 4},
	{"Asia/Taipei", "TW", "Taipei", "zh-TW", 10},
	{"Asia/Taipei", "TW", "Kaohsiung", "zh-TW", 4},
}

// datasetPhones are the mobile numbers of each country, as libphonenumber
// validates them: a prefix and so many digits, the first of them at least
// lo (a North American exchange starts with 2 to 9).
var datasetPhones = map[string]struct {
	prefix string
	digits int
	lo     int64
}{
	"US": {"+1212", 7, 2_000_000}, "CA": {"+1416", 7, 2_000_000}, "GB": {"+4477", 8, 0}, "IE": {"+35387", 7, 0},
	"DE": {"+49151", 8, 0}, "AU": {"+614", 8, 0}, "NZ": {"+6421", 7, 0}, "SG": {"+659", 7, 0}, "CN": {"+8613", 9, 0},
	"HK": {"+85261", 6, 0}, "TW": {"+8869", 8, 0},
}

// placeSlots are the places repeated by weight, as parallel arrays, so a
// customer's place is one array index.
type placeSlots struct {
	zone, country, city, phone, locale []string
	names, digits                      []int
	lo                                 []int64
}

func datasetPlaceSlots() placeSlots {
	var s placeSlots
	count := map[string]int{}
	names := datasetNames()
	for _, l := range names.locale {
		count[l]++
	}
	for _, p := range datasetPlaces {
		for range p.weight {
			s.zone, s.country, s.city = append(s.zone, p.zone), append(s.country, p.country), append(s.city, p.city)
			ph := datasetPhones[p.country]
			s.phone, s.digits, s.lo = append(s.phone, ph.prefix), append(s.digits, ph.digits), append(s.lo, ph.lo)
			s.locale, s.names = append(s.locale, p.locale), append(s.names, count[p.locale])
		}
	}
	return s
}

// Given and family names per locale, each with its romanisation (pinyin
// for the mainland, Wade-Giles as Taiwan's passports write it) for the
// email address: "native:latin" pairs.
var datasetNameLists = map[string][2]string{
	"en": {
		"Alice:alice Benjamin:benjamin Charlotte:charlotte David:david Eleanor:eleanor Felix:felix Georgia:georgia " +
			"Harry:harry Ivy:ivy Jacob:jacob Lily:lily Matthew:matthew Natalie:natalie Peter:peter Rose:rose Thomas:thomas",
		"Anderson:anderson Brooks:brooks Campbell:campbell Edwards:edwards Fisher:fisher Gray:gray Harris:harris " +
			"Jenkins:jenkins Lewis:lewis Morgan:morgan Patel:patel Reed:reed Stewart:stewart Thompson:thompson",
	},
	"zh-CN": {
		"晓明:xiaoming 婷婷:tingting 建国:jianguo 丽娟:lijuan 志强:zhiqiang 雪梅:xuemei 海涛:haitao 欣怡:xinyi " +
			"宇航:yuhang 梓萱:zixuan 俊杰:junjie 佳琪:jiaqi 文博:wenbo 诗琪:shiqi",
		"王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 赵:zhao 黄:huang 周:zhou 吴:wu 高:gao 罗:luo",
	},
	"zh-TW": {
		"冠廷:kuanting 雅雯:yawen 承翰:chenghan 郁婷:yuting 彥廷:yenting 思妤:ssuyu 柏宇:poyu 佩珊:peishan " +
			"家瑋:chiawei 宜蓁:yichen 志豪:chihhao 筱涵:hsiaohan",
		"陳:chen 林:lin 黃:huang 張:chang 李:li 王:wang 吳:wu 劉:liu 蔡:tsai 楊:yang 許:hsu 鄭:cheng",
	},
}

// nameTable is every given × family name of each locale, numbered from 1
// per locale.
type nameTable struct {
	locale, first, last, firstLatin, lastLatin []string
	i                                          []int
}

func datasetNames() nameTable {
	var t nameTable
	for _, l := range []string{"en", "zh-CN", "zh-TW"} {
		lists, i := datasetNameLists[l], 0
		for _, f := range strings.Fields(lists[0]) {
			fn, fl, _ := strings.Cut(f, ":")
			for _, g := range strings.Fields(lists[1]) {
				gn, gl, _ := strings.Cut(g, ":")
				i++
				t.locale, t.i = append(t.locale, l), append(t.i, i)
				t.first, t.firstLatin = append(t.first, fn), append(t.firstLatin, fl)
				t.last, t.lastLatin = append(t.last, gn), append(t.lastLatin, gl)
			}
		}
	}
	return t
}

// datasetSources are where signups came from, repeated by weight.
var datasetSources = []string{
	"organic", "organic", "organic", "google_ads", "google_ads", "facebook", "instagram", "referral", "referral",
	"newsletter", "wechat", "wechat", "line", "xiaohongshu",
}

// stepTable lists the journeys' steps: the share of runs that reach each
// (and, when outcome is set, only runs that ended so), hours after the
// run started.
type stepTable struct {
	journey, step, template, topic, channel, outcome []string
	afterHours                                       []int
	share                                            []float64
}

func datasetStepTable() stepTable {
	var t stepTable
	for _, s := range []struct {
		journey, step, template, topic, channel string
		after                                   int
		share                                   float64
		outcome                                 string
	}{
		{"onboarding", "welcome", "welcome", "care", "email", 0, 1, ""},
		{"onboarding", "tips", "tips", "marketing", "email", 72, 0.85, ""},
		{"onboarding", "nudge", "nudge", "marketing", "sms", 168, 0.45, ""},
		{"survey", "survey", "survey_request", "surveys", "email", 0, 1, ""},
		{"survey", "reminder", "survey_reminder", "surveys", "email", 72, 0.7, "no_response"},
		{"survey", "thanks", "survey_thanks", "surveys", "email", 30, 1, "answered"},
		{"winback", "miss_you", "winback_miss_you", "marketing", "email", 0, 1, ""},
		{"winback", "offer", "winback_offer", "marketing", "email", 168, 0.8, ""},
		{"winback", "last_chance", "winback_last_chance", "marketing", "email", 336, 0.5, ""},
		{"cross_sell", "offer", "cross_sell", "marketing", "email", 0, 1, ""},
	} {
		t.journey, t.step, t.template = append(t.journey, s.journey), append(t.step, s.step), append(t.template, s.template)
		t.topic, t.channel, t.outcome = append(t.topic, s.topic), append(t.channel, s.channel), append(t.outcome, s.outcome)
		t.afterHours, t.share = append(t.afterHours, s.after), append(t.share, s.share)
	}
	return t
}

// commentTable holds survey comments per locale and band (low: a
// detractor or an unhappy CSAT answer; mid; high), three of each.
type commentTable struct {
	locale, band, text []string
	i                  []int
}

var datasetCommentLists = map[string]map[string][3]string{
	"en": {
		"low":  {"The parcel arrived two weeks late and nobody answered my emails.", "The tea was stale and the tin was dented.", "Too expensive for what came in the box."},
		"mid":  {"Good tea, but shipping took a while.", "Fine overall; the website is a bit slow.", "Nice selection, though I miss the old packaging."},
		"high": {"Lovely oolong, I have already ordered again!", "Fast delivery and beautifully packed.", "The tasting set was a perfect gift."},
	},
	"zh-CN": {
		"low":  {"快递晚了两个星期，客服也一直没有回复。", "茶叶受潮了，罐子也压坏了。", "价格太贵，不值这个钱。"},
		"mid":  {"茶不错，就是发货有点慢。", "整体还行，网站打开有点慢。", "选择挺多的，不过更喜欢以前的包装。"},
		"high": {"乌龙茶很好喝，已经回购了！", "发货快，包装也很精美。", "品鉴套装送人特别合适。"},
	},
	"zh-TW": {
		"low":  {"包裹晚了兩個禮拜才到，寄信問客服也沒人回。", "茶葉受潮了，罐子也凹了。", "價格太高，實在不划算。"},
		"mid":  {"茶不錯，只是出貨有點慢。", "整體還可以，網站有點慢。", "選擇很多，不過比較喜歡以前的包裝。"},
		"high": {"烏龍茶很好喝，已經回購了！", "出貨很快，包裝也很用心。", "品茗組合拿來送禮剛剛好。"},
	},
}

func datasetComments() commentTable {
	var t commentTable
	for _, l := range []string{"en", "zh-CN", "zh-TW"} {
		for _, b := range []string{"low", "mid", "high"} {
			for i, text := range datasetCommentLists[l][b] {
				t.locale, t.band, t.i, t.text = append(t.locale, l), append(t.band, b), append(t.i, i+1), append(t.text, text)
			}
		}
	}
	return t
}
