package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/spec"
)

// valueType is what an operator expects as its value.
type valueType int

const (
	vText valueType = iota
	vTextList
	vEnum
	vEnumList
	vInt
	vIntList
	vIntPair
	vNum
	vNumPair
	vDuration
	vTime
	vBool
	vScalar
	vScalarList
)

var expectText = map[valueType]string{
	vText:       "text",
	vTextList:   "a non-empty list of text values",
	vEnum:       "one of %s",
	vEnumList:   "a non-empty list of %s",
	vInt:        "a whole number",
	vIntList:    "a non-empty list of whole numbers",
	vIntPair:    "a list of two whole numbers [low, high]",
	vNum:        "a number",
	vNumPair:    "a list of two numbers [low, high]",
	vDuration:   "a duration such as 30m, 12h, 3d, 2w or 6mo",
	vTime:       "a date (2026-03-01) or a time (2026-03-01T09:00:00Z)",
	vBool:       "true or false",
	vScalar:     "text, a number, or true/false",
	vScalarList: "a non-empty list of text, numbers or true/false",
}

// Parse reads a definition from YAML or JSON. filename (may be empty) only
// labels errors and tells JSON from YAML: a ".json" file, or content that is
// valid JSON, is JSON. Every problem is returned at once as Errors.
func Parse(data []byte, filename string) (*Definition, error) {
	format := "yaml"
	trimmed := bytes.TrimSpace(data)
	if strings.EqualFold(filepath.Ext(filename), ".json") || json.Valid(trimmed) {
		format = "json"
		// JSON is read by the YAML parser to keep line and column; a tab can
		// only be whitespace in valid JSON, and YAML rejects tab indentation.
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	root, err := spec.Decode(data, filename)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, Errors{spec.At(filename, nil, "", "empty definition; expected a mapping with match: (and optionally name: and description:)")}
	}
	d, err := FromNode(root, filename)
	if err != nil {
		return nil, err
	}
	d.Source = append([]byte(nil), trimmed...)
	d.Format = format
	return d, nil
}

// FromNode builds a definition from an already parsed YAML mapping with the
// keys name, description and match. Campaign files use it for an inline
// audience so errors keep the campaign file's lines and columns.
func FromNode(n *yaml.Node, filename string) (*Definition, error) {
	p := &parser{spec.Reader{File: filename}}
	d := &Definition{}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, "", "expected a mapping with match: (and optionally name: and description:)")
		return nil, p.Errs
	}
	seen := map[string]bool{}
	for k, v := range spec.Entries(n) {
		if seen[k.Value] {
			p.Errorf(k, k.Value, "appears twice")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if s, ok := p.text(v, "name"); ok {
				if err := CheckName(s); err != nil {
					p.Errorf(v, "name", "%v", err)
				}
				d.Name = s
			}
		case "description":
			d.Description, _ = p.text(v, "description")
		case "match":
			d.Match = p.cond(v, "match")
		default:
			p.Errorf(k, k.Value, "unknown key; expected name, description or match")
		}
	}
	if !seen["match"] {
		p.Errorf(n, "match", "is required (write `match: {all: []}` to select every customer)")
	}
	if len(p.Errs) > 0 {
		return nil, p.Errs
	}
	return d, nil
}

// CheckName reports whether name can name a saved segment (spec.CheckName).
func CheckName(name string) error { return spec.CheckName("segment", name) }

// parser reads a definition, collecting every problem.
type parser struct {
	spec.Reader
}

// text reads a required scalar string.
func (p *parser) text(n *yaml.Node, path string) (string, bool) {
	n = spec.Resolve(n)
	if !spec.IsScalar(n) || n.Value == "" {
		p.Errorf(n, path, "expected text, got %s", spec.Describe(n))
		return "", false
	}
	return n.Value, true
}

