package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/validate"
)

// TestGenerateDataset builds a small dataset and checks what the scenarios
// and reports rely on: exact sizes, the languages, zones and histories
// asked for, campaign holdouts that got no message, and the schema left as
// the migrations made it.
func TestGenerateDataset(t *testing.T) {
	st, _ := testdb.New(t)
	ctx := t.Context()
	schemaBefore := schema(t, st)
	// Early in a month, before its campaign went out.
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sz := DatasetSizesFor(2_000)
	d, err := GenerateDataset(ctx, st, DatasetOptions{Sizes: sz, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got := schema(t, st); got != schemaBefore {
		t.Errorf("indexes and keys after the load differ from the migrations'\nbefore:\n%s\nafter:\n%s", schemaBefore, got)
	}
	for table, want := range map[string]int64{"customers": 2_000, "messages": 20_000, "events": 10_000, "customer_scores": 2_000} {
		if d.Rows[table] != want {
			t.Errorf("%s: %d rows, want %d", table, d.Rows[table], want)
		}
	}
	one := func(sql string, args ...any) float64 {
		t.Helper()
		var v float64
		if err := st.Pool().QueryRow(ctx, sql, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return v
	}
	between := func(what string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.3f, want between %.3f and %.3f", what, got, lo, hi)
		}
	}
	between("time zones", one(`SELECT count(DISTINCT time_zone) FROM customers`), 15, 15)
	between("share reading English", one(`SELECT avg((locale = 'en')::int) FROM customers`), 0.42, 0.56)
	between("share reading zh-CN", one(`SELECT avg((locale = 'zh-CN')::int) FROM customers`), 0.27, 0.39)
	between("share reading zh-TW", one(`SELECT avg((locale = 'zh-TW')::int) FROM customers`), 0.13, 0.23)
	between("Chinese names written in Han", one(`SELECT avg((first_name ~ '^[一-鿿]+$')::int) FROM customers WHERE locale <> 'en'`), 1, 1)
	between("customers with a phone", one(`SELECT avg((phone IS NOT NULL)::int) FROM customers`), 0.5, 0.7)
	between("customers sharing a phone or an email", one(`
		SELECT (count(phone) - count(DISTINCT phone)) + (count(email) - count(DISTINCT email)) FROM customers`), 0, 0)
	rows, err := st.Pool().Query(ctx, `SELECT phone FROM customers WHERE phone IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	phones, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, p := range phones {
		if got, err := validate.Phone(p, ""); err != nil || got != p {
			if bad++; bad <= 5 {
				t.Errorf("phone %s is not a valid E.164 number a search would find: %v", p, err)
			}
		}
	}
	between("newsletter readers", one(`SELECT avg(('newsletter' = ANY (tags))::int) FROM customers`), 0.33, 0.47)
	between("customers with email marketing consent", one(`SELECT count(*) / 2000.0 FROM consents WHERE channel = 'email' AND status = 'granted'`), 0.48, 0.6)
	between("value tiers", one(`SELECT count(DISTINCT value_tier) FROM customer_scores`), 3, 3)

	// Purchases: amounts over 18 months, matching the customers' totals.
	between("months of purchases", one(`SELECT count(DISTINCT date_trunc('month', occurred_at)) FROM events WHERE type = 'purchase'`), 18, 19)
	between("purchases before the history", one(`SELECT count(*) FROM events WHERE occurred_at < $1::timestamptz - interval '18 months' OR occurred_at >= $1`, now), 0, 0)
	between("orders counted on customers minus purchase events",
		one(`SELECT (SELECT sum(orders_count) FROM customers) - (SELECT count(*) FROM events WHERE type = 'purchase')`), 0, 0)
	between("purchases without an amount", one(`SELECT count(*) FROM events WHERE type = 'purchase' AND NOT (properties ? 'amount')`), 0, 0)
	between("signups without a source", one(`SELECT count(*) FROM events WHERE type = 'signup' AND properties->>'source' IS NULL`), 0, 0)
	between("share of page views", one(`SELECT avg((type = 'page_view')::int) FROM events`), 0.2, 0.6)

	// The ledger: 12 months of sends with realistic outcomes.
	between("months of messages", one(`SELECT count(DISTINCT date_trunc('month', created_at)) FROM messages`), 12, 13)
	between("messages older than a year", one(`SELECT count(*) FROM messages WHERE created_at < $1::timestamptz - interval '366 days'`, now), 0, 0)
	between("share sent", one(`SELECT avg((status = 'sent')::int) FROM messages`), 0.8, 0.95)
	between("skip reasons", one(`SELECT count(DISTINCT reason) FROM messages WHERE status = 'skipped'`), 5, 5)
	between("topics", one(`SELECT count(DISTINCT topic) FROM messages`), 4, 4)
	between("share by SMS", one(`SELECT avg((channel = 'sms')::int) FROM messages`), 0.005, 0.1)
	between("bounced", one(`SELECT count(*) FROM messages WHERE delivery = 'bounced'`), 50, 1000)
	between("share of sent email opened", one(`SELECT count(*)::float8 / (SELECT count(*) FROM messages WHERE status = 'sent' AND channel = 'email') FROM message_opens`), 0.25, 0.35)
	between("clicks", one(`SELECT count(*) FROM message_clicks`), 300, 2000)
	between("share of messages from campaigns", one(`SELECT avg((journey LIKE 'campaign/%')::int) FROM messages`), 0.3, 0.8)
	between("journeys", one(`SELECT count(DISTINCT journey) FROM messages WHERE journey NOT LIKE 'campaign/%'`), 6, 6)

	// Campaigns: a tenth held out and never sent to, variants split.
	between("campaigns", one(`SELECT count(*) FROM campaigns`), 12, 12)
	between("held-out share", one(`SELECT avg(holdout::int) FROM campaign_entries`), 0.095, 0.105)
	between("held-out entries that got a message", one(`
		SELECT count(*) FROM campaign_entries e JOIN messages m
		  ON m.journey = 'campaign/' || e.campaign AND m.customer_id = e.customer_id WHERE e.holdout`), 0, 0)
	between("treated entries without their message", one(`
		SELECT count(*) FROM campaign_entries e WHERE NOT holdout AND NOT EXISTS (
		  SELECT 1 FROM messages m WHERE m.journey = 'campaign/' || e.campaign AND m.customer_id = e.customer_id)`), 0, 0)
	between("variants", one(`SELECT count(DISTINCT variant) FROM campaign_entries WHERE variant <> ''`), 2, 2)
	between("converted entries", one(`SELECT avg((goal_at IS NOT NULL)::int) FROM campaign_entries`), 0.02, 0.07)

	// Journeys, conversions and survey answers.
	between("runs in flight", one(`SELECT count(*) FROM journey_runs WHERE ended_at IS NULL`), 1, 2000)
	between("conversions", one(`SELECT count(*) FROM conversions`), 1, 2000)
	between("surveys answered", one(`SELECT count(DISTINCT survey) FROM survey_responses`), 2, 2)
	between("NPS scores out of range", one(`SELECT count(*) FROM survey_responses WHERE survey = 'nps' AND score NOT BETWEEN 0 AND 10`), 0, 0)
	between("CSAT scores out of range", one(`SELECT count(*) FROM survey_responses WHERE survey = 'csat' AND score NOT BETWEEN 1 AND 5`), 0, 0)
	between("NPS detractors", one(`SELECT avg((score <= 6)::int) FROM survey_responses WHERE survey = 'nps'`), 0.1, 0.35)
	between("zh-TW comments written in zh-TW", one(`
		SELECT avg((sr.comment ~ '[一-鿿]')::int) FROM survey_responses sr JOIN customers c ON c.id = sr.customer_id
		WHERE c.locale = 'zh-TW' AND sr.comment <> ''`), 1, 1)
	between("messages with contents", one(`SELECT count(*) FROM message_contents`), 1, 5000)

	if len(d.Campaigns) != 12 || !strings.HasPrefix(d.Campaigns[0], "ds-newsletter-") {
		t.Errorf("campaigns %v", d.Campaigns)
	}
}

func TestDatasetSizesAreChecked(t *testing.T) {
	st, _ := testdb.New(t)
	before := schema(t, st)
	_, err := GenerateDataset(t.Context(), st, DatasetOptions{Sizes: DatasetSizes{Customers: 10, Messages: 0, Events: -1}})
	if err == nil || !strings.Contains(err.Error(), "messages: 0 is not a positive size") || !strings.Contains(err.Error(), "events: -1") {
		t.Errorf("GenerateDataset with bad sizes = %v, want an error naming messages and events", err)
	}
	_, err = GenerateDataset(t.Context(), st, DatasetOptions{Sizes: DatasetSizes{Customers: 100, Messages: 1000, Events: 10}})
	if err == nil || !strings.Contains(err.Error(), "events: 10 are fewer than") {
		t.Errorf("GenerateDataset with too few events = %v, want an error naming events", err)
	}
	var rows int
	if err := st.Pool().QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM events) + (SELECT count(*) FROM campaigns)`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("a failed generation left %d rows behind", rows)
	}
	if schema(t, st) != before {
		t.Error("a failed generation left the indexes and keys changed")
	}
}

// schema lists the indexes and constraints of the public schema.
func schema(t *testing.T, st *store.Store) string {
	t.Helper()
	rows, err := st.Pool().Query(t.Context(), `
		SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
		UNION ALL
		SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE connamespace = 'public'::regnamespace
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
