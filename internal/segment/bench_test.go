package segment_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// BenchmarkCount loads TIDINGS_BENCH_CUSTOMERS customers (default 1,000,000)
// with COPY into a scratch database, refreshes the scores, and times segment
// counts against a full `count(*)` of customers measured in the same run
// (reported as x-baseline). Run it with
//
//	go test ./internal/segment -run '^$' -bench Count -benchtime 10x -v
func BenchmarkCount(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TIDINGS_BENCH_CUSTOMERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("TIDINGS_BENCH_CUSTOMERS=%q: %v", v, err)
		}
	}
	ctx := context.Background()
	s, _ := testdb.New(b)
	start := time.Now()
	loadCustomers(b, s, n)
	b.Logf("loaded %d customers and events in %s", n, time.Since(start).Round(time.Millisecond))
	r, err := s.RefreshScores(ctx, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("refresh-scores: %d customers in %s", r.Customers, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	testdb.MustExec(b, s, `VACUUM ANALYZE customers`)
	testdb.MustExec(b, s, `VACUUM ANALYZE customer_scores`)
	testdb.MustExec(b, s, `VACUUM ANALYZE events`)
	testdb.MustExec(b, s, `VACUUM ANALYZE consents`)

	timeIt := func(fn func() error) time.Duration {
		const rounds = 5
		var total time.Duration
		for range rounds {
			t0 := time.Now()
			if err := fn(); err != nil {
				b.Fatal(err)
			}
			total += time.Since(t0)
		}
		return total / rounds
	}
	baseline := timeIt(func() error {
		var c int64
		return s.Pool().QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&c)
	})
	b.Logf("baseline SELECT count(*) FROM customers: %s", baseline.Round(time.Microsecond))

	segments := []struct{ name, src string }{
		{"typical", "match: {value_tier: high, last_purchase_at: {within: 90d}, locale: en}"},
		{"rfm-champions", "match: {rfm.recency: {gte: 4}, rfm.frequency: {gte: 4}, rfm.monetary: {gte: 4}, locale: {in: [en, en-GB]}}"},
		{"lifecycle-at-risk", "match: {lifecycle: at_risk, country: US}"},
		{"event-3-in-30d", "match: {event: {type: page_view, count: {gte: 3}, within: 30d}, consent: {channel: email, topic: marketing}}"},
		{"attributes-tags-age", "match: {attributes.plan: gold, tags: {any: [vip, beta]}, age: {between: [25, 45]}}"},
		{"holdout-10pct", "match: {bucket: {seed: spring, lt: 10}}"},
	}
	for _, sg := range segments {
		def := mustParse(b, sg.src)
		b.Run(sg.name, func(b *testing.B) {
			var count int64
			for b.Loop() {
				var err error
				if count, err = segment.Count(ctx, s.Pool(), def); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(baseline), "x-baseline")
			b.ReportMetric(float64(count), "members")
		})
		if testing.Verbose() {
			where, args, err := def.Compile(time.Now())
			if err != nil {
				b.Fatal(err)
			}
			rows, err := s.Pool().Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM "+segment.From+" WHERE "+where, args...)
			if err != nil {
				b.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s:\n%s", sg.name, strings.Join(plan, "\n"))
		}
	}
}

// loadCustomers writes n synthetic customers with COPY, three page views in
// the last 60 days for half of them, and email consent for half of them.
func loadCustomers(b *testing.B, s *store.Store, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now()
	locales := []string{"en", "en", "en", "en-GB", "zh-CN", "zh-CN", "de", "fr", "es", "ja"}
	countries := []string{"US", "US", "US", "GB", "CN", "CN", "DE", "FR", "ES", "JP"}
	zones := []string{"America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Asia/Shanghai",
		"Asia/Shanghai", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Asia/Tokyo"}
	plans := []map[string]any{{}, {"plan": "gold", "seats": 12}, {"plan": "silver"}, {"plan": "free"}}
	tagSets := [][]string{{}, {}, {"vip"}, {"newsletter"}, {"beta", "newsletter"}}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		i++
		k := rng.IntN(len(locales))
		created := now.Add(-time.Duration(rng.Int64N(int64(4 * 365 * 24 * time.Hour))))
		var bday *time.Time
		if rng.IntN(3) > 0 {
			t := time.Date(1950+rng.IntN(55), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			bday = &t
		}
		var orders int
		var spent float64
		var first, last *time.Time
		if rng.IntN(10) < 6 {
			orders = 1 + int(rng.ExpFloat64()*3)
			spent = float64(orders) * (10 + rng.Float64()*190)
			l := created.Add(time.Duration(rng.Float64() * float64(now.Sub(created))))
			f := created.Add(time.Duration(rng.Float64() * float64(l.Sub(created))))
			first, last = &f, &l
		}
		return []any{fmt.Sprintf("bench-%d", i), locales[k], zones[k], countries[k], "", "", []string{"female", "male", ""}[rng.IntN(3)],
			bday, tagSets[rng.IntN(len(tagSets))], plans[rng.IntN(len(plans))], orders, math.Round(spent*100) / 100, first, last, last, created}, nil
	})
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	_, err = conn.Conn().CopyFrom(ctx, pgx.Identifier{"customers"},
		[]string{"external_id", "locale", "time_zone", "country", "region", "city", "gender", "birthday", "tags", "attributes",
			"orders_count", "total_spent", "first_purchase_at", "last_purchase_at", "last_seen_at", "created_at"}, src)
	if err != nil {
		b.Fatalf("copy customers: %v", err)
	}
	testdb.MustExec(b, s, `
		INSERT INTO events (event_id, customer_id, type, occurred_at)
		SELECT gen_random_uuid()::text, c.id, 'page_view', now() - random() * interval '60 days'
		FROM customers c, generate_series(1, 3) g
		WHERE c.bucket < 50`)
	testdb.MustExec(b, s, `
		INSERT INTO consents (customer_id, channel, topic, status)
		SELECT id, 'email', 'marketing', 'granted' FROM customers WHERE bucket % 2 = 0`)
}
