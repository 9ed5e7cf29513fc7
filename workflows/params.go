package workflows

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	filespec "github.com/tidingsdev/tidings/internal/spec"
)

// ParamKind says what a parameter holds and how the policy file writes it.
type ParamKind string

// Parameter kinds.
const (
	KindCount     ParamKind = "count"     // a whole number in a range: 2
	KindDuration  ParamKind = "duration"  // 3d, 12h, 30m, 2w
	KindTimeOfDay ParamKind = "time"      // "10:00", local to the customer; held as minutes after midnight
	KindTag       ParamKind = "tag"       // a customer tag
	KindEventMap  ParamKind = "event map" // event type → one of a few choices
	KindPool      ParamKind = "pool"      // an imported coupon pool, or none
)

// Param is one tunable of a journey, with its default. Build one with
// CountParam, DurationParam, TimeParam, TagParam or EventMapParam.
type Param struct {
	Name    string
	Kind    ParamKind
	Doc     string
	Default any

	min, max    int
	minDuration time.Duration
	choices     []string
}

// CountParam is a whole number from min to max.
func CountParam(name string, def, min, max int, doc string) Param {
	return Param{Name: name, Kind: KindCount, Doc: doc, Default: def, min: min, max: max}
}

// DurationParam is a length of time of at least min.
func DurationParam(name string, def, min time.Duration, doc string) Param {
	return Param{Name: name, Kind: KindDuration, Doc: doc, Default: def, minDuration: min}
}

// TimeParam is a local time of day, held as minutes after midnight.
func TimeParam(name string, defMinute int, doc string) Param {
	return Param{Name: name, Kind: KindTimeOfDay, Doc: doc, Default: defMinute}
}

// TagParam is a customer tag.
func TagParam(name, def, doc string) Param {
	return Param{Name: name, Kind: KindTag, Doc: doc, Default: def}
}

// PoolParam names an imported coupon pool messages draw their codes from;
// its default is none ("").
func PoolParam(name, doc string) Param {
	return Param{Name: name, Kind: KindPool, Doc: doc, Default: ""}
}

// EventMapParam maps event types to one of choices.
func EventMapParam(name string, def map[string]string, choices []string, doc string) Param {
	return Param{Name: name, Kind: KindEventMap, Doc: doc, Default: def, choices: choices}
}

// check reports a declaration whose default is not a value of its kind.
func (p Param) check() error {
	if p.Name == "" || p.Doc == "" {
		return errors.New("no name or no doc")
	}
	return p.valid(p.Default)
}

// valid reports whether v is a value of the parameter: the right type, in
// range.
func (p Param) valid(v any) error {
	switch p.Kind {
	case KindCount:
		n, ok := v.(int)
		if !ok {
			return filespec.Problemf("%v is not a whole number", v)
		}
		if n < p.min || n > p.max {
			return filespec.Problemf("%d is not between %d and %d", n, p.min, p.max)
		}
	case KindDuration:
		d, ok := v.(time.Duration)
		if !ok {
			return filespec.Problemf("%v is not a duration", v)
		}
		if d < p.minDuration {
			return filespec.Problemf("%s is shorter than %s", filespec.FormatDuration(d), filespec.FormatDuration(p.minDuration))
		}
	case KindTimeOfDay:
		m, ok := v.(int)
		if !ok || m < 0 || m >= 24*60 {
			return filespec.Problemf("%v is not a time of day", v)
		}
	case KindTag:
		s, ok := v.(string)
		if !ok {
			return filespec.Problemf("%v is not a tag", v)
		}
		if err := filespec.CheckName("tag", s); err != nil {
			return err
		}
	case KindPool:
		s, ok := v.(string)
		if !ok {
			return filespec.Problemf("%v is not a pool name", v)
		}
		if s != "" {
			return filespec.CheckPool(s)
		}
	case KindEventMap:
		m, ok := v.(map[string]string)
		if !ok || len(m) == 0 {
			return filespec.Problemf("%v is not a mapping of event types", v)
		}
		for _, typ := range slices.Sorted(maps.Keys(m)) {
			if err := filespec.CheckEventType(typ); err != nil {
				return err
			}
			if !slices.Contains(p.choices, m[typ]) {
				return filespec.Problemf("%s: %q is not one of %s", typ, m[typ], strings.Join(p.choices, ", "))
			}
		}
	default:
		return fmt.Errorf("unknown kind %q", p.Kind)
	}
	return nil
}

