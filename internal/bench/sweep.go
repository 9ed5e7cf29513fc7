package bench

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

// Sweep goals.
const (
	birthdayGoal = 200 * time.Millisecond
	segmentGoal  = time.Second
)

// typicalSegment is the audience marketers build most: top value tier,
// bought recently, speaks English.
const typicalSegment = "match: {value_tier: high, last_purchase_at: {within: 90d}, locale: en}"

// sweepBatch is the birthday sweep's page size (workflows.DefaultSweepBatchSize).
const sweepBatch = 500

// sweep generates n customers and times the two queries that must stay fast
// at a million: the birthday sweep's selection (every page of the day's
// birthdays) and a typical segment count. The baseline of each is the same
// statement without the indexes its plan uses; the plans show which.
func sweep(ctx context.Context, r *run, n int) error {
	_, st, dsn, err := r.scratchDB(ctx, "", "")
	if err != nil {
		return err
	}
	r.step("generating customers", "customers", n)
	gen := time.Now()
	if err := generateCustomers(ctx, st, n); err != nil {
		return err
	}
	generated := time.Since(gen)
	now := time.Now()
	// Last year's greetings in the ledger, one per customer with a
	// birthday, so the sweep's "not greeted yet" check probes a ledger of
	// realistic size through its index, as in production.
	if _, err := st.Pool().Exec(ctx, `
		INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, locale,
			recipient, status, attempts, created_at, updated_at, sent_at)
		SELECT 'birthday/' || id || '/' || ($1::int - 1), id, 'birthday', 'greeting', 'email', 'birthday', 'marketing',
			locale, email, 'sent', 1, t, t, t
		FROM customers, LATERAL (SELECT now() - interval '1 year' AS t) l
		WHERE birthday IS NOT NULL`, now.Year()); err != nil {
		return fmt.Errorf("generate last year's greetings: %w", err)
	}
	scoring := time.Now()
	if _, err := st.RefreshScores(ctx, now); err != nil {
		return err
	}
	scored := time.Since(scoring)
	for _, table := range []string{"customers", "customer_scores", "messages"} {
		if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			return fmt.Errorf("vacuum analyze %s: %w", table, err)
		}
	}
	res := r.res
	res.row("customers generated", "", float64(n))
	res.row("time to generate them (INSERT ... SELECT, indexes rebuilt after)", "s", generated.Seconds())
	res.row("time to refresh RFM scores", "s", scored.Seconds())

	// The day's birthdays, page by page, as the hourly sweep selects them.
	at := time.Date(now.Year(), now.Month(), now.Day(), 10, 0, 0, 0, time.UTC)
	r.step("timing the birthday selection", "at", at)
	birthdayArgs := func(after store.BirthdayCursor) []any {
		return []any{at, store.BirthdayMonthDays(at), after.MonthDay, orFirst(after.ID), 9 * 60, "birthday/", sweepBatch}
	}
	selectAll := func(db querier) (int, int, error) {
		return birthdays(func(after store.BirthdayCursor) ([]store.BirthdayCandidate, error) {
			rows, err := db.Query(ctx, store.BirthdayPageSQL, birthdayArgs(after)...)
			if err != nil {
				return nil, err
			}
			return pgx.CollectRows(rows, pgx.RowToStructByName[store.BirthdayCandidate])
		})
	}
	var found, pages int
	selection, err := timeIt(ctx, 5, func() error {
		var err error
		found, pages, err = birthdays(func(after store.BirthdayCursor) ([]store.BirthdayCandidate, error) {
			return st.BirthdayPage(ctx, store.BirthdayQuery{At: at, SendMinute: 9 * 60, KeyPrefix: "birthday/", After: after, Limit: sweepBatch})
		})
		return err
	})
	if err != nil {
		return err
	}
	bplan, err := explain(ctx, st.Pool(), store.BirthdayPageSQL, birthdayArgs(store.BirthdayCursor{})...)
	if err != nil {
		return err
	}
	var scanFound int
	scan, bscan, err := withoutIndexes(ctx, dsn, indexesIn(bplan), func(tx pgx.Tx) (string, error) {
		return explain(ctx, tx, store.BirthdayPageSQL, birthdayArgs(store.BirthdayCursor{})...)
	}, func(tx pgx.Tx) error {
		var err error
		scanFound, _, err = selectAll(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("birthday baseline: %w", err)
	}
	if scanFound != found {
		return invariant("the birthday selection found %d customers with its index and %d without", found, scanFound)
	}

	// The typical segment.
	def, err := segment.Parse([]byte(typicalSegment), "typical.yaml")
	if err != nil {
		return err
	}
	r.step("timing the segment count", "segment", typicalSegment)
	var members int64
	count, err := timeIt(ctx, 5, func() error {
		var err error
		members, err = segment.Count(ctx, st.Pool(), def, segment.At(now))
		return err
	})
	if err != nil {
		return err
	}
	where, args, err := def.Compile(now)
	if err != nil {
		return err
	}
	countSQL := "SELECT count(*) FROM " + segment.From + " WHERE " + where
	splan, err := explain(ctx, st.Pool(), countSQL, args...)
	if err != nil {
		return err
	}
	var scanMembers int64
	scanCount, sscan, err := withoutIndexes(ctx, dsn, indexesIn(splan), func(tx pgx.Tx) (string, error) {
		return explain(ctx, tx, countSQL, args...)
	}, func(tx pgx.Tx) error {
		var err error
		scanMembers, err = segment.Count(ctx, tx, def, segment.At(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("segment baseline: %w", err)
	}
	if scanMembers != members {
		return invariant("the segment counted %d members with indexes and %d without", members, scanMembers)
	}
	var total int64
	full, err := timeIt(ctx, 3, func() error { return st.Pool().QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&total) })
	if err != nil {
		return err
	}

	res.Baseline = "the same statement without the indexes its plan uses (dropped in a transaction that is rolled back), in the same run"
	res.compare("birthday selection, every page of the day", "ms", ms(selection), ms(scan))
	res.row("birthdays selected", "", float64(found))
	res.row("pages of 500", "", float64(pages))
	res.compare("typical segment count", "ms", ms(count), ms(scanCount))
	res.row("segment members", "", float64(members))
	res.row("SELECT count(*) FROM customers, for scale", "ms", ms(full))
	res.Plans = map[string]string{
		"birthday page": bplan, "birthday page, baseline": bscan,
		"segment count: " + typicalSegment: splan, "segment count, baseline": sscan,
	}
	bIdx, sIdx := indexesIn(bplan), indexesIn(splan)
	res.goal("birthday selection", fmt.Sprintf("< %d ms", birthdayGoal.Milliseconds()), fmt.Sprintf("%.1f ms", ms(selection)), selection < birthdayGoal)
	res.goal("birthday selection uses an index", "an index scan", orNone(bIdx), slices.Contains(bIdx, "customers_birthday_md"))
	res.goal("segment count", fmt.Sprintf("< %d ms", segmentGoal.Milliseconds()), fmt.Sprintf("%.1f ms", ms(count)), count < segmentGoal)
	res.goal("segment count uses an index", "an index scan", orNone(sIdx), len(sIdx) > 0)
	var ledger int64
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&ledger); err != nil {
		return err
	}
	res.row("ledger rows (last year's greetings)", "", float64(ledger))
	res.check("%d customers in the table, %d scored", total, n)
	res.check("the same %d birthdays and %d segment members with and without indexes", found, members)
	res.note("times are the median of 5 runs (3 for baselines) after one warm-up, on freshly vacuumed and analysed tables held in PostgreSQL's cache; a unique constraint's index is never dropped for a baseline")
	return nil
}

// birthdays pages through a birthday selection and returns how many
// customers and pages it took.
func birthdays(page func(after store.BirthdayCursor) ([]store.BirthdayCandidate, error)) (found, pages int, err error) {
	var after store.BirthdayCursor
	for {
		got, err := page(after)
		if err != nil {
			return 0, 0, err
		}
		found, pages = found+len(got), pages+1
		if len(got) < sweepBatch {
			return found, pages, nil
		}
		last := got[len(got)-1]
		after = store.BirthdayCursor{MonthDay: last.MonthDay, ID: last.ID}
	}
}

func orFirst(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}

// timeIt runs fn once to warm the cache, then runs times times and returns
// the median.
func timeIt(ctx context.Context, runs int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, 0, runs)
	for range runs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// withoutIndexes measures a statement without the given indexes: on a
// connection of its own it drops those that back no constraint inside a
// transaction, returns plan's output and the median time of run, and rolls
// the transaction back, so the indexes are never really gone.
func withoutIndexes(ctx context.Context, dsn string, indexes []string, plan func(pgx.Tx) (string, error), run func(pgx.Tx) error) (time.Duration, string, error) {
	conn, err := store.Connect(ctx, dsn)
	if err != nil {
		return 0, "", fmt.Errorf("connect for the baseline: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // rolling back is the point
	for _, ix := range indexes {
		var constraint bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = $1)`, ix).Scan(&constraint); err != nil {
			return 0, "", err
		}
		if constraint {
			continue
		}
		if _, err := tx.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix}.Sanitize()); err != nil {
			return 0, "", fmt.Errorf("drop index %s for the baseline: %w", ix, err)
		}
	}
	p, err := plan(tx)
	if err != nil {
		return 0, "", err
	}
	d, err := timeIt(ctx, 3, func() error { return run(tx) })
	return d, p, err
}

// explain returns the plan of sql as executed (row counts, no timings, so
// plans compare between runs).
func explain(ctx context.Context, db querier, sql string, args ...any) (string, error) {
	rows, err := db.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+sql, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

var indexScan = regexp.MustCompile(`(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)`)

// indexesIn lists the indexes a plan scans.
func indexesIn(plan string) []string {
	seen := map[string]bool{}
	for _, m := range indexScan.FindAllStringSubmatch(plan, -1) {
		seen[m[1]] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "no index (sequential scans only)"
	}
	return strings.Join(xs, ", ")
}

// generateCustomers writes n customers with one INSERT ... SELECT over
// generate_series, seeded so every run gets the same rows: two thirds with
// a birthday (1950-2004), six in ten buyers with exponentially distributed
// order counts and a last purchase anywhere in the last four years, ten
// locales with their countries and time zones. The customers table's own
// indexes are dropped first and rebuilt after, which is several times
// faster than maintaining them row by row and leaves the same table.
func generateCustomers(ctx context.Context, st *store.Store, n int) error {
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.tablename = 'customers' AND i.schemaname = current_schema()
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = 'customers'::regclass)`)
	if err != nil {
		return fmt.Errorf("list customer indexes: %w", err)
	}
	type index struct{ Name, Def string }
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return fmt.Errorf("list customer indexes: %w", err)
	}
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return fmt.Errorf("drop index %s: %w", ix.Name, err)
		}
	}
	if _, err := conn.Exec(ctx, `SELECT setseed(0.42)`); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `
		INSERT INTO customers (external_id, email, first_name, last_name, locale, time_zone, country, city, gender,
			birthday, tags, attributes, orders_count, total_spent, first_purchase_at, last_purchase_at, last_seen_at, created_at)
		SELECT 'bench-sweep-' || g, 'customer' || g || '@sweep.example',
			(ARRAY['Ada', 'Wei', 'Mei', 'Lars', 'Sofia', 'Kenji', 'Amara', 'Diego'])[1 + g % 8],
			(ARRAY['Lovelace', 'Zhang', 'Lin', 'Berg', 'Rossi', 'Sato', 'Okafor', 'Diaz'])[1 + (g / 8) % 8],
			(ARRAY['en', 'en', 'en', 'en-GB', 'zh-CN', 'zh-CN', 'zh-TW', 'de', 'fr', 'ja'])[1 + k],
			(ARRAY['America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Europe/London', 'Asia/Shanghai',
			       'Asia/Shanghai', 'Asia/Taipei', 'Europe/Berlin', 'Europe/Paris', 'Asia/Tokyo'])[1 + k],
			(ARRAY['US', 'US', 'US', 'GB', 'CN', 'CN', 'TW', 'DE', 'FR', 'JP'])[1 + k],
			(ARRAY['New York', 'Chicago', 'Los Angeles', 'London', 'Shanghai', 'Beijing', 'Taipei', 'Berlin', 'Paris', 'Tokyo'])[1 + k],
			(ARRAY['female', 'male', ''])[1 + g % 3],
			CASE WHEN r_bday < 0.67 THEN date '1950-01-01' + floor(r_day * 20089)::int END,
			CASE WHEN g % 5 = 0 THEN ARRAY['newsletter'] WHEN g % 17 = 0 THEN ARRAY['vip'] ELSE '{}' END,
			CASE WHEN g % 4 = 0 THEN '{"plan": "gold"}'::jsonb ELSE '{}' END,
			orders, CASE WHEN orders > 0 THEN round((orders * (10 + r_spend * 190))::numeric, 2) ELSE 0 END,
			CASE WHEN orders > 0 THEN created + (last_at - created) * r_first END,
			CASE WHEN orders > 0 THEN last_at END,
			CASE WHEN orders > 0 THEN last_at END,
			created
		FROM (
			SELECT g, k, r_bday, r_day, r_spend, r_first, created,
				created + (now() - created) * r_last AS last_at,
				CASE WHEN r_buyer < 0.6 THEN 1 + floor(-ln(1 - r_orders) * 3)::int ELSE 0 END AS orders
			FROM (
				SELECT g, floor(random() * 10)::int AS k, random() AS r_bday, random() AS r_day,
					random() AS r_spend, random() AS r_first, random() AS r_last, random() AS r_buyer,
					random() AS r_orders, now() - random() * interval '1461 days' AS created
				FROM generate_series(1, $1::int) g
			) raw
		) s`, n)
	if err != nil {
		return fmt.Errorf("generate %d customers: %w", n, err)
	}
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, ix.Def); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix.Name, err)
		}
	}
	return nil
}
