package segment_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestBucketIsStableUniformAndMatchesTheDatabase(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := context.Background()
	const n = 20000
	testdb.MustExec(t, s, `INSERT INTO customers (external_id) SELECT 'c' || i FROM generate_series(1, $1) i`, n)

	rows, err := s.Pool().Query(ctx, `SELECT id::text, bucket FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 100)
	seeded := make([]int, 100)
	var ids []string
	for rows.Next() {
		var id string
		var b int
		if err := rows.Scan(&id, &b); err != nil {
			t.Fatal(err)
		}
		if got := segment.Bucket(id); got != b {
			t.Fatalf("customer %s: Go bucket %d, database bucket %d", id, got, b)
		}
		if again := segment.Bucket(id); again != b {
			t.Fatalf("bucket of %s changed from %d to %d", id, b, again)
		}
		counts[b]++
		seeded[segment.SeededBucket("spring", id)]++
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// 200 expected per bucket; a fair hash stays well within ±35% (the
	// binomial standard deviation is ~14) while a broken one does not.
	for b, c := range counts {
		if c < 130 || c > 270 {
			t.Errorf("bucket %d holds %d of %d customers; want about %d", b, c, n, n/100)
		}
		if seeded[b] < 130 || seeded[b] > 270 {
			t.Errorf("seeded bucket %d holds %d of %d customers", b, seeded[b], n)
		}
	}

	// A 10% holdout by bucket selects about 10%, and seeded splits are
	// independent of the unseeded one.
	holdout := mustParse(t, "match: {bucket: {lt: 10}}")
	got, err := segment.Count(ctx, s.Pool(), holdout)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, c := range counts[:10] {
		want += c
	}
	if got != int64(want) {
		t.Errorf("bucket < 10 counts %d, Go buckets say %d", got, want)
	}
	seededDef := mustParse(t, "match: {bucket: {seed: spring, lt: 10}}")
	both := mustParse(t, "match: {all: [{bucket: {lt: 10}}, {bucket: {seed: spring, lt: 10}}]}")
	nSeeded, err := segment.Count(ctx, s.Pool(), seededDef)
	if err != nil {
		t.Fatal(err)
	}
	wantSeeded := 0
	for _, c := range seeded[:10] {
		wantSeeded += c
	}
	if nSeeded != int64(wantSeeded) {
		t.Errorf("seeded bucket < 10 counts %d, Go says %d", nSeeded, wantSeeded)
	}
	nBoth, err := segment.Count(ctx, s.Pool(), both)
	if err != nil {
		t.Fatal(err)
	}
	// Independent 10% splits overlap on about 1%, not 10%.
	if nBoth > n/50 {
		t.Errorf("seeded and unseeded holdouts overlap on %d of %d customers; the splits are not independent", nBoth, n)
	}
	for _, id := range ids[:50] {
		in, err := segment.Contains(ctx, s.Pool(), seededDef, id)
		if err != nil {
			t.Fatal(err)
		}
		if in != (segment.SeededBucket("spring", id) < 10) {
			t.Errorf("Contains(%s) = %v, SeededBucket = %d", id, in, segment.SeededBucket("spring", id))
		}
	}
}

func TestRefreshScoresWritesOnlyChangesAndRecordsRuns(t *testing.T) {
	s, ids := fixture(t) // refreshed once at now
	ctx := context.Background()
	first, err := s.LastScoreRefresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Customers != int64(len(people)) || first.Changed != int64(len(people)) {
		t.Errorf("first refresh = %+v, want %d customers all changed", first, len(people))
	}
	again, err := s.RefreshScores(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed != 0 || again.Customers != int64(len(people)) {
		t.Errorf("refresh of an unchanged base = %+v, want 0 changed", again)
	}
	// bob's big order makes him the top spender: his monetary score and tier
	// change, and eve (until now the top) moves down.
	testdb.MustExec(t, s, `UPDATE customers SET total_spent = 5000, orders_count = 2 WHERE external_id = 'bob'`)
	r, err := s.RefreshScores(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Changed < 2 {
		t.Errorf("refresh after a big order = %+v, want bob and eve changed", r)
	}
	high := mustParse(t, "match: {value_tier: high}")
	if got := members(t, s, ids, high); strings.Join(got, ",") != "bob" {
		t.Errorf("high tier after refresh = %v, want [bob]", got)
	}
	last, err := s.LastScoreRefresh(ctx)
	if err != nil || last.Changed != r.Changed {
		t.Errorf("LastScoreRefresh = %+v, %v; want the latest run %+v", last, err, r)
	}
}

func TestScoresNeverRefreshed(t *testing.T) {
	s, _ := testdb.New(t)
	testdb.MustExec(t, s, `INSERT INTO customers (external_id, orders_count, total_spent) VALUES ('a', 3, 100)`)
	ctx := context.Background()
	if _, err := s.LastScoreRefresh(ctx); !errors.Is(err, store.ErrNeverScored) {
		t.Errorf("LastScoreRefresh before any refresh = %v, want ErrNeverScored", err)
	}
	n, err := segment.Count(ctx, s.Pool(), mustParse(t, "match: {rfm.frequency: {gte: 0}}"))
	if err != nil || n != 0 {
		t.Errorf("score condition without scores counts %d (%v); want 0: unscored customers match no score condition", n, err)
	}
}

func TestSampleShowsKeyFields(t *testing.T) {
	s, _ := fixture(t)
	testdb.MustExec(t, s, `UPDATE customers SET first_name = 'Alice', last_name = 'Liddell' WHERE external_id = 'alice'`)
	testdb.MustExec(t, s, `UPDATE customers SET first_name = '芳', last_name = '王' WHERE external_id = 'eve'`)
	def := mustParse(t, "match: {value_tier: [high, mid]}")
	got, err := segment.Sample(context.Background(), s.Pool(), def, 2, segment.At(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("sample of 2 from 3 members returned %d", len(got))
	}
	all, err := segment.Sample(context.Background(), s.Pool(), def, 10, segment.At(now))
	if err != nil {
		t.Fatal(err)
	}
	byExt := map[string]segment.Member{}
	for _, m := range all {
		byExt[m.ExternalID] = m
	}
	a, ok := byExt["alice"]
	if !ok || len(all) != 3 {
		t.Fatalf("sample = %+v", all)
	}
	line := fmt.Sprintf("%s|%s|%s|%s|%d|%.2f|%d%d%d|%s|%s", a.Name, a.Locale, a.TimeZone, a.Country, a.OrdersCount, a.TotalSpent,
		*a.Recency, *a.Frequency, *a.Monetary, *a.ValueTier, a.Lifecycle)
	if want := "Alice Liddell|en|America/Los_Angeles|US|5|500.00|454|mid|loyal"; line != want {
		t.Errorf("alice = %s, want %s", line, want)
	}
	if a.Bucket != segment.Bucket(a.ID) {
		t.Errorf("bucket %d, want %d", a.Bucket, segment.Bucket(a.ID))
	}
	if e := byExt["eve"]; e.Lifecycle != segment.StageLapsed || *e.ValueTier != segment.TierHigh {
		t.Errorf("eve = %+v", e)
	}
	// A Chinese name is shown family name first, without a space.
	if e := byExt["eve"]; e.Name != "王芳" {
		t.Errorf("eve's name in the preview = %q, want 王芳", e.Name)
	}
}

func TestContainsRejectsMalformedID(t *testing.T) {
	s, _ := testdb.New(t)
	_, err := segment.Contains(context.Background(), s.Pool(), mustParse(t, "match: {all: []}"), "not-a-uuid")
	if err == nil {
		t.Fatal("Contains with a malformed ID succeeded")
	}
	in, err := segment.Contains(context.Background(), s.Pool(), mustParse(t, "match: {all: []}"), uuid.NewString())
	if err != nil || in {
		t.Errorf("unknown customer: %v, %v; want false, nil", in, err)
	}
}

func mustParse(t testing.TB, src string) *segment.Definition {
	t.Helper()
	d, err := segment.Parse([]byte(src), "")
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return d
}