var timeOfDayText = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// Parse reads a value of the parameter as the policy file writes it (a
// mapping's entries as "type=choice" pairs).
func (p Param) Parse(s string) (any, error) {
	s = strings.TrimSpace(s)
	var v any
	switch p.Kind {
	case KindCount:
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, filespec.Problemf("%q is not a whole number", s)
		}
		v = n
	case KindDuration:
		d, err := filespec.ParseDuration(s)
		if err != nil {
			return nil, err
		}
		v = d.Fixed()
	case KindTimeOfDay:
		m := timeOfDayText.FindStringSubmatch(s)
		if m == nil {
			return nil, filespec.Problemf("%q is not a time of day such as 09:30", s)
		}
		h, _ := strconv.Atoi(m[1])
		min, _ := strconv.Atoi(m[2])
		v = h*60 + min
	case KindTag:
		v = s
	case KindPool:
		v = s
		if s == "none" { // as journeys list shows no pool
			v = ""
		}
	case KindEventMap:
		out := map[string]string{}
		for pair := range strings.SplitSeq(s, ",") {
			typ, choice, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				return nil, filespec.Problemf("%q is not EVENT_TYPE=%s", pair, strings.Join(p.choices, "|"))
			}
			out[strings.TrimSpace(typ)] = strings.TrimSpace(choice)
		}
		v = out
	}
	if err := p.valid(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Format writes a value of the parameter as the policy file would.
func (p Param) Format(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return filespec.FormatDuration(x)
	case int:
		if p.Kind == KindTimeOfDay {
			return fmt.Sprintf("%02d:%02d", x/60, x%60)
		}
		return strconv.Itoa(x)
	case map[string]string:
		var pairs []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			pairs = append(pairs, k+"="+x[k])
		}
		return strings.Join(pairs, ",")
	case string:
		if x == "" && p.Kind == KindPool {
			return "none"
		}
	}
	return fmt.Sprint(v)
}

// Values are a journey's effective parameter values, by parameter name.
type Values map[string]any

// Int is a count or a time of day (minutes after midnight); 0 when unset.
func (v Values) Int(name string) int { n, _ := v[name].(int); return n }

// Duration is a duration parameter; 0 when unset.
func (v Values) Duration(name string) time.Duration { d, _ := v[name].(time.Duration); return d }

// String is a tag parameter; "" when unset.
func (v Values) String(name string) string { s, _ := v[name].(string); return s }

// EventMap is an event map parameter; nil when unset.
func (v Values) EventMap(name string) map[string]string {
	m, _ := v[name].(map[string]string)
	return m
}

// Settings are the parameter values an operator set, by journey name and
// parameter name. Whatever is not set takes the journey's default.
type Settings map[string]Values

// Set sets one value (a programmatic override, as the demo's shortened
// waits) and returns s, allocating it when nil.
func (s Settings) Set(journey, param string, v any) Settings {
	if s == nil {
		s = Settings{}
	}
	if s[journey] == nil {
		s[journey] = Values{}
	}
	s[journey][param] = v
	return s
}

// Check reports a value that names no journey or parameter, or is not a
// value of its parameter.
func (s Settings) Check() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s)) {
		j, ok := Find(name)
		if !ok {
			errs = append(errs, fmt.Errorf("journeys.%s: no such journey", name))
			continue
		}
		for _, pn := range slices.Sorted(maps.Keys(s[name])) {
			p, ok := j.Param(pn)
			if !ok {
				errs = append(errs, fmt.Errorf("journeys.%s.%s: no such parameter", name, pn))
				continue
			}
			if err := p.valid(s[name][pn]); err != nil {
				errs = append(errs, fmt.Errorf("journeys.%s.%s: %w", name, pn, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Values are the journey's effective parameter values under s: each
// default, overridden by what s sets.
func (j Journey) Values(s Settings) Values {
	v := Values{}
	for _, p := range j.Params {
		v[p.Name] = p.Default
		if set, ok := s[j.Name][p.Name]; ok && p.valid(set) == nil {
			v[p.Name] = set
		}
	}
	return v
}
