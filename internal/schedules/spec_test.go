package schedules

import (
	"strings"
	"testing"
	"time"
)

func TestPreviewIsInTheSchedulesZone(t *testing.T) {
	from := time.Date(2026, 3, 7, 23, 0, 0, 0, time.UTC) // Saturday, 07:00 Sunday in Shanghai
	got, err := Preview("30 9 * * MON-FRI", "Asia/Shanghai", from, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-03-09T09:30:00+08:00", "2026-03-10T09:30:00+08:00", "2026-03-11T09:30:00+08:00"}
	for i, w := range want {
		if got[i].Format(time.RFC3339) != w {
			t.Errorf("fire %d = %s, want %s", i, got[i].Format(time.RFC3339), w)
		}
	}
	// New York moves to summer time on 2026-03-08: 09:00 local stays 09:00.
	ny, _ := Preview("0 9 * * *", "America/New_York", from, 2)
	if ny[0].Format(time.RFC3339) != "2026-03-08T09:00:00-04:00" || ny[1].UTC().Hour() != 13 {
		t.Errorf("New York previews %v, want 09:00 local across the DST change", ny)
	}
}

const goodFile = `# recurring work
schedules:
  - id: birthday-sweep
    cron: "0 * * * *"
    run: birthday_sweep
  - id: vip-holiday
    calendar: {minute: "0", hour: "10", day_of_month: "24", month: "12"}
    time_zone: Asia/Taipei
    run: care_send
    template: holiday_greeting
    topic: care
    audience: vip
    paused: true
`

func TestParseReadsCronAndCalendar(t *testing.T) {
	f, err := Parse("s.yaml", []byte(goodFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Schedules) != 2 || f.Schedules[1].Spec() != "0 10 24 12 *" || f.Schedules[0].Zone() != "UTC" || !f.Schedules[1].Paused {
		t.Fatalf("parsed %+v", f.Schedules)
	}
}

func TestParseNamesLineAndColumnOfEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"bad YAML", "schedules:\n  - id: a\n    cron: \"0 * * * *\n", []string{"s.yaml:3:"}},
		{"tab indentation", "schedules:\n\t- id: a\n", []string{"s.yaml:2:"}},
		{"unknown field", "schedules:\n  - id: a\n    cron: \"0 * * * *\"\n    run: birthday_sweep\n    timezone: UTC\n", []string{"s.yaml:5:", "timezone"}},
		{"wrong type", "schedules:\n  - id: a\n    cron: \"0 * * * *\"\n    run: birthday_sweep\n    paused: sometimes\n", []string{"s.yaml:5:", "sometimes"}},
		{"DOM and DOW", "schedules:\n  - id: fri13\n    cron: \"0 9 13 * FRI\"\n    run: winback_sweep\n", []string{`s.yaml:3:11: schedule "fri13": cron:`, "either matches", "both do"}},
		{"DOM and DOW in a calendar", "schedules:\n  - id: c\n    calendar: {day_of_month: \"1\", day_of_week: \"MON\"}\n    run: winback_sweep\n", []string{"s.yaml:3:15:", "calendar"}},
		{"question mark", "schedules:\n  - id: q\n    cron: \"0 9 * * ?\"\n    run: winback_sweep\n", []string{"s.yaml:3:11:", `"?"`}},
		{"bad zone", "schedules:\n  - id: z\n    cron: \"0 9 * * *\"\n    time_zone: CST\n    run: winback_sweep\n", []string{"s.yaml:4:16:", "time_zone", "ambiguous", "Asia/Shanghai"}},
		{"abbreviated zone", "schedules:\n  - id: z\n    cron: \"0 9 * * *\"\n    time_zone: EST\n    run: winback_sweep\n", []string{"s.yaml:4:16:", "write America/New_York"}},
		{"never fires", "schedules:\n  - id: feb30\n    cron: \"0 9 30 2 *\"\n    run: winback_sweep\n", []string{`s.yaml:3:11: schedule "feb30": cron: "0 9 30 2 *" never fires`}},
		{"never fires in a calendar", "schedules:\n  - id: apr31\n    calendar: {hour: \"9\", day_of_month: \"31\", month: \"4\"}\n    run: winback_sweep\n", []string{`s.yaml:3:15: schedule "apr31": calendar: "0 9 31 4 *" never fires`}},
		{"catch-up window", "schedules:\n  - id: c\n    cron: \"0 9 * * *\"\n    run: winback_sweep\n    catchup_window: 1h30m\n", []string{"s.yaml:5:21:", "expected a duration such as 30m"}},
		{"alias bomb", "schedules:\n  - &a {id: a, cron: \"0 9 * * *\", run: winback_sweep, note: [x, x, x, x, x, x, x, x, x, x]}\n  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n  - [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n", []string{"s.yaml:5:", "alias *c"}},
		{"care send without template", "schedules:\n  - id: c\n    cron: \"0 9 * * *\"\n    run: care_send\n", []string{"s.yaml:2:5:", "template"}},
		{"tag and segment", "schedules:\n  - id: c\n    cron: \"0 9 * * *\"\n    run: care_send\n    template: care\n    audience: vip\n    segment: vip-zh\n", []string{"s.yaml:7:14:", "not both"}},
		{"template on the anniversary sweep", "schedules:\n  - id: a\n    cron: \"0 * * * *\"\n    run: anniversary_sweep\n    template: care\n", []string{"s.yaml:5:15:", "anniversary_sweep takes no template (only care_send does)"}},
		{"segment on a sweep", "schedules:\n  - id: c\n    cron: \"0 9 * * *\"\n    run: birthday_sweep\n    segment: vip-zh\n", []string{"s.yaml:5:14:", "birthday_sweep takes no segment (only care_send does)"}},
		{"unknown run", "schedules:\n  - id: c\n    cron: \"0 9 * * *\"\n    run: fireworks\n", []string{"s.yaml:4:10:", "fireworks"}},
		{"duplicate id", "schedules:\n  - id: a\n    cron: \"0 9 * * *\"\n    run: winback_sweep\n  - id: a\n    cron: \"0 9 * * *\"\n    run: winback_sweep\n", []string{"s.yaml:5:9:", "defined twice (first on line 2)"}},
		{"empty", "# nothing\n", []string{"no schedules"}},
	} {
		_, err := Parse("s.yaml", []byte(tc.file))
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
	}
}
