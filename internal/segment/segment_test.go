package segment_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// now is the evaluation time of every case; fixture times are relative to it.
var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func daysAgo(d int) time.Time { return now.AddDate(0, 0, -d) }

// hacker's city and external ID are injection attempts stored as data.
const dropTable = "'; DROP TABLE customers; --"

type person struct {
	ext, locale, country, region, city, tz, gender string
	birthday                                       string // "" = unknown
	tags                                           []string
	attrs                                          string
	orders                                         int
	spent                                          string
	first, last                                    *time.Time
	created                                        time.Time
}

func ptr(t time.Time) *time.Time { return &t }

// people is the hand-built base every case is checked against. The comment
// after each names the computed fields the cases rely on.
var people = []person{
	// RFM 4/5/4, mid, loyal, age 36 today
	{ext: "alice", locale: "en", country: "US", region: "CA", city: "San Francisco", tz: "America/Los_Angeles", gender: "female",
		birthday: "1990-06-15", tags: []string{"vip", "newsletter"}, attrs: `{"plan": "gold", "seats": 12, "beta": true}`,
		orders: 5, spent: "500.00", first: ptr(daysAgo(400)), last: ptr(daysAgo(10)), created: daysAgo(400)},
	// RFM 2/1/1, low, at_risk, age 35 (36 tomorrow)
	{ext: "bob", locale: "en-GB", country: "GB", region: "England", city: "London", tz: "Europe/London", gender: "male",
		birthday: "1990-06-16", tags: []string{"newsletter"}, attrs: `{"plan": "silver", "seats": "12"}`,
		orders: 1, spent: "20.00", first: ptr(daysAgo(100)), last: ptr(daysAgo(100)), created: daysAgo(200)},
	// RFM 3/3/3, mid, active, born on Feb 29, age 26
	{ext: "chen", locale: "zh-CN", country: "CN", region: "Shanghai", city: "Shanghai", tz: "Asia/Shanghai", gender: "male",
		birthday: "2000-02-29", attrs: `{"plan": "gold", "address": {"city": "Shanghai"}}`,
		orders: 2, spent: "80.00", first: ptr(daysAgo(300)), last: ptr(daysAgo(60)), created: daysAgo(300)},
	// never bought, joined 5 days ago: new
	{ext: "dana", locale: "de", country: "DE", region: "Berlin", city: "Berlin", tz: "Europe/Berlin", gender: "female",
		tags: []string{"vip"}, attrs: `{}`, spent: "0", created: daysAgo(5)},
	// RFM 1/4/5, high, lapsed, age 66
	{ext: "eve", locale: "en", country: "US", region: "NY", city: "New York", tz: "America/New_York", gender: "female",
		birthday: "1960-01-01", attrs: `{}`, orders: 3, spent: "1000.00", first: ptr(daysAgo(900)), last: ptr(daysAgo(400)), created: daysAgo(900)},
	// never bought, joined long ago: prospect, age 15
	{ext: "frank", locale: "fr", country: "FR", region: "IDF", city: "Paris", tz: "Europe/Paris", gender: "male",
		birthday: "2010-12-31", attrs: `{"seats": 3}`, spent: "0", created: daysAgo(100)},
	// first purchase 5 days ago, imported long ago: new; RFM 5/1/2, low
	{ext: "gina", locale: "en", country: "US", region: "TX", city: "Austin", tz: "America/Chicago",
		attrs: `{}`, orders: 1, spent: "50.00", first: ptr(daysAgo(5)), last: ptr(daysAgo(5)), created: daysAgo(400)},
	// injection strings stored as data; prospect
	{ext: "o'hara\"; --", locale: "en-US", city: dropTable, tz: "UTC", attrs: `{"note": "x' OR '1'='1"}`, spent: "0", created: daysAgo(50)},
}

const hacker = "o'hara\"; --"

