package segment

import (
	"sort"
	"strings"
)

// kind groups fields that accept the same operators and value types.
type kind int

const (
	kText      kind = iota // free text, '' when unknown
	kEnum                  // one of a fixed set of values
	kInt                   // whole numbers within [min, max]
	kNumber                // decimal numbers
	kTime                  // timestamps: durations relative to now, or dates
	kDate                  // calendar dates (birthday)
	kAge                   // whole years since the birthday
	kTags                  // text[] of tags
	kAttr                  // one custom attribute in the jsonb document
	kPresence              // only "is it known"
	kLifecycle             // stage derived from purchase history (kEnum values)
)

// field is one entry of the fixed field table. expr is the only place SQL
// identifiers come from: user input selects an entry, never writes SQL.
type field struct {
	name     string
	kind     kind
	expr     string // SQL over "c" (customers) or "cs" (customer_scores) when scored
	nullable bool   // the column can be NULL (exists tests IS NOT NULL)
	scored   bool   // lives in customer_scores
	enum     []string
	min, max int64
	help     string // one line for error messages and the reference
}

// Lifecycle stages, in the order their rules are tried (see docs/segments.md).
const (
	StageNew      = "new"
	StageProspect = "prospect"
	StageLoyal    = "loyal"
	StageActive   = "active"
	StageAtRisk   = "at_risk"
	StageLapsed   = "lapsed"
)

// Lifecycle thresholds. They are part of the documented definition of each
// stage, so changing one is a behaviour change for every saved segment.
const (
	newDays     = 30  // joined or first purchase at most this long ago
	activeDays  = 90  // last purchase at most this long ago: active or loyal
	atRiskDays  = 180 // last purchase between activeDays and this: at risk
	loyalOrders = 3   // orders needed to be loyal rather than active
)

// Value tiers, derived from the monetary quintile at refresh time.
const (
	TierHigh = "high"
	TierMid  = "mid"
	TierLow  = "low"
)

var fields = map[string]*field{
	"external_id": {name: "external_id", kind: kText, expr: "c.external_id", help: "your own customer ID"},
	"email":       {name: "email", kind: kPresence, expr: "c.email", nullable: true, help: "whether an email address is known"},
	"phone":       {name: "phone", kind: kPresence, expr: "c.phone", nullable: true, help: "whether a phone number is known"},
	"gender":      {name: "gender", kind: kText, expr: "c.gender", help: "as imported"},
	"locale":      {name: "locale", kind: kText, expr: "c.locale", help: "BCP 47 tag, e.g. en, zh-CN"},
	"country":     {name: "country", kind: kText, expr: "c.country", help: "as imported, e.g. US"},
	"region":      {name: "region", kind: kText, expr: "c.region", help: "state or province"},
	"city":        {name: "city", kind: kText, expr: "c.city", help: "city"},
	"time_zone":   {name: "time_zone", kind: kText, expr: "c.time_zone", help: "IANA zone, e.g. Asia/Shanghai"},
	"age":         {name: "age", kind: kAge, expr: "c.birthday", nullable: true, min: 0, max: 150, help: "whole years since the birthday"},
	"birthday":    {name: "birthday", kind: kDate, expr: "c.birthday", nullable: true, help: "date of birth"},

	"orders_count":      {name: "orders_count", kind: kInt, expr: "c.orders_count", min: 0, max: 1 << 31, help: "number of purchases"},
	"total_spent":       {name: "total_spent", kind: kNumber, expr: "c.total_spent", help: "sum of purchase amounts"},
	"first_purchase_at": {name: "first_purchase_at", kind: kTime, expr: "c.first_purchase_at", nullable: true, help: "time of the first purchase"},
	"last_purchase_at":  {name: "last_purchase_at", kind: kTime, expr: "c.last_purchase_at", nullable: true, help: "time of the latest purchase"},
	"last_seen_at":      {name: "last_seen_at", kind: kTime, expr: "c.last_seen_at", nullable: true, help: "time of the latest event of any kind"},
	"created_at":        {name: "created_at", kind: kTime, expr: "c.created_at", help: "when the customer was first stored"},

	"tags": {name: "tags", kind: kTags, expr: "c.tags", help: "tags on the profile"},

	"rfm.recency":   {name: "rfm.recency", kind: kInt, expr: "cs.recency", scored: true, min: 0, max: 5, help: "recency quintile, 5 = bought most recently, 0 = never bought"},
	"rfm.frequency": {name: "rfm.frequency", kind: kInt, expr: "cs.frequency", scored: true, min: 0, max: 5, help: "frequency quintile, 5 = most orders, 0 = never bought"},
	"rfm.monetary":  {name: "rfm.monetary", kind: kInt, expr: "cs.monetary", scored: true, min: 0, max: 5, help: "monetary quintile, 5 = spent most, 0 = never bought"},
	"value_tier":    {name: "value_tier", kind: kEnum, expr: "cs.value_tier", scored: true, enum: []string{TierHigh, TierMid, TierLow}, help: "high = top 20% by spend, mid = next 40%, low = the rest"},
	"lifecycle":     {name: "lifecycle", kind: kLifecycle, enum: []string{StageNew, StageProspect, StageLoyal, StageActive, StageAtRisk, StageLapsed}, help: "stage from purchase history"},
	"bucket":        {name: "bucket", kind: kInt, expr: "c.bucket", min: 0, max: 99, help: "stable random 0-99 for holdouts and splits"},
}

