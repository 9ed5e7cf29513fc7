// Package schedules turns a declarative YAML file into Temporal Schedules for
// the recurring work (birthday sweep, win-back sweep, care sends), validating
// cron specs before they reach Temporal and previewing their next fire times.
package schedules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/validate"
)

// What a schedule runs.
const (
	RunBirthdaySweep    = "birthday_sweep"
	RunAnniversarySweep = "anniversary_sweep"
	RunWinbackSweep     = "winback_sweep"
	RunCareSend         = "care_send"
)

// File is a schedules file:
//
//	schedules:
//	  - id: birthday-sweep
//	    cron: "0 * * * *"
//	    time_zone: UTC
//	    run: birthday_sweep
type File struct {
	Schedules []Schedule `yaml:"schedules"`
}

// Schedule is one recurring job. Exactly one of Cron and Calendar gives the
// times, read in TimeZone (an IANA zone; default UTC).
type Schedule struct {
	ID       string    `yaml:"id"`
	Cron     string    `yaml:"cron,omitempty"`
	Calendar *Calendar `yaml:"calendar,omitempty"`
	TimeZone string    `yaml:"time_zone,omitempty"`
	// Run is birthday_sweep, anniversary_sweep, winback_sweep or care_send.
	Run string `yaml:"run"`
	// Template, Topic, Channel and the audience configure a care_send: a
	// customer tag (Audience) or a saved segment (Segment); neither means
	// every customer.
	Template string `yaml:"template,omitempty"`
	Topic    string `yaml:"topic,omitempty"`
	Channel  string `yaml:"channel,omitempty"`
	Audience string `yaml:"audience,omitempty"`
	Segment  string `yaml:"segment,omitempty"`
	Paused   bool   `yaml:"paused,omitempty"`
	Note     string `yaml:"note,omitempty"`
	// CatchupWindow is how late a run missed while Temporal was down may
	// still start (default 1h), e.g. "30m", "6h".
	CatchupWindow string `yaml:"catchup_window,omitempty"`

	line, col int // where the schedule starts in the file
	fields    map[string][2]int
}

// Calendar is the readable form of a cron spec: each field takes cron field
// syntax ("9", "1-5", "MON-FRI", "*/15"); omitted fields mean minute 0, hour
// 0, and every day, month and weekday.
type Calendar struct {
	Minute     string `yaml:"minute,omitempty"`
	Hour       string `yaml:"hour,omitempty"`
	DayOfMonth string `yaml:"day_of_month,omitempty"`
	Month      string `yaml:"month,omitempty"`
	DayOfWeek  string `yaml:"day_of_week,omitempty"`
}

// Spec is the cron expression a schedule fires on.
func (s Schedule) Spec() string {
	if s.Calendar == nil {
		return strings.TrimSpace(s.Cron)
	}
	or := func(v, def string) string {
		if v = strings.TrimSpace(v); v == "" {
			return def
		}
		return strings.ReplaceAll(v, " ", "")
	}
	c := s.Calendar
	return strings.Join([]string{or(c.Minute, "0"), or(c.Hour, "0"), or(c.DayOfMonth, "*"), or(c.Month, "*"), or(c.DayOfWeek, "*")}, " ")
}

// Zone is the schedule's time zone name.
func (s Schedule) Zone() string {
	if s.TimeZone == "" {
		return "UTC"
	}
	return s.TimeZone
}

// Catchup is the parsed catch-up window.
func (s Schedule) Catchup() time.Duration {
	d, err := time.ParseDuration(s.CatchupWindow)
	if err != nil || d <= 0 {
		return time.Hour
	}
	return d
}

// PositionError is a problem in a schedules file, with where it is.
type PositionError struct {
	File      string
	Line, Col int
	Field     string
	Msg       string
}