// fixture loads people, their events and consents, refreshes the scores, and
// returns the store and a map from customer ID to external ID.
func fixture(t *testing.T) (*store.Store, map[string]string) {
	t.Helper()
	s, _ := testdb.New(t)
	ctx := context.Background()
	ids := map[string]string{}
	byExt := map[string]string{}
	for _, p := range people {
		var bday *string
		if p.birthday != "" {
			bday = &p.birthday
		}
		tags := p.tags
		if tags == nil {
			tags = []string{}
		}
		var id string
		err := s.Pool().QueryRow(ctx, `
			INSERT INTO customers (external_id, locale, country, region, city, time_zone, gender, birthday,
				tags, attributes, orders_count, total_spent, first_purchase_at, last_purchase_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING id::text`,
			p.ext, p.locale, p.country, p.region, p.city, p.tz, p.gender, bday, tags, p.attrs,
			p.orders, p.spent, p.first, p.last, p.created).Scan(&id)
		if err != nil {
			t.Fatalf("insert %s: %v", p.ext, err)
		}
		ids[id] = p.ext
		byExt[p.ext] = id
	}
	event := func(ext, typ string, at time.Time, props string) {
		testdb.MustExec(t, s, `INSERT INTO events (event_id, customer_id, type, occurred_at, properties)
			VALUES (gen_random_uuid()::text, $1, $2, $3, $4)`, byExt[ext], typ, at, props)
	}
	for i := 0; i < 4; i++ {
		event("alice", "page_view", daysAgo(i+1), `{}`)
	}
	event("alice", "page_view", daysAgo(60), `{}`)
	event("alice", "page_view", daysAgo(61), `{}`)
	event("bob", "page_view", daysAgo(3), `{}`)
	event("bob", "page_view", daysAgo(4), `{}`)
	event("chen", "page_view", daysAgo(2), `{"page": "/pricing"}`)
	event("chen", "page_view", daysAgo(3), `{}`)
	event("chen", "page_view", daysAgo(29), `{}`)
	consent := func(ext, channel, topic, status string) {
		testdb.MustExec(t, s, `INSERT INTO consents (customer_id, channel, topic, status) VALUES ($1, $2, $3, $4)`,
			byExt[ext], channel, topic, status)
	}
	consent("alice", "email", "marketing", "granted")
	consent("bob", "email", "marketing", "denied")
	consent("chen", "sms", "marketing", "granted")
	consent("eve", "email", "marketing", "granted")
	consent("eve", "email", "newsletter", "granted")
	if _, err := s.RefreshScores(ctx, now); err != nil {
		t.Fatal(err)
	}
	return s, ids
}

// members evaluates def three ways (Page, Count, Contains for every
// customer), fails the test if they disagree, and returns sorted external IDs.
func members(t *testing.T, s *store.Store, ids map[string]string, def *segment.Definition) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	in := map[string]bool{}
	after := ""
	for {
		page, err := segment.Page(ctx, s.Pool(), def, after, 3, segment.At(now))
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		for _, id := range page {
			got = append(got, ids[id])
			in[id] = true
		}
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1]
	}
	n, err := segment.Count(ctx, s.Pool(), def, segment.At(now))
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	if n != int64(len(got)) {
		t.Errorf("Count = %d, paging found %d", n, len(got))
	}
	for id, ext := range ids {
		ok, err := segment.Contains(ctx, s.Pool(), def, id, segment.At(now))
		if err != nil {
			t.Fatalf("contains %s: %v", ext, err)
		}
		if ok != in[id] {
			t.Errorf("Contains(%s) = %v, paging says %v", ext, ok, in[id])
		}
	}
	sort.Strings(got)
	return got
}

func everyoneBut(except ...string) []string {
	var out []string
	for _, p := range people {
		skip := false
		for _, e := range except {
			skip = skip || e == p.ext
		}
		if !skip {
			out = append(out, p.ext)
		}
	}
	return out
}

