package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec"
)

// Errors is every problem in a campaign file, each located by line, column
// and path, in the same form segment definitions report theirs.
type Errors = spec.Errors

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
	root, err := spec.Decode(data, filename)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, Errors{spec.At(filename, nil, "", "empty campaign file; expected a mapping with name, audience, trigger and steps")}
	}
	p := &parser{Reader: spec.Reader{File: filename}, pos: map[string]position{}, stepPaths: map[string]string{}}
	s := p.spec(root)
	s.file, s.pos, s.stepPaths = filename, p.pos, p.stepPaths
	if check != nil {
		p.Errs = append(p.Errs, check(s)...)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	spec.Reader
	ids map[string]*yaml.Node
	// pos is where each path's value is written; stepPaths is the path of
	// each step by ID. Checks that need the installation (templates, saved
	// segments) use them to point at the line.
	pos       map[string]position
	stepPaths map[string]string
	// stepRefs are the `step:` of waits and goals on email engagement,
	// resolved once every step is read.
	stepRefs []stepRef
	// winners are the sends whose variants pick a winner.
	winners []winnerRef
}

// stepRef is a wait's or the goal's `step: ID`: the engagement event must
// come from the message that send step sent.
type stepRef struct {
	node  *yaml.Node
	path  string
	event string
	where *map[string]any
}

func (p *parser) at(path string, n *yaml.Node) {
	if _, ok := p.pos[path]; !ok {
		p.pos[path] = position{n.Line, n.Column}
	}
}

// fields is spec.Reader.Fields, noting where each key's value is written.
func (p *parser) fields(n *yaml.Node, path string, known []string, fn func(k, v *yaml.Node, sub string)) bool {
	return p.Fields(n, path, known, func(k, v *yaml.Node, sub string) {
		p.at(sub, v)
		fn(k, v, sub)
	})
}

func (p *parser) spec(n *yaml.Node) *Spec {
	s := &Spec{LateAfter: DefaultLateAfter}
	seen := map[string]bool{}
	ok := p.fields(n, "", []string{"name", "description", "audience", "trigger", "entry", "goal", "holdout", "late_after", "steps"}, func(k, v *yaml.Node, sub string) {
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if name, ok := p.Text(v, sub); ok {
				if err := CheckName(name); err != nil {
					p.Errorf(v, sub, "%v", err)
				}
				s.Name = name
			}
		case "description":
			s.Description, _ = p.Text(v, sub)
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
				p.Errorf(v, sub, "expected at least one step")
			}
		}
	})
	if !ok {
		return s
	}
	for _, req := range []string{"name", "audience", "trigger", "steps"} {
		if !seen[req] {
			p.Errorf(n, req, "is required")
		}
	}
	p.resolveStepRefs(s)
	p.checkWinners(s)
	return s
}

// Engagement events a wait or goal can tie to one send step with `step:`.
var engagementEvents = []string{"email_clicked", "email_opened"}

// resolveStepRefs turns each `step: ID` into the properties the event
// carries: this campaign's name and the send step's ID, so a click on
// another campaign's email, or on another step's, does not count.
func (p *parser) resolveStepRefs(s *Spec) {
	sends := map[string]bool{}
	Walk(s.Steps, func(st *Step) {
		if st.Send != nil {
			sends[st.ID] = st.Send.Channel == DefaultChannel
		}
	})
	for _, r := range p.stepRefs {
		id := r.node.Value
		email, ok := sends[id]
		switch {
		case !slices.Contains(engagementEvents, r.event):
			p.Errorf(r.node, r.path, "step goes with event %s; %q carries no step", strings.Join(engagementEvents, " or "), r.event)
		case !ok:
			p.Errorf(r.node, r.path, "%q is not the id of a send step of this campaign", id)
		case !email:
			p.Errorf(r.node, r.path, "step %q sends SMS; clicks and opens are tracked in email only", id)
		default:
			if *r.where == nil {
				*r.where = map[string]any{}
			}
			(*r.where)["campaign"], (*r.where)["step"] = s.Name, id
		}
	}
}