// cond parses one condition: a mapping whose keys are all, any, not, event,
// consent or field names; several keys in one mapping must all hold.
func (p *parser) cond(n *yaml.Node, path string) *Cond {
	n, ok := p.mapping(n, path, "a condition: a mapping such as `locale: en` or `all: [...]`")
	if !ok {
		return nil
	}
	if len(n.Content) == 0 {
		p.Errorf(n, path, "empty condition; expected a field, all, any, not, event or consent")
		return nil
	}
	var parts []*Cond
	seen := map[string]bool{}
	for k, v := range spec.Entries(n) {
		sub := spec.Join(path, k.Value)
		if seen[k.Value] {
			p.Errorf(k, sub, "appears twice in one condition; combine the operators in one mapping or use all: [...]")
			continue
		}
		seen[k.Value] = true
		var c *Cond
		switch k.Value {
		case "all", "any":
			c = p.list(k, v, sub)
		case "not":
			if child := p.cond(v, sub); child != nil {
				c = &Cond{Kind: KindNot, Children: []*Cond{child}}
			}
		case "event":
			c = p.event(v, sub)
		case "consent":
			c = p.consent(v, sub)
		default:
			c = p.field(k, v, sub)
		}
		if c != nil {
			if c.Path == "" {
				c.Path, c.Line, c.Column = sub, k.Line, k.Column
			}
			parts = append(parts, c)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &Cond{Kind: KindAll, Children: parts, Path: path, Line: n.Line, Column: n.Column}
}

func (p *parser) list(k, v *yaml.Node, path string) *Cond {
	v = spec.Resolve(v)
	kind := KindAll
	if k.Value == "any" {
		kind = KindAny
	}
	if v.Kind != yaml.SequenceNode {
		p.Errorf(v, path, "expected a list of conditions, got %s", spec.Describe(v))
		return nil
	}
	if len(v.Content) == 0 && kind == KindAny {
		p.Errorf(v, path, "an empty any: matches nobody; list at least one condition")
		return nil
	}
	c := &Cond{Kind: kind}
	for i, item := range v.Content {
		if child := p.cond(item, fmt.Sprintf("%s[%d]", path, i)); child != nil {
			c.Children = append(c.Children, child)
		}
	}
	return c
}

// field parses `NAME: value` or `NAME: {op: value, ...}`.
func (p *parser) field(k, v *yaml.Node, path string) *Cond {
	f, attr, ok := lookupField(k.Value)
	if !ok {
		if s := closest(k.Value, append(fieldNames(), "all", "any", "not", "event", "consent")); s != "" {
			p.Errorf(k, path, "unknown field %q (did you mean %s?)", k.Value, s)
			return nil
		}
		p.Errorf(k, path, "unknown field %q; expected one of: %s, all, any, not, event, consent", k.Value, strings.Join(fieldNames(), ", "))
		return nil
	}
	v = spec.Resolve(v)
	leaf := func(op string, at, val *yaml.Node, opPath string) *Cond {
		want, ok := opsByKind[f.kind][op]
		if !ok {
			msg := fmt.Sprintf("unknown operator %q for %s", op, k.Value)
			if s := closest(op, opNames(f.kind)); s != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			p.Errorf(at, opPath, "%s; expected one of: %s", msg, strings.Join(opNames(f.kind), ", "))
			return nil
		}
		value, ok := p.value(f, want, val, opPath)
		if !ok {
			return nil
		}
		return &Cond{Kind: KindField, Field: k.Value, Attr: attr, Op: op, Value: value, def: f,
			Path: opPath, Line: val.Line, Column: val.Column}
	}
	switch v.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		if f.kind == kTags && v.Kind == yaml.SequenceNode {
			p.Errorf(v, path, "a list of tags is ambiguous; write {all: [...]} or {any: [...]}")
			return nil
		}
		op := f.shorthand(v.Kind == yaml.SequenceNode)
		if op == "" {
			p.Errorf(v, path, "%s needs an operator here; expected a mapping such as {%s: ...} with one of: %s",
				k.Value, opNames(f.kind)[0], strings.Join(opNames(f.kind), ", "))
			return nil
		}
		return leaf(op, v, v, path)
	case yaml.MappingNode:
		var parts []*Cond
		seed := ""
		before := len(p.Errs)
		for ok, ov := range spec.Entries(v) {
			opPath := path + "." + ok.Value
			if ok.Value == "seed" && f.name == "bucket" {
				seed, _ = p.text(ov, opPath)
				continue
			}
			if c := leaf(ok.Value, ok, ov, opPath); c != nil {
				parts = append(parts, c)
			}
		}
		for _, c := range parts {
			c.Seed = seed
		}
		if len(parts) == 0 {
			if len(p.Errs) == before {
				p.Errorf(v, path, "expected at least one operator: %s", strings.Join(opNames(f.kind), ", "))
			}
			return nil
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return &Cond{Kind: KindAll, Children: parts}
	default:
		p.Errorf(v, path, "expected a value or a mapping of operators, got %s", spec.Describe(v))
		return nil
	}
}

// value converts an operator's YAML value to the Go type compile expects.
func (p *parser) value(f *field, want valueType, n *yaml.Node, path string) (any, bool) {
	n = spec.Resolve(n)
	bad := func() (any, bool) {
		exp := expectText[want]
		if want == vEnum || want == vEnumList {
			exp = fmt.Sprintf(exp, strings.Join(f.enum, ", "))
		}
		p.Errorf(n, path, "expected %s, got %s", exp, spec.Describe(n))
		return nil, false
	}
	switch want {
	case vText:
		if !spec.IsScalar(n) {
			return bad()
		}
		return n.Value, true
	case vEnum:
		if !spec.IsScalar(n) || !slices.Contains(f.enum, n.Value) {
			return bad()
		}
		return n.Value, true
	case vTextList, vEnumList:
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			return bad()
		}
		out := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			item = spec.Resolve(item)
			if !spec.IsScalar(item) || (want == vEnumList && !slices.Contains(f.enum, item.Value)) {
				n = item
				return bad()
			}
			out = append(out, item.Value)
		}
		return out, true
	case vInt:
		i, ok := p.int(f, n, path)
		return i, ok
	case vIntList:
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			return bad()
		}
		out := make([]int64, 0, len(n.Content))
		for _, item := range n.Content {
			i, ok := p.int(f, item, path)
			if !ok {
				return nil, false
			}
			out = append(out, i)
		}
		return out, true
	case vIntPair:
		if n.Kind != yaml.SequenceNode || len(n.Content) != 2 {
			return bad()
		}
		lo, ok1 := p.int(f, n.Content[0], path)
		hi, ok2 := p.int(f, n.Content[1], path)
		if !ok1 || !ok2 {
			return nil, false
		}
		if lo > hi {
			p.Errorf(n, path, "low bound %d is above high bound %d", lo, hi)
			return nil, false
		}
		return [2]int64{lo, hi}, true
	case vNum:
		if !isNumber(n) {
			return bad()
		}
		return n.Value, true
	case vNumPair:
		if n.Kind != yaml.SequenceNode || len(n.Content) != 2 || !isNumber(spec.Resolve(n.Content[0])) || !isNumber(spec.Resolve(n.Content[1])) {
			return bad()
		}
		lo, _ := strconv.ParseFloat(spec.Resolve(n.Content[0]).Value, 64)
		hi, _ := strconv.ParseFloat(spec.Resolve(n.Content[1]).Value, 64)
		if lo > hi {
			p.Errorf(n, path, "low bound %s is above high bound %s", n.Content[0].Value, n.Content[1].Value)
			return nil, false
		}
		return [2]string{spec.Resolve(n.Content[0]).Value, spec.Resolve(n.Content[1]).Value}, true
	case vDuration:
		d, ok := p.Duration(n, path)
		return d, ok
	case vTime:
		if !spec.IsScalar(n) {
			return bad()
		}
		if t, err := time.Parse("2006-01-02", n.Value); err == nil {
			return t, true
		}
		if t, err := time.Parse(time.RFC3339, n.Value); err == nil {
			return t, true
		}
		return bad()
	case vBool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return bad()
		}
		return n.Value == "true", true
	case vScalar:
		v, ok := scalarValue(n)
		if !ok {
			return bad()
		}
		return v, true
	case vScalarList:
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			return bad()
		}
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, ok := scalarValue(spec.Resolve(item))
			if !ok {
				n = spec.Resolve(item)
				return bad()
			}
			out = append(out, v)
		}
		return out, true
	}
	return bad()
}

