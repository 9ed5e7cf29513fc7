package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// BenchmarkBirthdayPage measures one page of the hourly birthday sweep over
// 200,000 customers and reports its speed as a ratio to a baseline measured
// in the same run: the same statement with index scans disabled.
//
//	go test ./internal/store -run '^$' -bench BirthdayPage
func BenchmarkBirthdayPage(b *testing.B) {
	s, _ := testdb.New(b)
	testdb.MustExec(b, s, `
		INSERT INTO customers (external_id, time_zone, birthday)
		SELECT 'C-' || g, (ARRAY['Asia/Shanghai', 'America/New_York', 'Europe/Berlin', 'UTC'])[1 + g % 4],
			date '1950-01-01' + (g * 7919 % 25000)
		FROM generate_series(1, 200000) g`)
	testdb.MustExec(b, s, `ANALYZE customers`)
	q := store.BirthdayQuery{At: time.Date(2026, 6, 15, 3, 0, 0, 0, time.UTC), SendMinute: 540, KeyPrefix: "birthday/", Limit: 500}

	// Baseline: the same statement on a connection with index scans off,
	// i.e. what the sweep would cost without customers_birthday_md.
	conn, err := s.Pool().Acquire(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(b.Context(), `SET enable_indexscan = off; SET enable_bitmapscan = off`); err != nil {
		b.Fatal(err)
	}
	defer conn.Exec(context.Background(), `RESET ALL`) //nolint:errcheck // best effort before release
	const baselineRuns = 5
	var baseline time.Duration
	for range baselineRuns {
		start := time.Now()
		rows, err := conn.Query(b.Context(), store.BirthdayPageSQL, q.At, store.BirthdayMonthDays(q.At), 0,
			"00000000-0000-0000-0000-000000000000", q.SendMinute, q.KeyPrefix, q.Limit)
		if err != nil {
			b.Fatal(err)
		}
		rows.Close()
		baseline += time.Since(start)
	}
	baseline /= baselineRuns

	var indexed time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		got, err := s.BirthdayPage(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == 0 {
			b.Fatal("no birthdays found")
		}
		indexed += time.Since(start)
	}
	b.ReportMetric(float64(baseline)/(float64(indexed)/float64(b.N)), "x-faster-than-seqscan")
}
