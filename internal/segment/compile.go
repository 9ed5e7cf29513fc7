package segment

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// From is the FROM clause every compiled condition is written against:
// customers as "c" and their materialised scores as "cs". PostgreSQL drops
// the join when a condition reads no score, and a customer added since the
// last refresh has NULL scores and matches no score condition.
const From = "customers c LEFT JOIN customer_scores cs ON cs.customer_id = c.id"

// Compile turns the definition into a boolean SQL expression over From,
// with $1..$n placeholders and their arguments. Durations, ages and
// lifecycle stages are evaluated relative to now, so the same definition and
// now always select the same customers. Use it as
//
//	SELECT ... FROM <segment.From> WHERE <where>
func (d *Definition) Compile(now time.Time) (where string, args []any, err error) {
	return d.CompileAfter(now, nil)
}

// CompileAfter is Compile with the placeholders numbered after args, which
// are returned first: callers add their own parameters (a keyset cursor, a
// campaign ID) before or after the segment's without renumbering.
//
// An erased customer's tombstone is in no segment: what made them match is
// gone, and counting it would let every erasure grow an audience, enter a
// campaign and sit in its holdout.
func (d *Definition) CompileAfter(now time.Time, args []any) (where string, allArgs []any, err error) {
	if d == nil || d.Match == nil {
		return "", nil, fmt.Errorf("compile segment: empty definition")
	}
	c := &compiler{now: now, args: append([]any(nil), args...), cutoffs: map[time.Time]string{}}
	where, err = c.cond(d.Match)
	if err != nil {
		return "", nil, fmt.Errorf("compile segment %s: %w", d.Name, err)
	}
	return "c.erased_at IS NULL AND (" + where + ")", c.args, nil
}

type compiler struct {
	now     time.Time
	args    []any
	cutoffs map[time.Time]string // one placeholder per distinct cutoff instant
}

func (c *compiler) arg(v any, cast string) string {
	c.args = append(c.args, v)
	return fmt.Sprintf("$%d::%s", len(c.args), cast)
}

// cutoff is a timestamptz argument shared by every use of the same instant
// (lifecycle rules repeat theirs several times).
func (c *compiler) cutoff(t time.Time) string {
	if ph, ok := c.cutoffs[t]; ok {
		return ph
	}
	ph := c.arg(t, "timestamptz")
	c.cutoffs[t] = ph
	return ph
}

func (c *compiler) cond(k *Cond) (string, error) {
	switch k.Kind {
	case KindAll, KindAny:
		if len(k.Children) == 0 {
			if k.Kind == KindAll {
				return "TRUE", nil
			}
			return "FALSE", nil
		}
		sep := " AND "
		if k.Kind == KindAny {
			sep = " OR "
		}
		parts := make([]string, 0, len(k.Children))
		for _, ch := range k.Children {
			s, err := c.cond(ch)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return "(" + strings.Join(parts, sep) + ")", nil
	case KindNot:
		// IS NOT TRUE, not NOT: "not bought within 90d" must include the
		// customers who never bought, for whom the inner test is NULL.
		s, err := c.cond(k.Children[0])
		if err != nil {
			return "", err
		}
		return "(" + s + ") IS NOT TRUE", nil
	case KindField:
		return c.field(k)
	case KindEvent:
		return c.event(k.Event)
	case KindConsent:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM consents k WHERE k.customer_id = c.id AND k.channel = %s AND k.topic = %s AND k.status = 'granted')",
			c.arg(k.Consent.Channel, "text"), c.arg(k.Consent.Topic, "text")), nil
	}
	return "", fmt.Errorf("%s: unsupported condition", k.Path)
}

var sqlOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

func (c *compiler) field(k *Cond) (string, error) {
	f := k.def
	if f == nil {
		return "", fmt.Errorf("%s: condition was not parsed", k.Path)
	}
	var (
		s   string
		err error
	)
	switch f.kind {
	case kText, kEnum:
		s = c.text(f, k.Op, k.Value)
	case kInt:
		col := f.expr
		if f.name == "bucket" && k.Seed != "" {
			a, b := seedCoefficients(k.Seed)
			col = fmt.Sprintf("(((c.bucket_hash %% %[1]d) * %[2]s + %[3]s) %% %[1]d %% 100)", bucketPrime, c.arg(a, "bigint"), c.arg(b, "bigint"))
		}
		s = c.ints(col, k.Op, k.Value)
	case kNumber:
		s = c.numeric(f.expr, k.Op, k.Value)
	case kAge:
		s = c.age(k.Op, k.Value)
	case kTime:
		s = c.times(f, k.Op, k.Value)
	case kDate:
		s = c.dates(f, k.Op, k.Value)
	case kTags:
		s = c.tags(f.expr, k.Op, k.Value)
	case kAttr:
		s, err = c.attr(k.Attr, k.Op, k.Value)
	case kPresence:
		s = presence(f, k.Value.(bool))
	case kLifecycle:
		s = c.lifecycle(k.Op, k.Value)
	default:
		err = fmt.Errorf("%s: unsupported field kind", k.Path)
	}
	if err != nil {
		return "", err
	}
	return s, nil
}

