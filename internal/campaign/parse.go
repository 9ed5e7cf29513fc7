package campaign

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/segment"
)

// Errors is every problem in a campaign file, each located by line, column
// and path, in the same form segment definitions report theirs.
type Errors = segment.Errors

// Parse reads and validates a campaign file. filename only labels errors.
// Every problem is returned at once as Errors, so a marketer fixes a file in
// one pass.
func Parse(data []byte, filename string) (*Spec, error) {
	return ParseWith(data, filename, nil)
}

// ParseWith is Parse followed by check, which looks at what could be read
// of the file against the installation (templates, saved segments): its
// problems and the file's own come back together, in line order, so a
// marketer still fixes the file in one pass. check must tolerate a spec
// that is partly read (a send without a template, say).
func ParseWith(data []byte, filename string, check func(*Spec) Errors) (*Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{File: filename, Msg: "empty campaign file; expected a mapping with name, audience, trigger and steps"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{syntaxError(filename, err)}
	}
	p := &parser{file: filename, pos: map[string]position{}, stepPaths: map[string]string{}}
	s := p.spec(doc.Content[0])
	s.file, s.pos, s.stepPaths = filename, p.pos, p.stepPaths
	if check != nil {
		p.errs = append(p.errs, check(s)...)
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *segment.Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, p.errs
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(file string, err error) *segment.Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &segment.Error{File: file, Line: line, Column: 1, Msg: "syntax error: " + m[2]}
	}
	return &segment.Error{File: file, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

type parser struct {
	file string
	errs Errors
	ids  map[string]*yaml.Node
	// pos is where each path's value is written; stepPaths is the path of
	// each step by ID. Checks that need the installation (templates, saved
	// segments) use them to point at the line.
	pos       map[string]position
	stepPaths map[string]string
}

func (p *parser) at(path string, n *yaml.Node) {
	if _, ok := p.pos[path]; !ok {
		p.pos[path] = position{n.Line, n.Column}
	}
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, &segment.Error{File: p.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fields walks a mapping, reporting duplicate and unknown keys; known lists
// the keys allowed, for the "expected" part of the message.
func (p *parser) fields(n *yaml.Node, path string, known []string, fn func(k, v *yaml.Node, sub string)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping with %s, got %s", strings.Join(known, ", "), describe(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		sub := join(path, k.Value)
		p.at(sub, v)
		switch {
		case seen[k.Value]:
			p.errorf(k, sub, "appears twice")
		case !contains(known, k.Value):
			p.errorf(k, sub, "unknown key; expected one of %s", strings.Join(known, ", "))
		default:
			seen[k.Value] = true
			fn(k, v, sub)
		}
	}
	return true
}

func (p *parser) spec(n *yaml.Node) *Spec {
	s := &Spec{LateAfter: DefaultLateAfter}
	seen := map[string]bool{}
	ok := p.fields(n, "", []string{"name", "description", "audience", "trigger", "entry", "goal", "holdout", "late_after", "steps"}, func(k, v *yaml.Node, sub string) {
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if name, ok := p.text(v, sub); ok {
				if err := CheckName(name); err != nil {
					p.errorf(v, sub, "%q: expected lower-case letters, digits, - and _ (at most 63), starting with a letter or digit", name)
				}
				s.Name = name
			}
		case "description":
			s.Description, _ = p.text(v, sub)
		case "audience":
			s.Audience = p.condition(v, sub)
		case "trigger":
			s.Trigger = p.trigger(v, sub)
		case "entry":
			s.AgainAfter = p.entry(v, sub)
		case "goal":
			s.Goal = p.goal(v, sub)
		case "holdout":
			s.Holdout = p.percent(v, sub, 0, MaxHoldout)
		case "late_after":
			if d, ok := p.duration(v, sub); ok {
				s.LateAfter = d
			}
		case "steps":
			p.ids = map[string]*yaml.Node{}
			s.Steps = p.steps(v, sub, "")
			if len(s.Steps) == 0 && v.Kind == yaml.SequenceNode {
				p.errorf(v, sub, "expected at least one step")
			}
		}
	})
	if !ok {
		return s
	}
	for _, req := range []string{"name", "audience", "trigger", "steps"} {
		if !seen[req] {
			p.errorf(n, req, "is required")
		}
	}
	return s
}

// condition reads {segment: NAME} or an inline definition {match: ...}.
func (p *parser) condition(n *yaml.Node, path string) Condition {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value != "segment" {
				continue
			}
			if len(n.Content) > 2 {
				p.errorf(n, path, "expected either segment: NAME or match: {...}, not both")
				return Condition{}
			}
			p.at(join(path, "segment"), resolve(n.Content[i+1]))
			name, ok := p.text(n.Content[i+1], join(path, "segment"))
			if ok {
				if err := segment.CheckName(name); err != nil {
					p.errorf(n.Content[i+1], join(path, "segment"), "%v", err)
				}
			}
			return Condition{Segment: name}
		}
	}
	def, err := segment.FromNode(n, p.file)
	if err != nil {
		if es, ok := err.(segment.Errors); ok {
			for _, e := range es {
				e.Path = join(path, e.Path)
			}
			p.errs = append(p.errs, es...)
		} else {
			p.errorf(n, path, "%v", err)
		}
		return Condition{}
	}
	_ = def
	out, err := yaml.Marshal(n)
	if err != nil {
		p.errorf(n, path, "cannot keep the definition: %v", err)
	}
	return Condition{Inline: string(out)}
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a five-field cron spec or a descriptor (@daily), the
// forms Temporal Schedules accept.
func ParseCron(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

// CheckCron accepts the specs that mean the same to the preview (robfig/cron)
// and to the Temporal Schedule that runs them: five fields or a descriptor,
// and never both day-of-month and day-of-week restricted, because cron fires
// when either matches and Temporal only when both do.
func CheckCron(spec string) error {
	if _, err := ParseCron(spec); err != nil {
		return fmt.Errorf("expected five fields (minute hour day-of-month month day-of-week) or @daily/@weekly: %v", err)
	}
	if f := strings.Fields(spec); len(f) == 5 && f[2] != "*" && f[4] != "*" {
		return fmt.Errorf("restricts both day-of-month (%s) and day-of-week (%s), which cron and Temporal read differently; "+
			"expected one of them to be *", f[2], f[4])
	}
	return nil
}

func (p *parser) trigger(n *yaml.Node, path string) Trigger {
	var t Trigger
	kinds := 0
	p.fields(n, path, []string{TriggerSchedule, TriggerEvent, TriggerOnce}, func(k, v *yaml.Node, sub string) {
		kinds++
		if kinds > 1 {
			p.errorf(k, sub, "a campaign has one trigger; expected only one of schedule, event or once")
			return
		}
		t.Kind = k.Value
		switch k.Value {
		case TriggerSchedule:
			p.fields(v, sub, []string{"cron", "zone"}, func(k, v *yaml.Node, sub string) {
				switch k.Value {
				case "cron":
					if spec, ok := p.text(v, sub); ok {
						if err := CheckCron(spec); err != nil {
							p.errorf(v, sub, "%q: %v", spec, err)
						}
						t.Cron = spec
					}
				case "zone":
					t.Zone = p.zone(v, sub)
				}
			})
			if t.Cron == "" && v.Kind == yaml.MappingNode {
				p.errorf(v, join(sub, "cron"), "is required")
			}
		case TriggerEvent:
			p.fields(v, sub, []string{"type", "where"}, func(k, v *yaml.Node, sub string) {
				switch k.Value {
				case "type":
					t.Event, _ = p.text(v, sub)
				case "where":
					t.Where = p.properties(v, sub)
				}
			})
			if t.Event == "" && v.Kind == yaml.MappingNode {
				p.errorf(v, join(sub, "type"), "is required (the event type that starts a customer's run)")
			}
		case TriggerOnce:
			var at *yaml.Node
			p.fields(v, sub, []string{"at", "zone", "local"}, func(k, v *yaml.Node, sub string) {
				switch k.Value {
				case "at":
					at = v
				case "zone":
					t.Zone = p.zone(v, sub)
				case "local":
					t.Local = p.bool(v, sub)
				}
			})
			if at == nil {
				if v.Kind == yaml.MappingNode {
					p.errorf(v, join(sub, "at"), "is required (e.g. 2026-04-01 10:00)")
				}
				return
			}
			t.At = p.when(at, join(sub, "at"), t.Zone)
			if t.Local && t.Zone != "" {
				p.errorf(at, sub, "local: true reads the time in each customer's zone; remove zone")
			}
		}
	})
	if kinds == 0 && n.Kind == yaml.MappingNode {
		p.errorf(n, path, "expected one of schedule, event or once")
	}
	return t
}

var wallTimes = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// when reads a time: RFC 3339 with an offset, or a wall time read in zone.
func (p *parser) when(n *yaml.Node, path, zone string) time.Time {
	s, ok := p.text(n, path)
	if !ok {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	loc := time.UTC
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	for _, layout := range wallTimes {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t
		}
	}
	p.errorf(n, path, "%q: expected a time like 2026-04-01 10:00 or 2026-04-01T10:00:00+02:00", s)
	return time.Time{}
}

func (p *parser) zone(n *yaml.Node, path string) string {
	z, ok := p.text(n, path)
	if !ok {
		return ""
	}
	if _, err := time.LoadLocation(z); err != nil || z == "" || z == "Local" {
		p.errorf(n, path, "%q: expected an IANA time zone such as Europe/Berlin or Asia/Shanghai", z)
		return ""
	}
	return z
}

func (p *parser) entry(n *yaml.Node, path string) time.Duration {
	var again time.Duration
	p.fields(n, path, []string{"once", "again_after"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "once":
			if !p.bool(v, sub) {
				p.errorf(v, sub, "expected true (or use again_after: 90d to let customers enter again)")
			}
		case "again_after":
			if d, ok := p.duration(v, sub); ok {
				if d < 24*time.Hour {
					p.errorf(v, sub, "expected at least 1d between entries")
				}
				again = d
			}
		}
	})
	return again
}

func (p *parser) goal(n *yaml.Node, path string) *Goal {
	g := &Goal{Within: DefaultGoalAfter}
	p.fields(n, path, []string{"event", "where", "within"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "event":
			g.Event, _ = p.text(v, sub)
		case "where":
			g.Where = p.properties(v, sub)
		case "within":
			if d, ok := p.duration(v, sub); ok {
				g.Within = d
			}
		}
	})
	if g.Event == "" {
		if resolve(n).Kind == yaml.MappingNode {
			p.errorf(n, join(path, "event"), "is required (the event that counts as a conversion)")
		}
		return nil
	}
	return g
}