// condition reads {segment: NAME} or an inline definition {match: ...}.
func (p *parser) condition(n *yaml.Node, path string) Condition {
	n = spec.Resolve(n)
	if n.Kind == yaml.MappingNode {
		for k, v := range spec.Entries(n) {
			if k.Value != "segment" {
				continue
			}
			if len(n.Content) > 2 {
				p.Errorf(n, path, "expected either segment: NAME or match: {...}, not both")
				return Condition{}
			}
			p.at(spec.Join(path, "segment"), spec.Resolve(v))
			name, ok := p.Text(v, spec.Join(path, "segment"))
			if ok {
				if err := segment.CheckName(name); err != nil {
					p.Errorf(v, spec.Join(path, "segment"), "%v", err)
				}
			}
			return Condition{Segment: name}
		}
	}
	def, err := segment.FromNode(n, p.File)
	if err != nil {
		if es, ok := err.(segment.Errors); ok {
			for _, e := range es {
				e.Path = spec.Join(path, e.Path)
			}
			p.Errs = append(p.Errs, es...)
		} else {
			p.Errorf(n, path, "%v", err)
		}
		return Condition{}
	}
	_ = def
	out, err := yaml.Marshal(n)
	if err != nil {
		p.Errorf(n, path, "cannot keep the definition: %v", err)
	}
	return Condition{Inline: string(out)}
}

func (p *parser) trigger(n *yaml.Node, path string) Trigger {
	var t Trigger
	kinds := 0
	p.fields(n, path, []string{TriggerSchedule, TriggerEvent, TriggerOnce}, func(k, v *yaml.Node, sub string) {
		kinds++
		if kinds > 1 {
			p.Errorf(k, sub, "a campaign has one trigger; expected only one of schedule, event or once")
			return
		}
		t.Kind = k.Value
		switch k.Value {
		case TriggerSchedule:
			p.fields(v, sub, []string{"cron", "zone"}, func(k, v *yaml.Node, sub string) {
				switch k.Value {
				case "cron":
					if expr, ok := p.Text(v, sub); ok {
						if err := spec.CheckCron(expr); err != nil {
							p.Errorf(v, sub, "%v", err)
						}
						t.Cron = expr
					}
				case "zone":
					t.Zone = p.zone(v, sub)
				}
			})
			if t.Cron == "" && v.Kind == yaml.MappingNode {
				p.Errorf(v, spec.Join(sub, "cron"), "is required")
			}
		case TriggerEvent:
			p.fields(v, sub, []string{"type", "where"}, func(k, v *yaml.Node, sub string) {
				switch k.Value {
				case "type":
					t.Event = p.eventType(v, sub)
				case "where":
					t.Where = p.properties(v, sub)
				}
			})
			if t.Event == "" && v.Kind == yaml.MappingNode {
				p.Errorf(v, spec.Join(sub, "type"), "is required (the event type that starts a customer's run)")
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
					t.Local, _ = p.Bool(v, sub)
				}
			})
			if at == nil {
				if v.Kind == yaml.MappingNode {
					p.Errorf(v, spec.Join(sub, "at"), "is required (e.g. 2026-04-01 10:00)")
				}
				return
			}
			t.At = p.when(at, spec.Join(sub, "at"), t.Zone)
			if t.Local && t.Zone != "" {
				p.Errorf(at, sub, "local: true reads the time in each customer's zone; remove zone")
			}
		}
	})
	if kinds == 0 && n.Kind == yaml.MappingNode {
		p.Errorf(n, path, "expected one of schedule, event or once")
	}
	return t
}

var wallTimes = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// when reads a time: RFC 3339 with an offset, or a wall time read in zone.
func (p *parser) when(n *yaml.Node, path, zone string) time.Time {
	s, ok := p.Text(n, path)
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
	p.Errorf(n, path, "%q: expected a time like 2026-04-01 10:00 or 2026-04-01T10:00:00+02:00", s)
	return time.Time{}
}