func TestCompileOperatorsAndComputedFields(t *testing.T) {
	s, ids := fixture(t)
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		// text
		{"eq shorthand", `locale: en`, []string{"alice", "eve", "gina"}},
		{"ne", `locale: {ne: en}`, everyoneBut("alice", "eve", "gina")},
		{"in shorthand", `locale: [en, en-GB]`, []string{"alice", "bob", "eve", "gina"}},
		{"not_in", `locale: {not_in: [en, en-GB]}`, everyoneBut("alice", "bob", "eve", "gina")},
		{"starts_with", `locale: {starts_with: en}`, []string{"alice", "bob", "eve", "gina", hacker}},
		{"exists false on text", `country: {exists: false}`, []string{hacker}},
		{"city with space", `city: San Francisco`, []string{"alice"}},
		{"time_zone", `time_zone: Asia/Shanghai`, []string{"chen"}},
		{"gender", `gender: female`, []string{"alice", "dana", "eve"}},
		{"region in", `region: {in: [CA, Shanghai]}`, []string{"alice", "chen"}},
		// age from birthday
		{"age eq on birthday", `age: 36`, []string{"alice"}},
		{"age gte", `age: {gte: 36}`, []string{"alice", "eve"}},
		{"age gt", `age: {gt: 65}`, []string{"eve"}},
		{"age lt", `age: {lt: 36}`, []string{"bob", "chen", "frank"}},
		{"age lte", `age: {lte: 15}`, []string{"frank"}},
		{"age between", `age: {between: [20, 35]}`, []string{"bob", "chen"}},
		{"age ne excludes unknown", `age: {ne: 36}`, []string{"bob", "chen", "eve", "frank"}},
		{"age in", `age: {in: [15, 66]}`, []string{"eve", "frank"}},
		{"age not_in", `age: {not_in: [15, 66]}`, []string{"alice", "bob", "chen"}},
		{"age unknown", `age: {exists: false}`, []string{"dana", "gina", hacker}},
		{"birthday before", `birthday: {before: 1980-01-01}`, []string{"eve"}},
		// behaviour
		{"orders gte", `orders_count: {gte: 3}`, []string{"alice", "eve"}},
		{"orders zero", `orders_count: 0`, []string{"dana", "frank", hacker}},
		{"orders in", `orders_count: {in: [1, 2]}`, []string{"bob", "chen", "gina"}},
		{"orders ne", `orders_count: {ne: 0}`, []string{"alice", "bob", "chen", "eve", "gina"}},
		{"orders lt", `orders_count: {lt: 2}`, []string{"bob", "dana", "frank", "gina", hacker}},
		{"orders lte", `orders_count: {lte: 2}`, everyoneBut("alice", "eve")},
		{"orders between", `orders_count: {between: [2, 3]}`, []string{"chen", "eve"}},
		{"orders not_in", `orders_count: {not_in: [0, 1]}`, []string{"alice", "chen", "eve"}},
		{"spent decimal", `total_spent: {gt: 79.99}`, []string{"alice", "chen", "eve"}},
		{"spent eq", `total_spent: 80`, []string{"chen"}},
		{"spent between", `total_spent: {between: [20, 80]}`, []string{"bob", "chen", "gina"}},
		{"spent lte", `total_spent: {lte: 20.5}`, []string{"bob", "dana", "frank", hacker}},
		{"last purchase within", `last_purchase_at: {within: 90d}`, []string{"alice", "chen", "gina"}},
		{"last purchase within weeks", `last_purchase_at: {within: 2w}`, []string{"alice", "gina"}},
		{"last purchase older than", `last_purchase_at: {older_than: 3mo}`, []string{"bob", "eve"}},
		{"older than a year", `last_purchase_at: {older_than: 1y}`, []string{"eve"}},
		{"not within includes never bought", `not: {last_purchase_at: {within: 90d}}`, []string{"bob", "dana", "eve", "frank", hacker}},
		{"never purchased", `last_purchase_at: {exists: false}`, []string{"dana", "frank", hacker}},
		{"before date", `last_purchase_at: {before: 2025-06-01}`, []string{"eve"}},
		{"after date", `first_purchase_at: {after: 2026-06-01}`, []string{"gina"}},
		{"after timestamp", `first_purchase_at: {after: "2026-06-10T12:00:00Z"}`, []string{"gina"}},
		{"joined within hours", `created_at: {within: 200h}`, []string{"dana"}},
		// tags
		{"tag has", `tags: vip`, []string{"alice", "dana"}},
		{"tags any", `tags: {any: [vip, newsletter]}`, []string{"alice", "bob", "dana"}},
		{"tags all", `tags: {all: [vip, newsletter]}`, []string{"alice"}},
		{"tags none", `tags: {none: [vip]}`, everyoneBut("alice", "dana")},
		// custom attributes
		{"attr eq text", `attributes.plan: gold`, []string{"alice", "chen"}},
		{"attr in", `attributes.plan: {in: [gold, silver]}`, []string{"alice", "bob", "chen"}},
		{"attr ne", `attributes.plan: {ne: gold}`, everyoneBut("alice", "chen")},
		{"attr not_in", `attributes.plan: {not_in: [gold, silver]}`, everyoneBut("alice", "bob", "chen")},
		{"attr numeric gt ignores text", `attributes.seats: {gt: 10}`, []string{"alice"}},
		{"attr number eq", `attributes.seats: 12`, []string{"alice"}},
		{"attr quoted text is text", `attributes.seats: "12"`, []string{"bob"}},
		{"attr between", `attributes.seats: {between: [1, 5]}`, []string{"frank"}},
		{"attr lte", `attributes.seats: {lte: 12}`, []string{"alice", "frank"}},
		{"attr bool", `attributes.beta: true`, []string{"alice"}},
		{"attr nested", `attributes.address.city: Shanghai`, []string{"chen"}},
		{"attr exists", `attributes.plan: {exists: true}`, []string{"alice", "bob", "chen"}},
		{"attr missing", `attributes.plan: {exists: false}`, everyoneBut("alice", "bob", "chen")},
		// consent
		{"consent granted", `consent: {channel: email, topic: marketing}`, []string{"alice", "eve"}},
		{"consent other topic", `consent: {channel: email, topic: newsletter}`, []string{"eve"}},
		{"consent sms", `consent: {channel: sms, topic: marketing}`, []string{"chen"}},
		{"not consented", `not: {consent: {channel: email, topic: marketing}}`, everyoneBut("alice", "eve")},
		// events
		{"event at least once", `event: {type: page_view}`, []string{"alice", "bob", "chen"}},
		{"event count within window", `event: {type: page_view, count: {gte: 3}, within: 30d}`, []string{"alice", "chen"}},
		{"event count all time", `event: {type: page_view, count: {gte: 5}}`, []string{"alice"}},
		{"event exact count", `event: {type: page_view, count: 2, within: 30d}`, []string{"bob"}},
		{"event count below includes none", `event: {type: page_view, count: {lt: 3}, within: 30d}`, everyoneBut("alice", "chen")},
		{"event never", `event: {type: page_view, count: 0}`, everyoneBut("alice", "bob", "chen")},
		{"event between", `event: {type: page_view, count: {between: [2, 3]}, within: 30d}`, []string{"bob", "chen"}},
		{"event not in", `event: {type: page_view, count: {not_in: [0, 4]}, within: 30d}`, []string{"bob", "chen"}},
		{"event properties", `event: {type: page_view, properties: {page: /pricing}}`, []string{"chen"}},
		{"event short window", `event: {type: page_view, within: 36h}`, []string{"alice"}},
		// computed fields
		{"recency top", `rfm.recency: 5`, []string{"gina"}},
		{"recency gte", `rfm.recency: {gte: 4}`, []string{"alice", "gina"}},
		{"recency lowest buyer", `rfm.recency: 1`, []string{"eve"}},
		{"frequency ties share a score", `rfm.frequency: 1`, []string{"bob", "gina"}},
		{"frequency gte", `rfm.frequency: {gte: 4}`, []string{"alice", "eve"}},
		{"monetary top", `rfm.monetary: 5`, []string{"eve"}},
		{"monetary quintiles", `rfm.monetary: {in: [2, 3]}`, []string{"chen", "gina"}},
		{"never bought scores zero", `rfm.recency: 0`, []string{"dana", "frank", hacker}},
		{"champions", `{rfm.recency: {gte: 3}, rfm.frequency: {gte: 3}, rfm.monetary: {gte: 3}}`, []string{"alice", "chen"}},
		{"tier high", `value_tier: high`, []string{"eve"}},
		{"tier mid", `value_tier: mid`, []string{"alice", "chen"}},
		{"tier low", `value_tier: [low]`, []string{"bob", "dana", "frank", "gina", hacker}},
		{"tier ne", `value_tier: {ne: low}`, []string{"alice", "chen", "eve"}},
		{"lifecycle new", `lifecycle: new`, []string{"dana", "gina"}},
		{"lifecycle prospect", `lifecycle: prospect`, []string{"frank", hacker}},
		{"lifecycle loyal", `lifecycle: loyal`, []string{"alice"}},
		{"lifecycle active", `lifecycle: active`, []string{"chen"}},
		{"lifecycle at risk", `lifecycle: at_risk`, []string{"bob"}},
		{"lifecycle lapsed", `lifecycle: lapsed`, []string{"eve"}},
		{"lifecycle in", `lifecycle: {in: [at_risk, lapsed]}`, []string{"bob", "eve"}},
		{"lifecycle not_in", `lifecycle: {not_in: [new, prospect]}`, []string{"alice", "bob", "chen", "eve"}},
		{"lifecycle ne", `lifecycle: {ne: new}`, everyoneBut("dana", "gina")},
		// combinators
		{"any", `any: [{country: CN}, {tags: vip}]`, []string{"alice", "chen", "dana"}},
		{"all empty is everyone", `all: []`, everyoneBut()},
		{"implicit all", `{locale: en, orders_count: {gte: 3}}`, []string{"alice", "eve"}},
		{"operators combine", `orders_count: {gte: 1, lt: 3}`, []string{"bob", "chen", "gina"}},
		{"not any", `not: {any: [{locale: en}, {country: CN}]}`, everyoneBut("alice", "chen", "eve", "gina")},
		{"typical campaign audience", `
all:
  - value_tier: [high, mid]
  - last_purchase_at: {within: 90d}
  - locale: {starts_with: en}
  - consent: {channel: email, topic: marketing}`, []string{"alice"}},
		// injection attempts stay data
		{"value with SQL stays text", `city: "` + dropTable + `"`, []string{hacker}},
		{"quotes in values", `external_id: "o'hara\"; --"`, []string{hacker}},
		{"attribute path with SQL is data", `attributes.plan'; DROP TABLE customers; --: gold`, nil},
		{"attribute value with SQL is data", `attributes.note: "x' OR '1'='1"`, []string{hacker}},
		{"tag with SQL", `tags: "vip' OR 1=1 --"`, nil},
		{"event property with SQL", `event: {type: page_view, properties: {page: "x'); DELETE FROM events; --"}}`, nil},
		{"list with SQL", `locale: ["en') OR ('1'='1", en-GB]`, []string{"bob"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			def, err := segment.Parse([]byte("match:\n"+indent(tc.yaml)), "case.yaml")
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := members(t, s, ids, def)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("members = %q, want %q", got, want)
			}
		})
	}
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM customers`).Scan(&n); err != nil || n != len(people) {
		t.Fatalf("customers after injection attempts: %d, %v; want %d", n, err, len(people))
	}
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 11 {
		t.Fatalf("events after injection attempts: %d, %v; want 11", n, err)
	}
}

func indent(s string) string {
	s = strings.TrimPrefix(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// An erased customer keeps a tombstone row (and their purchase counts), but
// belongs to no segment: not to one of everyone, not to one their remaining
// figures match.
func TestErasedCustomersAreInNoSegment(t *testing.T) {
	s, ids := fixture(t)
	for id, ext := range ids {
		if ext == "bob" || ext == "dana" {
			if err := s.EraseCustomer(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{`all: []`, everyoneBut("bob", "dana")},
		{`orders_count: {lt: 2}`, []string{"frank", "gina", hacker}},
		{`lifecycle: prospect`, []string{"frank", hacker}},
	} {
		def, err := segment.Parse([]byte("match:\n"+indent(tc.yaml)), "case.yaml")
		if err != nil {
			t.Fatal(err)
		}
		want := append([]string(nil), tc.want...)
		sort.Strings(want)
		if got := members(t, s, ids, def); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.yaml, got, want)
		}
	}
}
