// Package spec holds what every file and input a user writes shares, so
// that campaigns, segments, schedules, the policy file and the API speak one
// language: YAML read with bounds (Decode), problems located as
// file:line:column (Error), one duration grammar (ParseDuration), and one
// rule each for names, topics, event types, locales, time zones and cron
// specs.
package spec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a file or input, located by path (e.g.
// "steps[2].send.template") and, for files, line and column.
type Error struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
	// Format and Args are Msg before formatting: the message's key, by
	// which a front door shows it in its reader's language ("" for a
	// message that has none).
	Format string
	Args   []any
}

// At returns an Error at node n of file.
func At(file string, n *yaml.Node, path, format string, args ...any) *Error {
	e := &Error{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
	e.Format, e.Args = Unwrapped(format, args)
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Error reads "file:line:column: path: message", the form editors and CI
// logs link to.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, so a user fixes it in one pass
// rather than one error per attempt.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Sort orders the problems by line and column, keeping the order of those
// found at the same place.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// Err returns es as an error, or nil when there are none.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