func (p *parser) zone(n *yaml.Node, path string) string {
	z, ok := p.Text(n, path)
	if !ok {
		return ""
	}
	if _, err := spec.TimeZone(z); err != nil {
		p.Errorf(n, path, "%v", err)
		return ""
	}
	return z
}

// eventType reads an event type that can arrive (spec.CheckEventType).
func (p *parser) eventType(n *yaml.Node, path string) string {
	typ, ok := p.Text(n, path)
	if ok {
		if err := spec.CheckEventType(typ); err != nil {
			p.Errorf(n, path, "%v", err)
		}
	}
	return typ
}

func (p *parser) entry(n *yaml.Node, path string) time.Duration {
	var again time.Duration
	p.fields(n, path, []string{"once", "again_after"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "once":
			if once, ok := p.Bool(v, sub); ok && !once {
				p.Errorf(v, sub, "expected true (or use again_after: 90d to let customers enter again)")
			}
		case "again_after":
			if d, ok := p.duration(v, sub); ok {
				if d < 24*time.Hour {
					p.Errorf(v, sub, "expected at least 1d between entries")
				}
				again = d
			}
		}
	})
	return again
}

func (p *parser) goal(n *yaml.Node, path string) *Goal {
	g := &Goal{Within: DefaultGoalAfter}
	var step *yaml.Node
	var stepPath string
	p.fields(n, path, []string{"event", "step", "where", "within"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "step":
			step, stepPath = v, sub
		case "event":
			g.Event = p.eventType(v, sub)
		case "where":
			g.Where = p.properties(v, sub)
		case "within":
			if d, ok := p.duration(v, sub); ok {
				g.Within = d
			}
		}
	})
	if g.Event == "" {
		if spec.Resolve(n).Kind == yaml.MappingNode {
			p.Errorf(n, spec.Join(path, "event"), "is required (the event that counts as a conversion)")
		}
		return nil
	}
	if step != nil {
		p.stepRefs = append(p.stepRefs, stepRef{node: step, path: stepPath, event: g.Event, where: &g.Where})
	}
	return g
}

var stepKinds = []string{StepSend, StepWait, StepBranch, StepTag, StepUntag, StepSet, StepWebhook}

// steps reads a list of steps; prefix numbers them for default IDs.
func (p *parser) steps(n *yaml.Node, path, prefix string) []Step {
	n = spec.Resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.Errorf(n, path, "expected a list of steps (each one of %s), got %s", strings.Join(stepKinds, ", "), spec.Describe(n))
		return nil
	}
	var out []Step
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		pos := strconv.Itoa(i + 1)
		if prefix != "" {
			pos = prefix + "." + pos
		}
		if st, ok := p.step(spec.Resolve(item), sub, pos); ok {
			out = append(out, st)
		}
	}
	return out
}