func (p *parser) int(f *field, n *yaml.Node, path string) (int64, bool) {
	n = spec.Resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.Errorf(n, path, "expected a whole number, got %s", spec.Describe(n))
		return 0, false
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		p.Errorf(n, path, "expected a whole number, got %q", n.Value)
		return 0, false
	}
	if f != nil && f.max > 0 && (i < f.min || i > f.max) {
		p.Errorf(n, path, "%d is out of range; expected %d to %d", i, f.min, f.max)
		return 0, false
	}
	if i < 0 {
		p.Errorf(n, path, "%d is negative; expected 0 or more", i)
		return 0, false
	}
	return i, true
}

// mapping is n with aliases followed when it is a mapping; otherwise it
// reports that what was expected (an example of it) is not what is there.
func (p *parser) mapping(n *yaml.Node, path, expected string) (*yaml.Node, bool) {
	n = spec.Resolve(n)
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, path, "expected %s, got %s", expected, spec.Describe(n))
		return n, false
	}
	return n, true
}

// event parses {type, count, within, properties}.
func (p *parser) event(n *yaml.Node, path string) *Cond {
	n, ok := p.mapping(n, path, "a mapping such as {type: page_view, count: {gte: 3}, within: 30d}")
	if !ok {
		return nil
	}
	ev := &EventCond{}
	for k, v := range spec.Entries(n) {
		v = spec.Resolve(v)
		sub := path + "." + k.Value
		switch k.Value {
		case "type":
			if typ, good := p.text(v, sub); good {
				if err := spec.CheckEventType(typ); err != nil {
					p.Errorf(v, sub, "%v", err)
					ok = false
				}
				ev.Type = typ
			}
		case "within":
			d, good := p.Duration(v, sub)
			ok = ok && good
			ev.Within = &d
		case "properties":
			if v.Kind != yaml.MappingNode {
				p.Errorf(v, sub, "expected a mapping of property values, e.g. {category: shoes}, got %s", spec.Describe(v))
				ok = false
				continue
			}
			if err := v.Decode(&ev.Properties); err != nil {
				p.Errorf(v, sub, "%v", err)
				ok = false
			}
		case "count":
			cs, good := p.count(v, sub)
			ok = ok && good
			ev.Count = cs
		default:
			p.Errorf(k, sub, "unknown key; expected type, count, within or properties")
			ok = false
		}
	}
	if ev.Type == "" {
		p.Errorf(n, path+".type", "is required, e.g. type: page_view")
		ok = false
	}
	if !ok {
		return nil
	}
	if len(ev.Count) == 0 {
		ev.Count = []Comparison{{Op: "gte", Value: int64(1)}}
	}
	return &Cond{Kind: KindEvent, Event: ev}
}

