package segment_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec/spectest"
)

func TestParseErrorsCarryPathLineAndColumn(t *testing.T) {
	cases := []struct {
		name, file, src string
		line, col       int
		path            string
		msg             string // substring
	}{
		{"unknown field suggests", "s.yaml", "match:\n  all:\n    - locle: en\n", 3, 7, "match.all[0].locle",
			`unknown field "locle" (did you mean locale?)`},
		{"field name with quotes is unknown", "s.yaml", "match:\n  \"locale' OR '1'='1\": en\n", 2, 3, "match.locale' OR '1'='1",
			"unknown field"},
		{"unknown operator", "s.yaml", "match:\n  orders_count: {greater: 3}\n", 2, 18, "match.orders_count.greater",
			`unknown operator "greater" for orders_count; expected one of: between, eq, gt, gte, in, lt, lte, ne, not_in`},
		{"wrong value type", "s.yaml", "match:\n  orders_count:\n    gte: many\n", 3, 10, "match.orders_count.gte",
			`expected a whole number, got text "many"`},
		{"out of range", "s.yaml", "match:\n  rfm.recency: 7\n", 2, 16, "match.rfm.recency",
			"7 is out of range; expected 0 to 5"},
		{"bad duration", "s.yaml", "match:\n  last_purchase_at: {within: 90 days}\n", 2, 30, "match.last_purchase_at.within",
			`"90 days": expected a duration such as 30m, 12h, 3d, 2w or 6mo`},
		{"zero duration", "s.yaml", "match:\n  event: {type: page_view, within: 0d}\n", 2, 36, "match.event.within", "greater than zero"},
		{"event type that never arrives", "s.yaml", "match:\n  event: {type: Page View}\n", 2, 17, "match.event.type",
			`"Page View" must be lower_snake_case`},
		{"consent topic", "s.yaml", "match:\n  consent: {channel: email, topic: News Letter}\n", 2, 36, "match.consent.topic",
			`topic "News Letter": use lower-case letters`},
		{"enum value", "s.yaml", "match:\n  value_tier: platinum\n", 2, 15, "match.value_tier",
			"expected one of high, mid, low"},
		{"lifecycle value", "s.yaml", "match:\n  lifecycle: {in: [loyal, churned]}\n", 2, 27, "match.lifecycle.in",
			"expected a non-empty list of new, prospect, loyal, active, at_risk, lapsed"},
		{"ambiguous tag list", "s.yaml", "match:\n  tags: [a, b]\n", 2, 9, "match.tags",
			"write {all: [...]} or {any: [...]}"},
		{"event without type", "s.yaml", "match:\n  event: {count: {gte: 3}}\n", 2, 10, "match.event.type",
			"is required"},
		{"event bad count op", "s.yaml", "match:\n  event: {type: x, count: {most: 3}}\n", 2, 28, "match.event.count.most",
			`unknown operator "most"`},
		{"consent channel", "s.yaml", "match:\n  consent: {channel: fax, topic: news}\n", 2, 22, "match.consent.channel",
			"expected email or sms"},
		{"between order", "s.yaml", "match:\n  age: {between: [40, 30]}\n", 2, 18, "match.age.between",
			"low bound 40 is above high bound 30"},
		{"not needs a mapping", "s.yaml", "match:\n  not: [locale: en]\n", 2, 8, "match.not",
			"expected a condition"},
		{"empty any", "s.yaml", "match:\n  any: []\n", 2, 8, "match.any", "matches nobody"},
		{"number for attribute order", "s.yaml", "match:\n  attributes.seats: {gt: ten}\n", 2, 26, "match.attributes.seats.gt",
			"expected a number"},
		{"empty attribute path", "s.yaml", "match:\n  attributes..plan: x\n", 2, 3, "match.attributes..plan", "unknown field"},
		{"missing match", "s.yaml", "name: vip\n", 1, 1, "match", "is required"},
		{"unknown top-level key", "s.yaml", "name: vip\nwhere: {locale: en}\n", 2, 1, "where",
			"unknown key; expected name, description or match"},
		{"bad name", "s.yaml", "name: VIP Customers\nmatch: {locale: en}\n", 1, 7, "name", "use lower-case letters"},
		{"syntax error", "s.yaml", "match:\n  locale: en\n bad: [\n", 2, 1, "", "syntax error"},
		{"json position", "s.json", "{\n  \"match\": {\n    \"orders_count\": \"3\"\n  }\n}\n", 3, 21, "match.orders_count",
			`expected a whole number, got text "3"`},
		{"json with tabs", "s.json", "{\n\t\"match\": {\n\t\t\"locale\": {\"equals\": \"en\"}\n\t}\n}\n", 3, 14, "match.locale.equals",
			`unknown operator "equals"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := segment.Parse([]byte(tc.src), tc.file)
			var errs segment.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse error = %v, want segment.Errors", err)
			}
			e := errs[0]
			if e.Line != tc.line || e.Column != tc.col || e.Path != tc.path || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %d:%d %q %q\nwant %d:%d %q containing %q", e.Line, e.Column, e.Path, e.Msg, tc.line, tc.col, tc.path, tc.msg)
			}
			prefix := tc.file + ":"
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
		})
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	src := "match:\n  all:\n    - locale: {equals: en}\n    - orders_count: lots\n    - colour: red\n"
	_, err := segment.Parse([]byte(src), "three.yaml")
	var errs segment.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"three.yaml:3:16: match.all[0].locale.equals: unknown operator",
		"three.yaml:4:21: match.all[1].orders_count: expected a whole number",
		"three.yaml:5:7: match.all[2].colour: unknown field",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors:\n%v", len(errs), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
}

func TestParseKeepsNameSourceAndFormat(t *testing.T) {
	yamlSrc := "name: spring-vip\ndescription: Big spenders\nmatch:\n  value_tier: high\n"
	d, err := segment.Parse([]byte(yamlSrc), "spring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "spring-vip" || d.Description != "Big spenders" || d.Format != "yaml" || string(d.Source) != strings.TrimSpace(yamlSrc) {
		t.Errorf("got %+v", d)
	}
	if !d.UsesScores() {
		t.Error("value_tier should need scores")
	}
	j, err := segment.Parse([]byte(`{"name": "en", "match": {"locale": "en"}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if j.Format != "json" || j.UsesScores() {
		t.Errorf("got format %q, uses scores %v", j.Format, j.UsesScores())
	}
}

// Compiled SQL never contains a value: every value is an argument.
func TestCompileKeepsValuesOutOfSQL(t *testing.T) {
	src := `match:
  all:
    - city: "x'; DROP TABLE customers; --"
    - attributes.evil'name: "1' OR '1'='1"
    - event: {type: page_view, properties: {"k'": "v'; --"}}
    - bucket: {seed: "s'; --", lt: 5}
`
	d, err := segment.Parse([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	where, args, err := d.Compile(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"DROP", "evil", "page_view", "'1'", "v'", "s'"} {
		if strings.Contains(where, bad) {
			t.Errorf("SQL contains %q: %s", bad, where)
		}
	}
	if len(args) < 5 {
		t.Errorf("args = %v", args)
	}
}

func TestCompileAfterNumbersAfterCallerArgs(t *testing.T) {
	d, err := segment.Parse([]byte("match: {locale: en, orders_count: {gte: 2}}"), "")
	if err != nil {
		t.Fatal(err)
	}
	where, args, err := d.CompileAfter(time.Now(), []any{"cursor", 100})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(where, "$3") || !strings.Contains(where, "$4") || strings.Contains(where, "$1") || len(args) != 4 || args[0] != "cursor" {
		t.Errorf("where %q args %v", where, args)
	}
}

// A campaign file embeds an audience; errors keep the campaign file's lines.
func TestFromNodeKeepsTheEnclosingFilePositions(t *testing.T) {
	src := "name: spring\naudience:\n  match:\n    value_tier: gold\nsteps: []\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	audience := doc.Content[0].Content[3]
	_, err := segment.FromNode(audience, "spring.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "spring.yaml:4:17: match.value_tier: expected one of high, mid, low") {
		t.Fatalf("err = %v", err)
	}
	audience.Content[1].Content[1].Value = "high"
	d, err := segment.FromNode(audience, "spring.yaml")
	if err != nil || !d.UsesScores() {
		t.Fatalf("valid audience: %v", err)
	}
}

// TestParseRefusesAnAliasBomb reads a 442-byte segment whose match nests 7
// levels of 9 aliases: refused at the alias that crosses the budget, with
// little memory, instead of building 4.8 million conditions.
func TestParseRefusesAnAliasBomb(t *testing.T) {
	spectest.Refuses(t, "testdata/alias-bomb.yaml", func(data []byte) error {
		_, err := segment.Parse(data, "alias-bomb.yaml")
		return err
	}, "alias-bomb.yaml:9:25: alias *d makes the aliases in the file stand for more than 10000 values", 10)
}

// TestParseLargeSegmentStaysSmall: a segment just inside the bounds (a list
// of 90,000 customer IDs, near a megabyte) is read, compiled, and uses well
// under 100 MB.
func TestParseLargeSegmentStaysSmall(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: big\nmatch:\n  external_id:\n    in: [")
	for i := range 90_000 {
		fmt.Fprintf(&b, "C-%06d, ", i)
	}
	b.WriteString("C-1]\n")
	var err error
	used := spectest.Allocated(func() {
		var d *segment.Definition
		if d, err = segment.Parse([]byte(b.String()), "big.yaml"); err == nil {
			_, _, err = d.Compile(time.Now())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if used > 100<<20 {
		t.Errorf("a %d KiB segment allocated %d MB, want under 100 MB", b.Len()>>10, used>>20)
	}
	t.Logf("a %d KiB segment: %d MB allocated to parse and compile", b.Len()>>10, used>>20)
}