func (p *parser) step(n *yaml.Node, path, pos string) (Step, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.Errorf(n, path, "expected a step: a mapping with one of %s, got %s", strings.Join(stepKinds, ", "), spec.Describe(n))
		return Step{}, false
	}
	st := Step{ID: pos}
	var kindKey *yaml.Node
	var idNode *yaml.Node
	p.at(path, n)
	for k, v := range spec.Entries(n) {
		v = spec.Resolve(v)
		sub := spec.Join(path, k.Value)
		p.at(sub, v)
		switch {
		case k.Value == "id":
			if id, ok := p.Text(v, sub); ok {
				if !stepIDRE.MatchString(id) {
					p.Errorf(v, sub, "%q: expected letters, digits, - and _ (a step ID appears in idempotency keys)", id)
				}
				st.ID, idNode = id, v
			}
		case slices.Contains(stepKinds, k.Value):
			if kindKey != nil {
				p.Errorf(k, sub, "a step does one thing; %s is already given at line %d (start a new list item with -)", kindKey.Value, kindKey.Line)
				continue
			}
			kindKey = k
			st.Kind = k.Value
			if id, body := p.innerID(v, sub); id != nil {
				st.ID, idNode, v = id.Value, id, body
			}
			p.stepBody(&st, k, v, sub, pos)
		default:
			p.Errorf(k, sub, "unknown step key; expected one of %s (and optionally id)", strings.Join(stepKinds, ", "))
		}
	}
	if kindKey == nil {
		p.Errorf(n, path, "expected one of %s", strings.Join(stepKinds, ", "))
		return Step{}, false
	}
	at := kindKey
	if idNode != nil {
		at = idNode
	}
	if prev, dup := p.ids[st.ID]; dup {
		p.Errorf(at, path, "step id %q is already used at line %d; step IDs must be unique", st.ID, prev.Line)
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
		id := spec.Resolve(v.Content[i+1])
		if s, ok := p.Text(id, spec.Join(path, "id")); ok && !stepIDRE.MatchString(s) {
			p.Errorf(id, spec.Join(path, "id"), "%q: expected letters, digits, - and _ (a step ID appears in idempotency keys)", s)
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
		if tag, ok := p.Text(v, sub); ok {
			if tag == "" {
				p.Errorf(v, sub, "expected a tag name")
			}
			st.Tag = tag
		}
	case StepSet:
		st.Set = &SetAttr{}
		p.fields(v, sub, []string{"attribute", "value"}, func(k, v *yaml.Node, sub string) {
			switch k.Value {
			case "attribute":
				st.Set.Attribute, _ = p.Text(v, sub)
			case "value":
				if val, ok := spec.ScalarValue(v); ok {
					st.Set.Value = val
				} else {
					p.Errorf(v, sub, "expected text, a number or true/false, got %s", spec.Describe(v))
				}
			}
		})
		if st.Set.Attribute == "" && v.Kind == yaml.MappingNode {
			p.Errorf(v, spec.Join(sub, "attribute"), "is required")
		}
	case StepWebhook:
		st.Webhook = &Webhook{}
		p.fields(v, sub, []string{"url"}, func(k, v *yaml.Node, sub string) {
			if u, ok := p.Text(v, sub); ok {
				if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					p.Errorf(v, sub, "%q: expected an http:// or https:// URL", u)
				}
				st.Webhook.URL = u
			}
		})
		if st.Webhook.URL == "" && v.Kind == yaml.MappingNode {
			p.Errorf(v, spec.Join(sub, "url"), "is required")
		}
	}
}

func (p *parser) send(n *yaml.Node, path string) *Send {
	s := &Send{Channel: DefaultChannel, Topic: DefaultTopic}
	var variantsNode *yaml.Node
	p.fields(n, path, []string{"channel", "template", "topic", "vars", "variants"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "channel":
			if ch, ok := p.Text(v, sub); ok {
				if ch != "email" && ch != "sms" {
					p.Errorf(v, sub, "%q: expected email or sms", ch)
				}
				s.Channel = ch
			}
		case "template":
			s.Template, _ = p.Text(v, sub)
		case "topic":
			if topic, ok := p.Text(v, sub); ok {
				if err := spec.CheckTopic(topic); err != nil {
					p.Errorf(v, sub, "%v", err)
				}
				s.Topic = topic
			}
		case "vars":
			s.Vars = p.properties(v, sub)
		case "variants":
			variantsNode = v
			if spec.Resolve(v).Kind == yaml.MappingNode {
				s.Variants, s.Winner = p.winner(v, sub)
			} else {
				s.Variants = p.variants(v, sub)
			}
		}
	})
	if spec.Resolve(n).Kind != yaml.MappingNode {
		return s
	}
	if s.Template == "" {
		for _, v := range s.Variants {
			if v.Template == "" {
				p.Errorf(n, spec.Join(path, "template"), "is required (on the send or on every variant)")
				break
			}
		}
		if variantsNode == nil {
			p.Errorf(n, spec.Join(path, "template"), "is required")
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
		p.Errorf(n, path, "expected a list of at least two variants, each with name and percent, got %s", spec.Describe(n))
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
				if name, ok := p.Text(val, sub); ok {
					if !variantRE.MatchString(name) {
						p.Errorf(val, sub, "%q: expected a short name of letters, digits, - and _", name)
					} else if names[name] {
						p.Errorf(val, sub, "variant %q appears twice", name)
					}
					names[name] = true
					v.Name = name
				}
			case "percent":
				v.Percent = p.percent(val, sub, 1, 100)
			case "template":
				v.Template, _ = p.Text(val, sub)
			case "vars":
				v.Vars = p.properties(val, sub)
			}
		})
		if v.Name == "" && spec.Resolve(item).Kind == yaml.MappingNode {
			p.Errorf(item, spec.Join(sub, "name"), "is required")
		}
		total += v.Percent
		out = append(out, v)
	}
	if total != 100 {
		p.Errorf(n, path, "percentages add up to %d; expected 100", total)
	}
	return out
}