func (e *PositionError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos = fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", pos, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", pos, e.Msg)
}

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
	yamlLineError = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: (.*)`)
)

// Parse reads and validates a schedules file. Every problem is returned at
// once (errors.Join of *PositionError), each with its line and column.
func Parse(name string, data []byte) (File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return File{}, yamlError(name, err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, yamlError(name, err)
	}
	locate(&root, &f)
	var errs []error
	seen := map[string]int{}
	for i := range f.Schedules {
		s := &f.Schedules[i]
		for _, e := range s.check() {
			e.File = name
			errs = append(errs, e)
		}
		if first, dup := seen[s.ID]; dup && s.ID != "" {
			errs = append(errs, s.errAt(name, "id", "%q is defined twice (first on line %d)", s.ID, first))
		}
		seen[s.ID] = s.line
	}
	if len(f.Schedules) == 0 {
		errs = append(errs, &PositionError{File: name, Msg: `no schedules: the file needs a "schedules:" list`})
	}
	return f, errors.Join(errs...)
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		pe := &PositionError{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLineError.FindStringSubmatch(m); g != nil {
			fmt.Sscan(g[1], &pe.Line)
			pe.Col = 1
			if g[2] != "" {
				fmt.Sscan(g[2], &pe.Col)
			}
			pe.Msg = g[3]
		}
		errs = append(errs, pe)
	}
	return errors.Join(errs...)
}

// locate records where each schedule and each of its fields is in the file.
func locate(root *yaml.Node, f *File) {
	if root == nil || len(root.Content) == 0 {
		return
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != "schedules" || doc.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range doc.Content[i+1].Content {
			if j >= len(f.Schedules) {
				break
			}
			s := &f.Schedules[j]
			s.line, s.col = item.Line, item.Column
			s.fields = map[string][2]int{}
			for k := 0; k+1 < len(item.Content); k += 2 {
				v := item.Content[k+1]
				s.fields[item.Content[k].Value] = [2]int{v.Line, v.Column}
			}
		}
	}
}

func (s *Schedule) errAt(file, field, format string, args ...any) *PositionError {
	pos, ok := s.fields[field]
	if !ok {
		pos = [2]int{s.line, s.col}
	}
	label := field
	if s.ID != "" {
		label = fmt.Sprintf("schedule %q: %s", s.ID, field)
	}
	return &PositionError{File: file, Line: pos[0], Col: pos[1], Field: label, Msg: fmt.Sprintf(format, args...)}
}

// check validates one schedule.
func (s *Schedule) check() []*PositionError {
	var errs []*PositionError
	add := func(field, format string, args ...any) { errs = append(errs, s.errAt("", field, format, args...)) }
	if !idPattern.MatchString(s.ID) {
		add("id", "%q must be lowercase letters, digits, '.', '-' or '_' (e.g. birthday-sweep)", s.ID)
	}
	switch {
	case s.Cron != "" && s.Calendar != nil:
		add("cron", "give either cron or calendar, not both")
	case s.Cron == "" && s.Calendar == nil:
		add("cron", "is required (or a calendar), e.g. \"0 9 * * *\" for 09:00 every day")
	default:
		field := "cron"
		if s.Calendar != nil {
			field = "calendar"
		}
		if err := CheckCron(s.Spec()); err != nil {
			add(field, "%v", err)
		}
	}
	if _, err := validate.TimeZone(s.Zone()); err != nil {
		add("time_zone", "%v", err)
	}
	if s.CatchupWindow != "" {
		if d, err := time.ParseDuration(s.CatchupWindow); err != nil || d < 10*time.Second {
			add("catchup_window", "%q is not a duration of at least 10s (e.g. 30m, 6h)", s.CatchupWindow)
		}
	}
	switch s.Run {
	case RunBirthdaySweep, RunAnniversarySweep, RunWinbackSweep:
		for field, v := range map[string]string{"template": s.Template, "topic": s.Topic, "channel": s.Channel, "audience": s.Audience, "segment": s.Segment} {
			if v != "" {
				add(field, "only a %s takes %s", RunCareSend, field)
			}
		}
	case RunCareSend:
		if s.Template == "" {
			add("template", "is required for a %s (the template to send)", RunCareSend)
		}
		if s.Channel != "" && s.Channel != "email" && s.Channel != "sms" {
			add("channel", "%q is not email or sms", s.Channel)
		}
		if s.Audience != "" && s.Segment != "" {
			add("segment", "give the audience as a tag (audience) or a saved segment (segment), not both")
		}
	case "":
		add("run", "is required: %s, %s, %s or %s", RunBirthdaySweep, RunAnniversarySweep, RunWinbackSweep, RunCareSend)
	default:
		add("run", "%q is not %s, %s, %s or %s", s.Run, RunBirthdaySweep, RunAnniversarySweep, RunWinbackSweep, RunCareSend)
	}
	return errs
}

// cronParser accepts exactly the five standard fields.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// CheckCron accepts the subset of cron whose meaning is the same in robfig/cron
// (which previews it) and in Temporal Schedules (which runs it): exactly five
// fields (minute hour day-of-month month day-of-week), no "?", no time zone
// prefix (the zone is its own setting), and never both day-of-month and
// day-of-week restricted — classic cron fires when EITHER matches ("0 9 13 *
// 5" is every 13th and every Friday) while Temporal fires only when BOTH do
// (only Friday the 13th), so such a spec would silently mean two things.
func CheckCron(spec string) error {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return fmt.Errorf("%q: put the zone in time_zone, not in the spec", spec)
	}
	if strings.HasPrefix(spec, "@") {
		return fmt.Errorf("%q: write the five fields instead of a shorthand (e.g. \"0 * * * *\" for @hourly)", spec)
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return fmt.Errorf("%q has %d fields; want five: minute hour day-of-month month day-of-week", spec, len(fields))
	}
	if strings.Contains(spec, "?") {
		return fmt.Errorf("%q: \"?\" is not supported; use \"*\"", spec)
	}
	if _, err := cronParser.Parse(spec); err != nil {
		return fmt.Errorf("%q: %v", spec, err)
	}
	if fields[2] != "*" && fields[4] != "*" {
		return fmt.Errorf("%q restricts both day-of-month (%s) and day-of-week (%s): cron fires when either matches, Temporal only when both do; "+
			"restrict one and leave the other \"*\" (use two schedules for \"either\")", spec, fields[2], fields[4])
	}
	return nil
}

// Preview returns the next n fire times of a spec after from, in zone.
func Preview(spec, zone string, from time.Time, n int) ([]time.Time, error) {
	if err := CheckCron(spec); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", zone, err)
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, 0, n)
	t := from.In(loc)
	for range n {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out, nil
}