var stepKinds = []string{StepSend, StepWait, StepBranch, StepTag, StepUntag, StepSet, StepWebhook}

// steps reads a list of steps; prefix numbers them for default IDs.
func (p *parser) steps(n *yaml.Node, path, prefix string) []Step {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "expected a list of steps (each one of %s), got %s", strings.Join(stepKinds, ", "), describe(n))
		return nil
	}
	var out []Step
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		pos := strconv.Itoa(i + 1)
		if prefix != "" {
			pos = prefix + "." + pos
		}
		if st, ok := p.step(resolve(item), sub, pos); ok {
			out = append(out, st)
		}
	}
	return out
}

func (p *parser) step(n *yaml.Node, path, pos string) (Step, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errorf(n, path, "expected a step: a mapping with one of %s, got %s", strings.Join(stepKinds, ", "), describe(n))
		return Step{}, false
	}
	st := Step{ID: pos}
	var kindKey *yaml.Node
	var idNode *yaml.Node
	p.at(path, n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		sub := join(path, k.Value)
		p.at(sub, v)
		switch {
		case k.Value == "id":
			if id, ok := p.text(v, sub); ok {
				if !stepIDRE.MatchString(id) {
					p.errorf(v, sub, "%q: expected letters, digits, - and _ (a step ID appears in idempotency keys)", id)
				}
				st.ID, idNode = id, v
			}
		case contains(stepKinds, k.Value):
			if kindKey != nil {
				p.errorf(k, sub, "a step does one thing; %s is already given at line %d (start a new list item with -)", kindKey.Value, kindKey.Line)
				continue
			}
			kindKey = k
			st.Kind = k.Value
			if id, body := p.innerID(v, sub); id != nil {
				st.ID, idNode, v = id.Value, id, body
			}
			p.stepBody(&st, k, v, sub, pos)
		default:
			p.errorf(k, sub, "unknown step key; expected one of %s (and optionally id)", strings.Join(stepKinds, ", "))
		}
	}
	if kindKey == nil {
		p.errorf(n, path, "expected one of %s", strings.Join(stepKinds, ", "))
		return Step{}, false
	}
	at := kindKey
	if idNode != nil {
		at = idNode
	}
	if prev, dup := p.ids[st.ID]; dup {
		p.errorf(at, path, "step id %q is already used at line %d; step IDs must be unique", st.ID, prev.Line)
	} else {
		p.ids[st.ID] = at
		p.stepPaths[st.ID] = path
	}
	return st, true
}