// attrField is the shared entry for every attributes.* path.
var attrField = &field{name: "attributes", kind: kAttr, expr: "c.attributes", help: "custom attribute, e.g. attributes.plan"}

// opsByKind lists each kind's operators and what value each expects.
var opsByKind = map[kind]map[string]valueType{
	kText:      {"eq": vText, "ne": vText, "in": vTextList, "not_in": vTextList, "starts_with": vText, "exists": vBool},
	kEnum:      {"eq": vEnum, "ne": vEnum, "in": vEnumList, "not_in": vEnumList},
	kLifecycle: {"eq": vEnum, "ne": vEnum, "in": vEnumList, "not_in": vEnumList},
	kInt:       {"eq": vInt, "ne": vInt, "gt": vInt, "gte": vInt, "lt": vInt, "lte": vInt, "between": vIntPair, "in": vIntList, "not_in": vIntList},
	kAge:       {"eq": vInt, "ne": vInt, "gt": vInt, "gte": vInt, "lt": vInt, "lte": vInt, "between": vIntPair, "in": vIntList, "not_in": vIntList, "exists": vBool},
	kNumber:    {"eq": vNum, "ne": vNum, "gt": vNum, "gte": vNum, "lt": vNum, "lte": vNum, "between": vNumPair},
	kTime:      {"within": vDuration, "older_than": vDuration, "before": vTime, "after": vTime, "exists": vBool},
	kDate:      {"before": vTime, "after": vTime, "exists": vBool},
	kTags:      {"has": vText, "any": vTextList, "all": vTextList, "none": vTextList},
	kAttr:      {"eq": vScalar, "ne": vScalar, "in": vScalarList, "not_in": vScalarList, "gt": vNum, "gte": vNum, "lt": vNum, "lte": vNum, "between": vNumPair, "exists": vBool},
	kPresence:  {"exists": vBool},
}

// shorthand is the operator implied by a bare value: `locale: en` means eq,
// `tags: vip` means has, `email: true` means exists.
func (f *field) shorthand(isList bool) string {
	switch {
	case f.kind == kTags && !isList:
		return "has"
	case f.kind == kPresence && !isList:
		return "exists"
	case isList:
		if _, ok := opsByKind[f.kind]["in"]; ok {
			return "in"
		}
		return ""
	default:
		if _, ok := opsByKind[f.kind]["eq"]; ok {
			return "eq"
		}
		return ""
	}
}

// lookupField resolves a field name from the table (or an attributes path).
func lookupField(name string) (*field, []string, bool) {
	if f, ok := fields[name]; ok {
		return f, nil, true
	}
	if rest, ok := strings.CutPrefix(name, "attributes."); ok {
		path := strings.Split(rest, ".")
		for _, p := range path {
			if p == "" {
				return nil, nil, false
			}
		}
		return attrField, path, true
	}
	return nil, nil, false
}

// fieldNames lists every field name for "expected" messages.
func fieldNames() []string {
	names := make([]string, 0, len(fields)+1)
	for n := range fields {
		names = append(names, n)
	}
	names = append(names, "attributes.NAME")
	sort.Strings(names)
	return names
}

func opNames(k kind) []string {
	names := make([]string, 0, len(opsByKind[k]))
	for n := range opsByKind[k] {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// closest suggests the known name nearest to s (edit distance at most 2).
func closest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
