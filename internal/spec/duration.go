package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Duration is a span as users write it: a whole number and a unit.
//
//	s seconds   m minutes   h hours   d days   w weeks   mo months   y years
//
// Every file and setting takes this one grammar (30m, 12h, 3d, 2w, 6mo,
// 1y). Measured back from a moment (a segment's "within 3mo"), months and
// years are calendar ones; as a fixed length (a wait, a cap's window) a
// month is 30 days and a year 365.
type Duration struct {
	N    int
	Unit string // s, m, h, d, w, mo or y
}

// MaxDurationN is the largest number a duration takes (99999).
const MaxDurationN = 99_999

var durationRE = regexp.MustCompile(`^([0-9]{1,5})(s|m|h|d|w|mo|y)$`)

// fixed is each unit's length when a fixed length is needed.
var fixed = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "mo": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
}

// ParseDuration reads a duration greater than zero in the one grammar.
func ParseDuration(s string) (Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return Duration{}, Problemf("%q: expected a duration such as 30m, 12h, 3d, 2w or 6mo (a whole number and one of s, m, h, d, w, mo, y)", s)
	}
	n, _ := strconv.Atoi(m[1])
	if n == 0 {
		return Duration{}, Problemf("%q: expected a duration greater than zero", s)
	}
	return Duration{N: n, Unit: m[2]}, nil
}

// Fixed is the duration as a fixed length (a month 30 days, a year 365).
func (d Duration) Fixed() time.Duration { return time.Duration(d.N) * fixed[d.Unit] }

// Before returns the instant d before t, moving months and years by the
// calendar and the other units by their fixed length (a day is 24 hours
// except that it keeps t's wall-clock time across a daylight-saving change).
func (d Duration) Before(t time.Time) time.Time {
	switch d.Unit {
	case "d":
		return t.AddDate(0, 0, -d.N)
	case "w":
		return t.AddDate(0, 0, -7*d.N)
	case "mo":
		return t.AddDate(0, -d.N, 0)
	case "y":
		return t.AddDate(-d.N, 0, 0)
	}
	return t.Add(-d.Fixed())
}

func (d Duration) String() string { return strconv.Itoa(d.N) + d.Unit }

// FormatDuration writes a fixed length in the grammar, in the largest unit
// that divides it (a week, a day, an hour, a minute, a second), so what a
// command prints can be pasted back into a file.
func FormatDuration(t time.Duration) string {
	for _, u := range []string{"w", "d", "h", "m"} {
		if t >= fixed[u] && t%fixed[u] == 0 {
			return fmt.Sprintf("%d%s", t/fixed[u], u)
		}
	}
	return fmt.Sprintf("%ds", t/time.Second)
}