// innerID takes an id written inside the step's body (send: {id: offer,
// ...}) out of it, so either place works.
func (p *parser) innerID(v *yaml.Node, path string) (*yaml.Node, *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		return nil, v
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value != "id" {
			continue
		}
		id := resolve(v.Content[i+1])
		if s, ok := p.text(id, join(path, "id")); ok && !stepIDRE.MatchString(s) {
			p.errorf(id, join(path, "id"), "%q: expected letters, digits, - and _ (a step ID appears in idempotency keys)", s)
		}
		body := *v
		body.Content = append(append([]*yaml.Node(nil), v.Content[:i]...), v.Content[i+2:]...)
		return id, &body
	}
	return nil, v
}

var stepIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

func (p *parser) stepBody(st *Step, k, v *yaml.Node, sub, pos string) {
	switch k.Value {
	case StepSend:
		st.Send = p.send(v, sub)
	case StepWait:
		st.Wait = p.wait(v, sub, pos)
	case StepBranch:
		st.Branch = p.branch(v, sub, pos)
	case StepTag, StepUntag:
		if tag, ok := p.text(v, sub); ok {
			if tag == "" {
				p.errorf(v, sub, "expected a tag name")
			}
			st.Tag = tag
		}
	case StepSet:
		st.Set = &SetAttr{}
		p.fields(v, sub, []string{"attribute", "value"}, func(k, v *yaml.Node, sub string) {
			switch k.Value {
			case "attribute":
				st.Set.Attribute, _ = p.text(v, sub)
			case "value":
				if val, ok := scalarValue(v); ok {
					st.Set.Value = val
				} else {
					p.errorf(v, sub, "expected text, a number or true/false, got %s", describe(v))
				}
			}
		})
		if st.Set.Attribute == "" && v.Kind == yaml.MappingNode {
			p.errorf(v, join(sub, "attribute"), "is required")
		}
	case StepWebhook:
		st.Webhook = &Webhook{}
		p.fields(v, sub, []string{"url"}, func(k, v *yaml.Node, sub string) {
			if u, ok := p.text(v, sub); ok {
				if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					p.errorf(v, sub, "%q: expected an http:// or https:// URL", u)
				}
				st.Webhook.URL = u
			}
		})
		if st.Webhook.URL == "" && v.Kind == yaml.MappingNode {
			p.errorf(v, join(sub, "url"), "is required")
		}
	}
}