// winner reads variants written as a mapping: an A/B test that picks its
// winner, {test: 20, winner_after: 4h, metric: click, min_sent: 100,
// arms: [...]}, arms being the variants as a list would give them.
func (p *parser) winner(n *yaml.Node, path string) ([]Variant, *Winner) {
	w := &Winner{Test: DefaultWinnerTest, MinSent: DefaultWinnerMinSent}
	var arms []Variant
	seen := map[string]bool{}
	p.fields(n, path, []string{"test", "winner_after", "metric", "min_sent", "arms"}, func(k, v *yaml.Node, sub string) {
		seen[k.Value] = true
		switch k.Value {
		case "test":
			w.Test = p.percent(v, sub, 1, 90)
		case "winner_after":
			if d, ok := p.duration(v, sub); ok {
				if d < MinWinnerAfter || d > MaxWinnerAfter {
					p.Errorf(v, sub, "%s: expected a test window from 1h to 30d", spec.FormatDuration(d))
				}
				w.After = d
			}
		case "metric":
			if m, ok := p.Text(v, sub); ok {
				if m != MetricClick && m != MetricGoal {
					p.Errorf(v, sub, "%q: expected click (clicks per message sent) or goal (goal reached per message sent)", m)
				}
				w.Metric = m
			}
		case "min_sent":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
				p.Errorf(v, sub, "expected a whole number of messages, got %s", spec.Describe(v))
				return
			}
			if m, err := strconv.Atoi(v.Value); err != nil || m < 1 {
				p.Errorf(v, sub, "%s: expected at least 1 message per variant", v.Value)
			} else {
				w.MinSent = m
			}
		case "arms":
			arms = p.variants(v, sub)
		}
	})
	for _, req := range []string{"winner_after", "metric", "arms"} {
		if !seen[req] {
			p.Errorf(n, spec.Join(path, req), "is required when variants pick a winner (or write variants as a list to split without one)")
		}
	}
	p.winners = append(p.winners, winnerRef{node: n, path: path})
	return arms, w
}

// winnerRef is where a send's winner is written, checked against the whole
// campaign once it is read (checkWinners).
type winnerRef struct {
	node *yaml.Node
	path string
}

// checkWinners holds a campaign that picks an A/B winner to what the
// runner can do: the audience starts together (a schedule or a once
// trigger in one zone), the test is its first step, no other step splits,
// and the metric can be measured.
func (p *parser) checkWinners(s *Spec) {
	for _, r := range p.winners {
		switch {
		case r.path != "steps[0].send.variants":
			p.Errorf(r.node, r.path, "an automatic winner goes on the campaign's first step, so the rest of the audience can get it")
		case s.Trigger.Kind == TriggerEvent:
			p.Errorf(r.node, r.path, "an automatic winner needs the audience to start together: a schedule or once trigger, not an event")
		case s.Trigger.Kind == TriggerOnce && s.Trigger.Local:
			p.Errorf(r.node, r.path, "an automatic winner needs the audience to start together; once with local: true sends over a whole day")
		}
	}
	w := s.WinnerStep()
	if w == nil {
		return
	}
	at := p.winners[0]
	switch {
	case w.Send.Winner.Metric == MetricGoal && s.Goal == nil:
		p.Errorf(at.node, spec.Join(at.path, "metric"), "metric goal needs the campaign's goal (goal: {event: ...})")
	case w.Send.Winner.Metric == MetricClick && w.Send.Channel != DefaultChannel:
		p.Errorf(at.node, spec.Join(at.path, "metric"), "clicks are tracked in email only; use metric goal for SMS")
	}
	Walk(s.Steps[1:], func(st *Step) {
		if st.Send != nil && len(st.Send.Variants) > 0 {
			path := p.stepPaths[st.ID] + ".send.variants"
			e := spec.At(p.File, nil, path, "a campaign that picks an A/B winner splits at its first step only")
			if pos, ok := p.pos[path]; ok {
				e.Line, e.Column = pos.line, pos.col
			}
			p.Errs = append(p.Errs, e)
		}
	})
}

var variantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,30}$`)

var timeOfDayRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

func (p *parser) wait(n *yaml.Node, path, pos string) *Wait {
	w := &Wait{UntilMinute: -1}
	forms := 0
	var eventKey *yaml.Node
	var timeoutSet, branches bool
	var step *yaml.Node
	var stepPath string
	p.fields(n, path, []string{"duration", "until", "event", "step", "where", "timeout", "on_event", "on_timeout"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "step":
			step, stepPath = v, sub
		case "duration":
			forms++
			w.Duration, _ = p.duration(v, sub)
		case "until":
			forms++
			if s, ok := p.Text(v, sub); ok {
				m := timeOfDayRE.FindStringSubmatch(s)
				if m == nil {
					p.Errorf(v, sub, "%q: expected a local time of day like 09:30", s)
					return
				}
				h, _ := strconv.Atoi(m[1])
				mi, _ := strconv.Atoi(m[2])
				w.UntilMinute = h*60 + mi
			}
		case "event":
			forms++
			eventKey = k
			w.Event = p.eventType(v, sub)
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
	if spec.Resolve(n).Kind != yaml.MappingNode {
		return w
	}
	switch {
	case forms == 0:
		p.Errorf(n, path, "expected one of duration (3d), until (a local time like 09:30) or event (with timeout)")
	case forms > 1:
		p.Errorf(n, path, "expected only one of duration, until or event")
	case eventKey != nil && !timeoutSet:
		p.Errorf(eventKey, spec.Join(path, "timeout"), "is required with event (how long to wait for it, e.g. 7d)")
	case eventKey == nil && (timeoutSet || branches || w.Where != nil || step != nil):
		p.Errorf(n, path, "timeout, step, where, on_event and on_timeout only go with event")
	case step != nil:
		p.stepRefs = append(p.stepRefs, stepRef{node: step, path: stepPath, event: w.Event, where: &w.Where})
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
	if !hasIf && spec.Resolve(n).Kind == yaml.MappingNode {
		p.Errorf(n, spec.Join(path, "if"), "is required: segment: NAME or match: {...}")
	}
	return b
}

// duration reads a duration as the fixed length a timer waits
// (spec.ParseDuration: a month is 30 days there).
func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	d, ok := p.Duration(n, path)
	return d.Fixed(), ok
}

func (p *parser) percent(n *yaml.Node, path string, lo, hi int) int {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.Errorf(n, path, "expected a whole percentage %d-%d, got %s", lo, hi, spec.Describe(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		p.Errorf(n, path, "%s: expected a whole percentage %d-%d", n.Value, lo, hi)
		return 0
	}
	return v
}

// properties reads a flat mapping of names to scalar values (event filters,
// template vars).
func (p *parser) properties(n *yaml.Node, path string) map[string]any {
	out := map[string]any{}
	ok := p.Fields(n, path, nil, func(k, v *yaml.Node, sub string) {
		p.at(sub, k) // a name given for nothing is reported at the name
		val, ok := spec.ScalarValue(v)
		if !ok {
			p.Errorf(v, sub, "expected text, a number or true/false, got %s", spec.Describe(v))
			return
		}
		out[k.Value] = val
	})
	if !ok {
		return nil
	}
	return out
}