func (c *compiler) text(f *field, op string, v any) string {
	col := f.expr
	switch op {
	case "in":
		return fmt.Sprintf("%s = ANY(%s)", col, c.arg(v, "text[]"))
	case "not_in":
		return fmt.Sprintf("%s <> ALL(%s)", col, c.arg(v, "text[]"))
	case "starts_with":
		return fmt.Sprintf("starts_with(%s, %s)", col, c.arg(v, "text"))
	case "exists":
		return presence(f, v.(bool))
	default:
		return fmt.Sprintf("%s %s %s", col, sqlOps[op], c.arg(v, "text"))
	}
}

// presence tests whether a field is known: not NULL and, for text, not empty.
func presence(f *field, want bool) string {
	var s string
	switch {
	case f.kind == kText || f.kind == kPresence:
		s = fmt.Sprintf("coalesce(%s, '') <> ''", f.expr)
	default:
		s = f.expr + " IS NOT NULL"
	}
	if !want {
		return "NOT (" + s + ")"
	}
	return s
}

func (c *compiler) ints(col, op string, v any) string {
	switch op {
	case "between":
		p := v.([2]int64)
		return fmt.Sprintf("%s BETWEEN %s AND %s", col, c.arg(p[0], "bigint"), c.arg(p[1], "bigint"))
	case "in":
		return fmt.Sprintf("%s = ANY(%s)", col, c.arg(v, "bigint[]"))
	case "not_in":
		return fmt.Sprintf("%s <> ALL(%s)", col, c.arg(v, "bigint[]"))
	default:
		return fmt.Sprintf("%s %s %s", col, sqlOps[op], c.arg(v, "bigint"))
	}
}

// numeric compares with exact decimals: the number travels as its literal
// text and PostgreSQL converts it, so 19.99 stays 19.99.
func (c *compiler) numeric(col, op string, v any) string {
	if op == "between" {
		p := v.([2]string)
		return fmt.Sprintf("%s BETWEEN %s::numeric AND %s::numeric", col, c.arg(p[0], "text"), c.arg(p[1], "text"))
	}
	return fmt.Sprintf("%s %s %s::numeric", col, sqlOps[op], c.arg(v, "text"))
}

