// Package segment turns a marketer's audience definition (YAML or JSON) into
// a parameterised SQL condition over customers, and counts, samples and
// tests membership with it. Campaigns use the same definitions for their
// audiences and branch conditions, so every rule about who is "in" lives here.
//
// A definition is validated completely when parsed: unknown fields, unknown
// operators and values of the wrong type are reported with their path and,
// for files, line and column. Field names map to SQL only through the fixed
// table in fields.go; every value travels as a query argument.
package segment

import (
	"github.com/tidingsdev/tidings/internal/spec"
)

// Definition is a parsed, validated segment. It is immutable after Parse and
// safe to compile concurrently.
type Definition struct {
	// Name identifies a saved segment; optional for inline audiences.
	Name string
	// Description is free text shown in listings.
	Description string
	// Match is the root condition.
	Match *Cond
	// Source is the text the definition was parsed from, kept so a saved
	// segment reads back exactly as it was written.
	Source []byte
	// Format is "yaml" or "json".
	Format string
}

// CondKind says what a Cond tests.
type CondKind int

// The kinds of condition.
const (
	KindAll     CondKind = iota // every child holds (an empty list matches everyone)
	KindAny                     // at least one child holds
	KindNot                     // the single child does not hold
	KindField                   // a comparison on a customer field
	KindEvent                   // the customer performed an event N times in a window
	KindConsent                 // the customer granted consent for a channel and topic
)

// Cond is one node of a definition's condition tree.
type Cond struct {
	Kind     CondKind
	Children []*Cond // all, any, not

	// Field conditions.
	Field   string   // as written, e.g. "attributes.plan"
	Attr    []string // the attribute path for attributes.* fields
	Op      string   // operator, e.g. "gte"
	Value   any      // typed by the operator: string, []string, int64, []int64, Duration, time.Time, bool, ...
	Seed    string   // bucket only: salts the hash for an independent split
	Event   *EventCond
	Consent *ConsentCond

	// Path is where the condition sits in the definition, e.g.
	// "match.all[2].locale"; Line and Column locate it in the source file.
	Path   string
	Line   int
	Column int

	def *field
}

// EventCond counts events of one type, optionally within a window and
// matching properties.
type EventCond struct {
	Type       string
	Within     *Duration
	Properties map[string]any
	Count      []Comparison // all must hold; default "gte 1"
}

// Comparison is one integer comparison (op and value or bounds).
type Comparison struct {
	Op    string
	Value any // int64, [2]int64 for between, []int64 for in
}

// ConsentCond requires granted consent for a channel and topic.
type ConsentCond struct {
	Channel string
	Topic   string
}

// Duration is a span such as 90d or 6mo (spec.Duration): measured back
// from now, months and years move by the calendar.
type Duration = spec.Duration

// Error is one problem in a definition, located by path and (for files)
// line and column.
type Error = spec.Error

// Errors is every problem found in one definition, so a marketer fixes a
// file in one pass rather than one error per attempt.
type Errors = spec.Errors

// UsesScores reports whether the definition reads the materialised scores
// (RFM, value tier), which are only as fresh as the last refresh.
func (d *Definition) UsesScores() bool {
	var walk func(c *Cond) bool
	walk = func(c *Cond) bool {
		if c == nil {
			return false
		}
		if c.Kind == KindField && c.def != nil && c.def.scored {
			return true
		}
		for _, ch := range c.Children {
			if walk(ch) {
				return true
			}
		}
		return false
	}
	return walk(d.Match)
}
