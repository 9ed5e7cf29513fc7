// Package schedules turns a declarative YAML file into Temporal Schedules for
// the recurring work (the journeys' sweeps the workflows registry declares:
// birthday, anniversary, win-back, care sends), validating
// cron specs before they reach Temporal and previewing their next fire times.
package schedules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/workflows"
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
	// Run names what the schedule starts: a journey's sweep by its kind
	// (birthday_sweep, anniversary_sweep, winback_sweep, care_send, as the
	// workflows registry declares them).
	Run string `yaml:"run"`
	// Template, Topic, Channel and the audience configure the sweeps that
	// take them (a care_send): a customer tag (Audience) or a saved segment
	// (Segment); neither means every customer.
	Template string `yaml:"template,omitempty"`
	Topic    string `yaml:"topic,omitempty"`
	Channel  string `yaml:"channel,omitempty"`
	Audience string `yaml:"audience,omitempty"`
	Segment  string `yaml:"segment,omitempty"`
	Paused   bool   `yaml:"paused,omitempty"`
	Note     string `yaml:"note,omitempty"`
	// CatchupWindow is how late a run missed while Temporal was down may
	// still start (default 1h), a duration such as "30m" or "6h".
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
	d, err := spec.ParseDuration(s.CatchupWindow)
	if err != nil {
		return time.Hour
	}
	return d.Fixed()
}

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
	yamlLineError = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: (.*)`)
)

// Parse reads and validates a schedules file. Every problem is returned at
// once (spec.Errors), each with its line and column.
func Parse(name string, data []byte) (File, error) {
	root, err := spec.Decode(data, name)
	if err != nil {
		return File{}, err
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, typeErrors(name, err)
	}
	locate(root, &f)
	var errs spec.Errors
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
		errs = append(errs, &spec.Error{File: name, Msg: `no schedules: the file needs a "schedules:" list`})
	}
	errs.Sort()
	return f, errs.Err()
}

// typeErrors locates what decoding into File refused (an unknown field, a
// value of the wrong type).
func typeErrors(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs spec.Errors
	for _, m := range msgs {
		e := &spec.Error{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if g := yamlLineError.FindStringSubmatch(m); g != nil {
			fmt.Sscan(g[1], &e.Line)
			e.Column = 1
			if g[2] != "" {
				fmt.Sscan(g[2], &e.Column)
			}
			e.Msg = g[3]
		}
		errs = append(errs, e)
	}
	return errs
}

// locate records where each schedule and each of its fields is in the file.
func locate(doc *yaml.Node, f *File) {
	if doc == nil {
		return
	}
	for k, list := range spec.Entries(doc) {
		if k.Value != "schedules" || list.Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range list.Content {
			if j >= len(f.Schedules) {
				break
			}
			s := &f.Schedules[j]
			s.line, s.col = item.Line, item.Column
			s.fields = map[string][2]int{}
			for field, v := range spec.Entries(item) {
				s.fields[field.Value] = [2]int{v.Line, v.Column}
			}
		}
	}
}

func (s *Schedule) errAt(file, field, format string, args ...any) *spec.Error {
	pos, ok := s.fields[field]
	if !ok {
		pos = [2]int{s.line, s.col}
	}
	label := field
	if s.ID != "" {
		label = fmt.Sprintf("schedule %q: %s", s.ID, field)
	}
	return &spec.Error{File: file, Line: pos[0], Column: pos[1], Path: label, Msg: fmt.Sprintf(format, args...)}
}

// check validates one schedule.
func (s *Schedule) check() spec.Errors {
	var errs spec.Errors
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
		if err := spec.CheckCron(s.Spec()); err != nil {
			add(field, "%v", err)
		}
	}
	if _, err := spec.TimeZone(s.Zone()); err != nil {
		add("time_zone", "%v", err)
	}
	if s.CatchupWindow != "" {
		if d, err := spec.ParseDuration(s.CatchupWindow); err != nil {
			add("catchup_window", "%v", err)
		} else if d.Fixed() < 10*time.Second {
			add("catchup_window", "%q: expected at least 10s", s.CatchupWindow)
		}
	}
	kinds := strings.Join(workflows.SweepKinds(), ", ")
	j, ok := workflows.SweepKind(s.Run)
	switch {
	case s.Run == "":
		add("run", "is required: one of %s", kinds)
		return errs
	case !ok:
		add("run", "%q is not one of %s", s.Run, kinds)
		return errs
	}
	fields := s.sweepFields()
	for _, field := range workflows.SweepFieldNames {
		if fields.Get(field) != "" && !slices.Contains(j.Sweep.Fields, field) {
			add(field, "%s takes no %s (only %s)", s.Run, field, takers(field))
		}
	}
	if j.Sweep.Check != nil {
		for _, fe := range j.Sweep.Check(fields) {
			add(fe.Field, "%s", fe.Msg)
		}
	}
	return errs
}

// sweepFields are the schedule's fields a sweep may take.
func (s *Schedule) sweepFields() workflows.SweepFields {
	return workflows.SweepFields{Template: s.Template, Topic: s.Topic, Channel: s.Channel, Audience: s.Audience, Segment: s.Segment}
}

// takers names the sweep kinds that take field.
func takers(field string) string {
	var out []string
	for _, kind := range workflows.SweepKinds() {
		if j, _ := workflows.SweepKind(kind); slices.Contains(j.Sweep.Fields, field) {
			out = append(out, kind)
		}
	}
	if len(out) == 0 {
		return "none does"
	}
	return strings.Join(out, ", ") + " does"
}

// Preview returns the next n fire times of a spec after from, in zone.
func Preview(expr, zone string, from time.Time, n int) ([]time.Time, error) {
	sched, err := spec.ParseCron(expr)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", zone, err)
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
