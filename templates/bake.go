package templates

import (
	htemplate "html/template"
	"io"
	"strings"
	"sync"
	ttemplate "text/template"
	"text/template/parse"
)

// Every message of a variant is sent by the same company in the same
// locale, so what a template prints of those alone (the company's name in
// the header and footer, its address, the lang attribute) is the same in
// every message. A variant is baked once per company: a copy of its parsed
// templates in which each action printing only .Company.* or .Locale is
// replaced by its output, so rendering a message evaluates only what
// depends on the customer (greeting, links, variables). In HTML the output
// is escaped by html/template's own escapers, the ones the action's
// context called for, so the bytes are those the action would print.

// maxBaked bounds the companies a variant keeps a baked copy for; a process
// sends for one company, a test for a few.
const maxBaked = 4

// parts are the executable templates of a variant.
type parts struct {
	subject *ttemplate.Template
	html    *htemplate.Template
	text    *ttemplate.Template
	sms     *ttemplate.Template // nil when the template has no SMS body
}

// bakery holds a variant's baked copies, one per company.
type bakery struct {
	mu    sync.Mutex
	baked map[Company]*parts
}

// partsFor returns the variant's templates baked for company, baking them
// on first use; sample gives data the variant renders with (to let
// html/template settle each action's context before it is baked). A variant
// that cannot be baked renders from its plain copy.
func (v *variant) partsFor(company Company, locale string, sample func() Data) *parts {
	v.bakery.mu.Lock()
	defer v.bakery.mu.Unlock()
	if p, ok := v.bakery.baked[company]; ok {
		return p
	}
	if len(v.bakery.baked) >= maxBaked {
		return v.plain
	}
	p, ok := v.bake(shared{company: company, locale: locale}, sample())
	if !ok {
		p = v.plain
	}
	if v.bakery.baked == nil {
		v.bakery.baked = map[Company]*parts{}
	}
	v.bakery.baked[company] = p
	return p
}

// bake copies the variant's parsed templates and bakes what s decides.
func (v *variant) bake(s shared, sample Data) (*parts, bool) {
	h, err := v.master.Clone()
	if err != nil {
		return nil, false
	}
	sample.Company = s.company
	// Executing settles the escaping of the whole set; the trees are baked
	// after it, never while another goroutine executes them.
	if err := h.Execute(io.Discard, newView(sample, s.locale)); err != nil {
		return nil, false
	}
	p := &parts{html: h, subject: bakeText(v.plain.subject, s), text: bakeText(v.plain.text, s)}
	if v.plain.sms != nil {
		p.sms = bakeText(v.plain.sms, s)
	}
	for _, t := range h.Templates() {
		if t.Tree == nil || !viewCalled(h.Name(), t.Name(), h.Templates()) {
			continue
		}
		s.bakeList(t.Tree.Root, true, htmlOutput)
	}
	return p, true
}

// bakeText copies a text template set and bakes it.
func bakeText(t *ttemplate.Template, s shared) *ttemplate.Template {
	c, err := t.Clone()
	if err != nil {
		return t
	}
	all := c.Templates()
	for _, x := range all {
		if x.Tree == nil {
			continue
		}
		// Clone shares the parse trees; baking must not reach the original.
		x.Tree = x.Tree.Copy()
	}
	for _, x := range all {
		if x.Tree == nil || !viewCalledText(c.Name(), x.Name(), all) {
			continue
		}
		s.bakeList(x.Tree.Root, true, textOutput)
	}
	return c
}

// shared is what every message of a baked variant has in common.
type shared struct {
	company Company
	locale  string
}

// field is the value of a field of the view that depends on s alone.
func (s shared) field(n parse.Node) (string, bool) {
	f, ok := n.(*parse.FieldNode)
	if !ok {
		return "", false
	}
	switch strings.Join(f.Ident, ".") {
	case "Locale":
		return s.locale, true
	case "Company.Name":
		return s.company.Name, true
	case "Company.PostalAddress":
		return s.company.PostalAddress, true
	case "Company.Website":
		return s.company.Website, true
	}
	return "", false
}

// output prints an action of shared data as its template would, or
// reports false when it cannot tell.
type output func(value string, pipe *parse.PipeNode) (string, bool)

// textOutput prints {{.Company.Name}} in text/template: the string itself.
func textOutput(value string, pipe *parse.PipeNode) (string, bool) {
	if len(pipe.Cmds) != 1 {
		return "", false
	}
	return value, true
}

// htmlOutput prints an escaped {{.Company.Name | _html_template_...}} by
// running the same escapers over the value in a probe template.
func htmlOutput(value string, pipe *parse.PipeNode) (string, bool) {
	var chain []string
	for _, c := range pipe.Cmds[1:] {
		id, ok := c.Args[0].(*parse.IdentifierNode)
		if len(c.Args) != 1 || !ok {
			return "", false
		}
		chain = append(chain, id.Ident)
	}
	return escapeLike(strings.Join(chain, " "), value)
}