func (p *parser) send(n *yaml.Node, path string) *Send {
	s := &Send{Channel: DefaultChannel, Topic: DefaultTopic}
	var variantsNode *yaml.Node
	p.fields(n, path, []string{"channel", "template", "topic", "vars", "variants"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "channel":
			if ch, ok := p.text(v, sub); ok {
				if ch != "email" && ch != "sms" {
					p.errorf(v, sub, "%q: expected email or sms", ch)
				}
				s.Channel = ch
			}
		case "template":
			s.Template, _ = p.text(v, sub)
		case "topic":
			s.Topic, _ = p.text(v, sub)
		case "vars":
			s.Vars = p.properties(v, sub)
		case "variants":
			variantsNode = v
			s.Variants = p.variants(v, sub)
		}
	})
	if resolve(n).Kind != yaml.MappingNode {
		return s
	}
	if s.Template == "" {
		for _, v := range s.Variants {
			if v.Template == "" {
				p.errorf(n, join(path, "template"), "is required (on the send or on every variant)")
				break
			}
		}
		if variantsNode == nil {
			p.errorf(n, join(path, "template"), "is required")
		}
	}
	for i := range s.Variants {
		if s.Variants[i].Template == "" {
			s.Variants[i].Template = s.Template
		}
	}
	return s
}

func (p *parser) variants(n *yaml.Node, path string) []Variant {
	if n.Kind != yaml.SequenceNode || len(n.Content) < 2 {
		p.errorf(n, path, "expected a list of at least two variants, each with name and percent, got %s", describe(n))
		return nil
	}
	var out []Variant
	total := 0
	names := map[string]bool{}
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		p.at(sub, item)
		var v Variant
		p.fields(item, sub, []string{"name", "percent", "template", "vars"}, func(k, val *yaml.Node, sub string) {
			switch k.Value {
			case "name":
				if name, ok := p.text(val, sub); ok {
					if !variantRE.MatchString(name) {
						p.errorf(val, sub, "%q: expected a short name of letters, digits, - and _", name)
					} else if names[name] {
						p.errorf(val, sub, "variant %q appears twice", name)
					}
					names[name] = true
					v.Name = name
				}
			case "percent":
				v.Percent = p.percent(val, sub, 1, 100)
			case "template":
				v.Template, _ = p.text(val, sub)
			case "vars":
				v.Vars = p.properties(val, sub)
			}
		})
		if v.Name == "" && resolve(item).Kind == yaml.MappingNode {
			p.errorf(item, join(sub, "name"), "is required")
		}
		total += v.Percent
		out = append(out, v)
	}
	if total != 100 {
		p.errorf(n, path, "percentages add up to %d; expected 100", total)
	}
	return out
}

var variantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$`)

var timeOfDayRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

func (p *parser) wait(n *yaml.Node, path, pos string) *Wait {
	w := &Wait{UntilMinute: -1}
	forms := 0
	var eventKey *yaml.Node
	var timeoutSet, branches bool
	p.fields(n, path, []string{"duration", "until", "event", "where", "timeout", "on_event", "on_timeout"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "duration":
			forms++
			w.Duration, _ = p.duration(v, sub)
		case "until":
			forms++
			if s, ok := p.text(v, sub); ok {
				m := timeOfDayRE.FindStringSubmatch(s)
				if m == nil {
					p.errorf(v, sub, "%q: expected a local time of day like 09:30", s)
					return
				}
				h, _ := strconv.Atoi(m[1])
				mi, _ := strconv.Atoi(m[2])
				w.UntilMinute = h*60 + mi
			}
		case "event":
			forms++
			eventKey = k
			w.Event, _ = p.text(v, sub)
		case "where":
			w.Where = p.properties(v, sub)
		case "timeout":
			timeoutSet = true
			w.Timeout, _ = p.duration(v, sub)
		case "on_event":
			branches = true
			w.OnEvent = p.steps(v, sub, pos+".on_event")
		case "on_timeout":
			branches = true
			w.OnTimeout = p.steps(v, sub, pos+".on_timeout")
		}
	})
	if resolve(n).Kind != yaml.MappingNode {
		return w
	}
	switch {
	case forms == 0:
		p.errorf(n, path, "expected one of duration (3d), until (a local time like 09:30) or event (with timeout)")
	case forms > 1:
		p.errorf(n, path, "expected only one of duration, until or event")
	case eventKey != nil && !timeoutSet:
		p.errorf(eventKey, join(path, "timeout"), "is required with event (how long to wait for it, e.g. 7d)")
	case eventKey == nil && (timeoutSet || branches || w.Where != nil):
		p.errorf(n, path, "timeout, where, on_event and on_timeout only go with event")
	}
	return w
}

func (p *parser) branch(n *yaml.Node, path, pos string) *Branch {
	b := &Branch{}
	hasIf := false
	p.fields(n, path, []string{"if", "then", "else"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "if":
			hasIf = true
			b.If = p.condition(v, sub)
		case "then":
			b.Then = p.steps(v, sub, pos+".then")
		case "else":
			b.Else = p.steps(v, sub, pos+".else")
		}
	})
	if !hasIf && resolve(n).Kind == yaml.MappingNode {
		p.errorf(n, join(path, "if"), "is required: segment: NAME or match: {...}")
	}
	return b
}

var durationRE = regexp.MustCompile(`^([0-9]{1,5})(m|h|d|w)$`)

// duration reads 30m, 12h, 3d or 2w.
func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := p.text(n, path)
	if !ok {
		return 0, false
	}
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		p.errorf(n, path, "%q: expected a duration such as 30m, 12h, 3d or 2w", s)
		return 0, false
	}
	i, _ := strconv.Atoi(m[1])
	if i == 0 {
		p.errorf(n, path, "%q: expected a duration greater than zero", s)
		return 0, false
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(i) * unit, true
}

func (p *parser) percent(n *yaml.Node, path string, lo, hi int) int {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(n, path, "expected a whole percentage %d-%d, got %s", lo, hi, describe(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		p.errorf(n, path, "%s: expected a whole percentage %d-%d", n.Value, lo, hi)
		return 0
	}
	return v
}

func (p *parser) bool(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, path, "expected true or false, got %s", describe(n))
		return false
	}
	return n.Value == "true"
}

func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.ShortTag() == "!!map" {
		p.errorf(n, path, "expected text, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// properties reads a flat mapping of names to scalar values (event filters,
// template vars).
func (p *parser) properties(n *yaml.Node, path string) map[string]any {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping of names to values, got %s", describe(n))
		return nil
	}
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		val, ok := scalarValue(v)
		if !ok {
			p.errorf(v, join(path, k.Value), "expected text, a number or true/false, got %s", describe(v))
			continue
		}
		out[k.Value] = val
	}
	return out
}

func scalarValue(n *yaml.Node) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		return nil, false
	}
	switch n.ShortTag() {
	case "!!str":
		return n.Value, true
	case "!!bool":
		return n.Value == "true", true
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i, true
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("text %q", n.Value)
		case "!!bool":
			return "boolean " + n.Value
		default:
			return "number " + n.Value
		}
	}
	return "an unsupported value"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	if key == "" {
		return path
	}
	return path + "." + key
}
