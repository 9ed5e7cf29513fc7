package spec

import (
	"strings"
	"testing"
	"time"
)

func TestParseDurationTakesEverySpellingInUse(t *testing.T) {
	day := 24 * time.Hour
	// Every duration the examples, the docs and the built-in files write,
	// in all three places that read durations, and the units they lacked.
	for _, tc := range []struct {
		in    string
		fixed time.Duration
	}{
		{"30m", 30 * time.Minute}, {"12h", 12 * time.Hour}, {"36h", 36 * time.Hour}, {"200h", 200 * time.Hour},
		{"1d", day}, {"3d", 3 * day}, {"90d", 90 * day}, {"180d", 180 * day},
		{"2w", 14 * day}, {"6w", 42 * day}, {"3mo", 90 * day}, {"6mo", 180 * day}, {"1y", 365 * day},
		{"10s", 10 * time.Second}, {"99999m", 99999 * time.Minute},
	} {
		d, err := ParseDuration(tc.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tc.in, err)
			continue
		}
		if d.Fixed() != tc.fixed || d.String() != tc.in {
			t.Errorf("ParseDuration(%q) = %v (%s fixed), want %s", tc.in, d, d.Fixed(), tc.fixed)
		}
	}
}

func TestParseDurationRefusesWithTheGrammar(t *testing.T) {
	for _, in := range []string{"", "3", "3 days", "2 days", "1.5h", "-1d", "1h30m", "3D", "3 d", "3days", "100000d", "d", "mo", "P3D"} {
		_, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), "expected a duration such as 30m, 12h, 3d, 2w or 6mo") {
			t.Errorf("ParseDuration(%q) = %v, want the grammar in the error", in, err)
		}
	}
	if _, err := ParseDuration("0d"); err == nil || !strings.Contains(err.Error(), "greater than zero") {
		t.Errorf("ParseDuration(0d) = %v, want greater than zero", err)
	}
}

func TestDurationBeforeMovesMonthsByTheCalendar(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 3, 31, 9, 0, 0, 0, sh)
	for _, tc := range []struct{ d, want string }{
		{"1mo", "2026-03-03T09:00:00+08:00"}, // 31 February normalises to 3 March
		{"1y", "2025-03-31T09:00:00+08:00"},
		{"2w", "2026-03-17T09:00:00+08:00"},
		{"36h", "2026-03-29T21:00:00+08:00"},
		{"90m", "2026-03-31T07:30:00+08:00"},
	} {
		d, _ := ParseDuration(tc.d)
		if got := d.Before(at).Format(time.RFC3339); got != tc.want {
			t.Errorf("%s before %s = %s, want %s", tc.d, at.Format(time.RFC3339), got, tc.want)
		}
	}
	// A day keeps the wall-clock time across a change to summer time.
	ny, _ := time.LoadLocation("America/New_York")
	d, _ := ParseDuration("1d")
	if got := d.Before(time.Date(2026, 3, 9, 9, 0, 0, 0, ny)); got.Hour() != 9 || got.Day() != 8 {
		t.Errorf("1d before 9 March 09:00 New York = %s, want 8 March 09:00", got)
	}
}

func TestFormatDurationReadsBack(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{12 * time.Hour, "12h"}, {14 * 24 * time.Hour, "2w"}, {30 * 24 * time.Hour, "30d"}, {90 * time.Minute, "90m"}, {45 * time.Second, "45s"},
	} {
		got := FormatDuration(tc.in)
		if got != tc.want {
			t.Errorf("FormatDuration(%s) = %s, want %s", tc.in, got, tc.want)
		}
		if d, err := ParseDuration(got); err != nil || d.Fixed() != tc.in {
			t.Errorf("%s does not read back as %s: %v %v", got, tc.in, d, err)
		}
	}
}