// bakeList replaces, in a list whose dot is the view when dotIsView, each
// action that prints shared data with a text node of its output.
func (s shared) bakeList(l *parse.ListNode, dotIsView bool, out output) {
	if l == nil {
		return
	}
	for i, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if !dotIsView || len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) == 0 || len(n.Pipe.Cmds[0].Args) != 1 {
				continue
			}
			v, ok := s.field(n.Pipe.Cmds[0].Args[0])
			if !ok {
				continue
			}
			if text, ok := out(v, n.Pipe); ok {
				l.Nodes[i] = &parse.TextNode{NodeType: parse.NodeText, Pos: n.Pos, Text: []byte(text)}
			}
		case *parse.IfNode:
			s.bakeList(n.List, dotIsView, out)
			s.bakeList(n.ElseList, dotIsView, out)
		case *parse.WithNode:
			s.bakeList(n.List, false, out) // dot is the with's value
			s.bakeList(n.ElseList, dotIsView, out)
		case *parse.RangeNode:
			s.bakeList(n.List, false, out) // dot is the element
			s.bakeList(n.ElseList, dotIsView, out)
		}
	}
}

// calls lists the templates a list calls, and whether each call passes
// the view as dot.
func calls(l *parse.ListNode, dotIsView bool, found func(name string, withView bool)) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TemplateNode:
			found(n.Name, dotIsView && isDot(n.Pipe))
		case *parse.IfNode:
			calls(n.List, dotIsView, found)
			calls(n.ElseList, dotIsView, found)
		case *parse.WithNode:
			calls(n.List, false, found)
			calls(n.ElseList, dotIsView, found)
		case *parse.RangeNode:
			calls(n.List, false, found)
			calls(n.ElseList, dotIsView, found)
		}
	}
}

// viewCalledIn reports whether the template name always runs with the view
// as dot: it is the root (executed with the view), or every call of it is
// made with the view from a template that itself always runs with it.
func viewCalledIn(root, name string, trees map[string]*parse.Tree) bool {
	view := map[string]bool{}
	for n := range trees {
		view[n] = true
	}
	for changed := true; changed; {
		changed = false
		called := map[string]bool{}
		bad := map[string]bool{}
		for caller, t := range trees {
			calls(t.Root, true, func(callee string, withView bool) {
				called[callee] = true
				if !withView || !view[caller] {
					bad[callee] = true
				}
			})
		}
		for n := range trees {
			ok := n == root || (called[n] && !bad[n])
			if view[n] && !ok {
				view[n], changed = false, true
			}
		}
	}
	return view[name]
}

func viewCalled(root, name string, all []*htemplate.Template) bool {
	trees := map[string]*parse.Tree{}
	for _, t := range all {
		if t.Tree != nil {
			trees[t.Name()] = t.Tree
		}
	}
	return viewCalledIn(root, name, trees)
}

func viewCalledText(root, name string, all []*ttemplate.Template) bool {
	trees := map[string]*parse.Tree{}
	for _, t := range all {
		if t.Tree != nil {
			trees[t.Name()] = t.Tree
		}
	}
	return viewCalledIn(root, name, trees)
}

// probes are templates in whose {{.}} html/template calls each escaper
// chain baking knows; escapeLike runs the value through one of them.
var probeSources = []string{
	`{{.}}`,
	`<p title="{{.}}">`,
	`<title>{{.}}</title>`,
	`<a href="{{.}}">`,
	`<a href="/?q={{.}}">`,
	`<a href="/{{.}}">`,
}

// escapeLike escapes value as html/template does with the escaper chain,
// or reports false for a chain no probe produces.
func escapeLike(chain, value string) (string, bool) {
	for _, src := range probeSources {
		t := htemplate.Must(htemplate.New("probe").Parse(src))
		var b strings.Builder
		if err := t.Execute(&b, value); err != nil {
			continue
		}
		if probeChain(t) != chain {
			continue
		}
		before, after, _ := strings.Cut(src, "{{.}}")
		out := b.String()
		if !strings.HasPrefix(out, before) || !strings.HasSuffix(out, after) {
			return "", false
		}
		return out[len(before) : len(out)-len(after)], true
	}
	return "", false
}

// probeChain is the escaper chain html/template gave a probe's {{.}}.
func probeChain(t *htemplate.Template) string {
	for _, n := range t.Tree.Root.Nodes {
		if a, ok := n.(*parse.ActionNode); ok {
			var chain []string
			for _, c := range a.Pipe.Cmds[1:] {
				chain = append(chain, c.String())
			}
			return strings.Join(chain, " ")
		}
	}
	return ""
}
