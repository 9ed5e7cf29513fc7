// Package reports computes the numbers a marketer judges customer care by:
// NPS and CSAT, uplift with its uncertainty, retention, value and
// deliverability. The counting happens in PostgreSQL (internal/store); this
// package turns the counts into the defined figures, one function per
// report, each result shaped for a table and a chart alike: rows carry a
// label, time rows come oldest first with empty periods included, and every
// figure that has no data is nil rather than a misleading zero.
//
// The formulas are written out in docs/reports.md.
package reports

import (
	"errors"
	"fmt"
	"time"
)

// InputError is a query the reports refuse, naming the field; the API
// answers it with 400 and the CLI with a usage error.
type InputError struct {
	Field   string
	Message string
	// Format and Args are Message before formatting: its key, by which a
	// front door shows it in its reader's language.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Named is err, a problem ParseTime found, as field's (the since or until
// of a period, a report's at).
func Named(field string, err error) error {
	var ie *InputError
	if !errors.As(err, &ie) {
		return &InputError{Field: field, Message: err.Error()}
	}
	out := *ie
	out.Field = field
	return &out
}

// InputErrorf is a problem with a field of a report's query.
func InputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

func inputErrorf(field, format string, args ...any) error { return InputErrorf(field, format, args...) }

// Period is the half-open time range [Since, Until) a report covers.
type Period struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
}

// maxSpan bounds a report's period, so a typo in a date cannot ask for
// thousands of weekly rows.
const maxSpan = 10 * 366 * 24 * time.Hour

func (p Period) check() error {
	switch {
	case p.Since.IsZero():
		return inputErrorf("since", "is required")
	case p.Until.IsZero():
		return inputErrorf("until", "is required")
	case !p.Until.After(p.Since):
		return inputErrorf("until", "must be after since (%s)", p.Since.Format(time.DateOnly))
	case p.Until.Sub(p.Since) > maxSpan:
		return inputErrorf("since", "the period may span at most 10 years")
	}
	return nil
}

// weeks lists the ISO weeks (2026-W14) that [since, until) touches, in UTC,
// oldest first.
func weeks(p Period) []string {
	since := p.Since.UTC()
	day := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, time.UTC)
	day = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // back to Monday
	var out []string
	for ; day.Before(p.Until); day = day.AddDate(0, 0, 7) {
		y, w := day.ISOWeek()
		out = append(out, fmt.Sprintf("%04d-W%02d", y, w))
	}
	return out
}

// months lists the months (2026-04) that [since, until) touches, in UTC,
// oldest first.
func months(p Period) []string {
	since := p.Since.UTC()
	m := time.Date(since.Year(), since.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for ; m.Before(p.Until); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

// ratio is n/d, or nil when d is 0.
func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// ParsePeriod reads a report's since and until as the CLI flags and the API
// query parameters give them: a date (2026-03-01, midnight UTC), an RFC 3339
// time, or an age before now (90d, 12w). An empty until is now; an empty
// since is def. Until is exclusive.
func ParsePeriod(since, until string, now, def time.Time) (Period, error) {
	p := Period{Since: def, Until: now}
	var err error
	if since != "" {
		if p.Since, err = ParseTime(since, now); err != nil {
			return Period{}, Named("since", err)
		}
	}
	if until != "" {
		if p.Until, err = ParseTime(until, now); err != nil {
			return Period{}, Named("until", err)
		}
	}
	return p, p.check()
}

// ParseTime reads one moment as reports take it: a date (midnight UTC), an
// RFC 3339 time, or an age before now (90d, 12w); what it refuses names no
// field (For names one).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if k, ok := days(s); ok {
		return now.AddDate(0, 0, -k), nil
	}
	return time.Time{}, InputErrorf("", "%q is not a date (2026-03-01), a time (RFC 3339) or an age (90d, 12w)", s)
}

// days reads a number of days (90d) or weeks (12w) as days.
func days(s string) (int, bool) {
	n := len(s)
	if n < 2 || (s[n-1] != 'd' && s[n-1] != 'w') {
		return 0, false
	}
	var k int
	if _, err := fmt.Sscanf(s[:n-1], "%d", &k); err != nil || k <= 0 || fmt.Sprint(k) != s[:n-1] {
		return 0, false
	}
	if s[n-1] == 'w' {
		k *= 7
	}
	return k, true
}

// MonthsBack is the first day (UTC) of the month n−1 months before now's:
// the start of a default period showing n calendar months, this one
// included.
func MonthsBack(now time.Time, n int) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month()-time.Month(n-1), 1, 0, 0, 0, 0, time.UTC)
}