// age compares birthdays with dates computed here, so "age >= 30" becomes
// "born on or before this day 30 years ago" and can use an index.
func (c *compiler) age(op string, v any) string {
	today := time.Date(c.now.UTC().Year(), c.now.UTC().Month(), c.now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	atLeast := func(n int64) string { // age >= n
		return "c.birthday <= " + c.arg(today.AddDate(-int(n), 0, 0), "date")
	}
	atMost := func(n int64) string { // age <= n
		return "c.birthday > " + c.arg(today.AddDate(-int(n)-1, 0, 0), "date")
	}
	exactly := func(n int64) string { return "(" + atLeast(n) + " AND " + atMost(n) + ")" }
	anyOf := func(ns []int64) string {
		parts := make([]string, len(ns))
		for i, n := range ns {
			parts[i] = exactly(n)
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	}
	switch op {
	case "eq":
		return exactly(v.(int64))
	case "ne":
		return "(c.birthday IS NOT NULL AND NOT " + exactly(v.(int64)) + ")"
	case "gte":
		return atLeast(v.(int64))
	case "gt":
		return atLeast(v.(int64) + 1)
	case "lte":
		return atMost(v.(int64))
	case "lt":
		return atMost(v.(int64) - 1)
	case "between":
		p := v.([2]int64)
		return "(" + atLeast(p[0]) + " AND " + atMost(p[1]) + ")"
	case "in":
		return anyOf(v.([]int64))
	case "not_in":
		return "(c.birthday IS NOT NULL AND NOT " + anyOf(v.([]int64)) + ")"
	default: // exists
		return presence(fields["age"], v.(bool))
	}
}

func (c *compiler) times(f *field, op string, v any) string {
	switch op {
	case "within":
		return fmt.Sprintf("%s >= %s", f.expr, c.cutoff(v.(Duration).Before(c.now)))
	case "older_than":
		return fmt.Sprintf("%s < %s", f.expr, c.cutoff(v.(Duration).Before(c.now)))
	case "before":
		return fmt.Sprintf("%s < %s", f.expr, c.arg(v, "timestamptz"))
	case "after":
		return fmt.Sprintf("%s >= %s", f.expr, c.arg(v, "timestamptz"))
	default:
		return presence(f, v.(bool))
	}
}

func (c *compiler) dates(f *field, op string, v any) string {
	switch op {
	case "before":
		return fmt.Sprintf("%s < %s", f.expr, c.arg(v, "date"))
	case "after":
		return fmt.Sprintf("%s >= %s", f.expr, c.arg(v, "date"))
	default:
		return presence(f, v.(bool))
	}
}

func (c *compiler) tags(col, op string, v any) string {
	switch op {
	case "has":
		return fmt.Sprintf("%s @> %s", col, c.arg([]string{v.(string)}, "text[]"))
	case "all":
		return fmt.Sprintf("%s @> %s", col, c.arg(v, "text[]"))
	case "any":
		return fmt.Sprintf("%s && %s", col, c.arg(v, "text[]"))
	default: // none
		return fmt.Sprintf("NOT (%s && %s)", col, c.arg(v, "text[]"))
	}
}

// attr compiles a custom attribute test. Equality is JSON containment, so it
// keeps the value's type ("10" is not 10) and uses the GIN index; ordering
// compares numbers only, and customers whose value is not a number never
// match. The attribute path is an argument, never part of the SQL text.
func (c *compiler) attr(path []string, op string, v any) (string, error) {
	contains := func(val any) (string, error) {
		var doc any = val
		for i := len(path) - 1; i >= 0; i-- {
			doc = map[string]any{path[i]: doc}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return "", fmt.Errorf("attribute %s: %w", strings.Join(path, "."), err)
		}
		return fmt.Sprintf("c.attributes @> %s::jsonb", c.arg(string(b), "text")), nil
	}
	anyOf := func(vals []any) (string, error) {
		parts := make([]string, len(vals))
		for i, val := range vals {
			s, err := contains(val)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, " OR ") + ")", nil
	}
	switch op {
	case "eq":
		return contains(v)
	case "ne":
		s, err := contains(v)
		return "NOT " + s, err
	case "in":
		return anyOf(v.([]any))
	case "not_in":
		s, err := anyOf(v.([]any))
		return "NOT " + s, err
	case "exists":
		s := fmt.Sprintf("coalesce(jsonb_typeof(c.attributes #> %s), 'null') <> 'null'", c.arg(path, "text[]"))
		if !v.(bool) {
			return "NOT (" + s + ")", nil
		}
		return s, nil
	}
	p := c.arg(path, "text[]")
	num := fmt.Sprintf("(CASE WHEN jsonb_typeof(c.attributes #> %s) = 'number' THEN (c.attributes #>> %s)::numeric END)", p, p)
	return c.numeric(num, op, v), nil
}

// lifecycleStages returns a builder of each stage's predicate (builders, so
// only the cutoffs a stage uses become arguments). The stages are disjoint
// and cover every customer (see docs/segments.md for the rules in words):
//
//	new       first purchase within 30 days, or no purchase and joined within 30 days
//	prospect  no purchase, joined more than 30 days ago
//	loyal     last purchase within 90 days and at least 3 orders
//	active    last purchase within 90 days, fewer than 3 orders
//	at_risk   last purchase 90 to 180 days ago
//	lapsed    last purchase more than 180 days ago
func (c *compiler) lifecycleStages() map[string]func() string {
	n := func() string { return c.cutoff(c.now.AddDate(0, 0, -newDays)) }
	a := func() string { return c.cutoff(c.now.AddDate(0, 0, -activeDays)) }
	r := func() string { return c.cutoff(c.now.AddDate(0, 0, -atRiskDays)) }
	old := func() string { return fmt.Sprintf("(c.first_purchase_at IS NULL OR c.first_purchase_at < %s)", n()) }
	return map[string]func() string{
		StageNew: func() string {
			return fmt.Sprintf("(c.first_purchase_at >= %[1]s OR (c.last_purchase_at IS NULL AND c.created_at >= %[1]s))", n())
		},
		StageProspect: func() string {
			return fmt.Sprintf("(c.last_purchase_at IS NULL AND c.created_at < %s AND %s)", n(), old())
		},
		StageLoyal: func() string {
			return fmt.Sprintf("(c.last_purchase_at >= %s AND c.orders_count >= %d AND %s)", a(), loyalOrders, old())
		},
		StageActive: func() string {
			return fmt.Sprintf("(c.last_purchase_at >= %s AND c.orders_count < %d AND %s)", a(), loyalOrders, old())
		},
		StageAtRisk: func() string {
			return fmt.Sprintf("(c.last_purchase_at >= %s AND c.last_purchase_at < %s AND %s)", r(), a(), old())
		},
		StageLapsed: func() string {
			return fmt.Sprintf("(c.last_purchase_at < %s AND %s)", r(), old())
		},
	}
}

func (c *compiler) lifecycle(op string, v any) string {
	stages := c.lifecycleStages()
	var names []string
	switch val := v.(type) {
	case string:
		names = []string{val}
	case []string:
		names = val
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = stages[n]()
	}
	s := "(" + strings.Join(parts, " OR ") + ")"
	if op == "ne" || op == "not_in" {
		return "(" + s + " IS NOT TRUE)"
	}
	return s
}

// LifecycleCase is a SQL expression over From (customers c) naming each
// customer's lifecycle stage as of now by the rules segments use, with its
// placeholders numbered after args; it returns args with its own appended.
// Reports store it per month, so their stages and segments' agree.
func LifecycleCase(now time.Time, args []any) (string, []any) {
	c := &compiler{now: now, args: args, cutoffs: map[time.Time]string{}}
	expr := c.lifecycleCase()
	return expr, c.args
}

// lifecycleCase is a SQL expression naming each customer's stage, for
// previews and reports.
func (c *compiler) lifecycleCase() string {
	stages := c.lifecycleStages()
	var b strings.Builder
	b.WriteString("CASE")
	for _, name := range fields["lifecycle"].enum {
		fmt.Fprintf(&b, " WHEN %s THEN '%s'", stages[name](), name)
	}
	b.WriteString(" END")
	return b.String()
}

// event counts matching events per customer. "At least once" is a plain
// EXISTS; other counts aggregate once over the events table and join, and
// counts that zero satisfies (lt, lte, eq 0) become an anti-join, so
// customers with no events at all are included.
func (c *compiler) event(ev *EventCond) (string, error) {
	where := []string{"e.type = " + c.arg(ev.Type, "text")}
	if ev.Within != nil {
		where = append(where, "e.occurred_at >= "+c.cutoff(ev.Within.Before(c.now)))
	}
	if len(ev.Properties) > 0 {
		b, err := json.Marshal(ev.Properties)
		if err != nil {
			return "", fmt.Errorf("event properties: %w", err)
		}
		where = append(where, "e.properties @> "+c.arg(string(b), "text")+"::jsonb")
	}
	if len(ev.Count) == 1 && atLeastOnce(ev.Count[0]) {
		return "EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND " + strings.Join(where, " AND ") + ")", nil
	}
	zeroOK := true
	having := make([]string, len(ev.Count))
	for i, cmp := range ev.Count {
		zeroOK = zeroOK && cmp.holdsForZero()
		having[i] = c.ints("count(*)", cmp.Op, cmp.Value)
	}
	h := strings.Join(having, " AND ")
	if zeroOK {
		h = "NOT (" + h + ")"
	}
	sub := fmt.Sprintf("EXISTS (SELECT 1 FROM (SELECT e.customer_id FROM events e WHERE %s GROUP BY e.customer_id HAVING %s) n WHERE n.customer_id = c.id)",
		strings.Join(where, " AND "), h)
	if zeroOK {
		return "NOT " + sub, nil
	}
	return sub, nil
}

func atLeastOnce(cmp Comparison) bool {
	v, ok := cmp.Value.(int64)
	return ok && ((cmp.Op == "gte" && v == 1) || (cmp.Op == "gt" && v == 0))
}

// holdsForZero reports whether a customer with no matching events passes.
func (cmp Comparison) holdsForZero() bool {
	switch v := cmp.Value.(type) {
	case int64:
		switch cmp.Op {
		case "eq":
			return v == 0
		case "ne":
			return v != 0
		case "gt":
			return false
		case "gte":
			return v == 0
		case "lt":
			return v > 0
		case "lte":
			return true
		}
	case [2]int64:
		return v[0] == 0
	case []int64:
		in := false
		for _, x := range v {
			in = in || x == 0
		}
		return in == (cmp.Op == "in")
	}
	return false
}