// count parses an event count: a whole number (exactly) or integer operators.
func (p *parser) count(n *yaml.Node, path string) ([]Comparison, bool) {
	ops := opsByKind[kInt]
	if n.Kind == yaml.ScalarNode {
		i, ok := p.int(nil, n, path)
		return []Comparison{{Op: "eq", Value: i}}, ok
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.Errorf(n, path, "expected a whole number or a mapping such as {gte: 3}, got %s", spec.Describe(n))
		return nil, false
	}
	var out []Comparison
	for k, v := range spec.Entries(n) {
		want, ok := ops[k.Value]
		if !ok {
			p.Errorf(k, path+"."+k.Value, "unknown operator %q; expected one of: %s", k.Value, strings.Join(opNames(kInt), ", "))
			return nil, false
		}
		val, ok := p.value(&field{name: "count"}, want, v, path+"."+k.Value)
		if !ok {
			return nil, false
		}
		out = append(out, Comparison{Op: k.Value, Value: val})
	}
	return out, true
}

// consent parses {channel, topic}.
func (p *parser) consent(n *yaml.Node, path string) *Cond {
	n, ok := p.mapping(n, path, "a mapping such as {channel: email, topic: marketing}")
	if !ok {
		return nil
	}
	cc := &ConsentCond{}
	for k, v := range spec.Entries(n) {
		sub := path + "." + k.Value
		switch k.Value {
		case "channel":
			cc.Channel, _ = p.text(v, sub)
			if cc.Channel != "" && cc.Channel != "email" && cc.Channel != "sms" {
				p.Errorf(v, sub, "expected email or sms, got %q", cc.Channel)
				ok = false
			}
		case "topic":
			if topic, good := p.text(v, sub); good {
				if err := spec.CheckTopic(topic); err != nil {
					p.Errorf(v, sub, "%v", err)
					ok = false
				}
				cc.Topic = topic
			}
		default:
			p.Errorf(k, sub, "unknown key; expected channel and topic")
			ok = false
		}
	}
	for key, val := range map[string]string{"channel": cc.Channel, "topic": cc.Topic} {
		if val == "" {
			p.Errorf(n, path+"."+key, "is required")
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return &Cond{Kind: KindConsent, Consent: cc}
}

func isNumber(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		return false
	}
	_, err := strconv.ParseFloat(n.Value, 64)
	return err == nil
}

// scalarValue keeps the YAML type of an attribute value, because attributes
// are typed JSON: "10" and 10 are different values, and every number is a
// JSON number.
func scalarValue(n *yaml.Node) (any, bool) {
	v, ok := spec.ScalarValue(n)
	if i, isInt := v.(int64); isInt {
		return float64(i), ok
	}
	return v, ok
}
