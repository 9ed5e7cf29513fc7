package store_test

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestSearchPagesCommonAndRareMatches searches more customers than a tag or
// name search reads in ID order before it gathers every match: a tag half
// of them carry, pages through to the end, and a tag and a name only a few
// carry, all past that first stretch, find exactly what plain SQL finds,
// in ID order.
func TestSearchPagesCommonAndRareMatches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := testdb.New(t)
	if _, err := s.Pool().Exec(ctx, `
		INSERT INTO customers (id, external_id, first_name, tags)
		SELECT md5('c' || i)::uuid, 'C-' || i, CASE WHEN i % 7 = 0 THEN 'Zelda' ELSE 'Ann' END,
			CASE WHEN i % 2 = 0 THEN ARRAY['common'] ELSE '{}' END
		FROM generate_series(1, 10000) i;
		UPDATE customers SET tags = tags || ARRAY['rare'], first_name = 'Quill'
		WHERE id IN (SELECT id FROM customers ORDER BY id DESC LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	want := func(where string) []string {
		t.Helper()
		rows, err := s.Pool().Query(ctx, `SELECT id::text FROM customers WHERE `+where+` ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for _, tc := range []struct {
		name  string
		q     store.CustomerSearch
		where string
	}{
		{"common tag", store.CustomerSearch{Tag: "common", Limit: 500}, `'common' = ANY (tags)`},
		{"rare tag", store.CustomerSearch{Tag: "rare", Limit: 2}, `'rare' = ANY (tags)`},
		{"common name", store.CustomerSearch{Name: "zel", Limit: 500}, `first_name = 'Zelda'`},
		{"rare name", store.CustomerSearch{Name: "qui", Limit: 50}, `first_name = 'Quill'`},
	} {
		var got []string
		q := tc.q
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatalf("%s: more than 100 pages", tc.name)
			}
			cs, next, err := s.SearchCustomers(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if next == "" {
				break
			}
			q.After = next
		}
		exp := want(tc.where)
		if len(got) != len(exp) {
			t.Errorf("%s: found %d customers, want %d", tc.name, len(got), len(exp))
			continue
		}
		for i := range exp {
			if got[i] != exp[i] {
				t.Errorf("%s: customer %d is %s, want %s", tc.name, i, got[i], exp[i])
				break
			}
		}
	}
}
