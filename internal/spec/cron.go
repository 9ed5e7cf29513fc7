package spec

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a spec CheckCron accepts, for previews and catch-up.
func ParseCron(expr string) (cron.Schedule, error) {
	if err := CheckCron(expr); err != nil {
		return nil, err
	}
	return cronParser.Parse(strings.TrimSpace(expr))
}

// neverAfter is where CheckCron looks for a first firing: robfig/cron
// searches five years ahead, which holds a 29 February.
var neverAfter = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckCron is the one rule for cron specs, in campaigns and schedules
// alike: the specs that mean the same to the preview (robfig/cron) and to
// the Temporal Schedule that runs them, and that fire at all. That is five
// fields (minute hour day-of-month month day-of-week) or @hourly, @daily,
// @weekly, @monthly or @yearly; no "?", no time zone prefix (the zone is
// its own setting) and no @every (its phase differs between the two); never
// both day-of-month and day-of-week restricted, because classic cron fires
// when either matches ("0 9 13 * 5" is every 13th and every Friday) and
// Temporal only when both do; and never a date that does not exist
// ("0 9 30 2 *").
func CheckCron(expr string) error {
	expr = strings.TrimSpace(expr)
	fields := strings.Fields(expr)
	switch {
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return Problemf("%q: put the time zone in its own setting, not in the spec", expr)
	case strings.HasPrefix(expr, "@every"):
		return Problemf("%q: @every is not supported; write the five fields (e.g. \"*/30 * * * *\" for every 30 minutes)", expr)
	case strings.HasPrefix(expr, "@"):
		if _, err := cronParser.Parse(expr); err != nil {
			return Problemf("%q is not @hourly, @daily, @weekly, @monthly or @yearly", expr)
		}
		return nil
	case len(fields) != 5:
		return Problemf("%q has %d fields; expected five: minute hour day-of-month month day-of-week (or @daily, @weekly, ...)", expr, len(fields))
	case strings.Contains(expr, "?"):
		return Problemf("%q: \"?\" is not supported; use \"*\"", expr)
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return Problemf("%q: %v (expected minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 0-6 or SUN-SAT)", expr, err)
	}
	if fields[2] != "*" && fields[4] != "*" {
		return Problemf("%q restricts both day-of-month (%s) and day-of-week (%s): cron fires when either matches, Temporal only when both do; "+
			"restrict one and leave the other \"*\"", expr, fields[2], fields[4])
	}
	if sched.Next(neverAfter).IsZero() {
		return Problemf("%q never fires: day-of-month %s never occurs in month %s", expr, fields[2], fields[3])
	}
	return nil
}
