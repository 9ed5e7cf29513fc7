package templates

import (
	"fmt"
	"slices"
	ttemplate "text/template"
	"text/template/parse"
)

// VarUse is what a template reads of Data.Vars, in every part and locale,
// so a campaign can be told before it runs which vars it must give and
// which it gives for nothing.
type VarUse struct {
	// Required are read as .Vars.name: rendering fails without them.
	Required []string
	// Optional are read as (index .Vars "name"): empty when not given.
	Optional []string
	// Any is true when a part hands .Vars on whole (to range, a function
	// or another template): then any var may be read.
	Any bool
}

// VarUse reads the parsed parts of a template for the vars they use.
func (s *Set) VarUse(name string) (VarUse, error) {
	e, ok := s.entries[name]
	if !ok {
		return VarUse{}, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	w := varWalker{required: map[string]bool{}, optional: map[string]bool{}, seen: map[string]bool{}}
	for _, v := range e.variants {
		for _, t := range []*ttemplate.Template{v.plain.subject, v.plain.text, v.plain.sms} {
			if t != nil {
				clear(w.seen)
				w.lookup = func(name string) *parse.Tree { return treeOf(t.Lookup(name)) }
				w.template(t.Name(), true)
			}
		}
		w.lookup = func(name string) *parse.Tree {
			if h := v.master.Lookup(name); h != nil {
				return h.Tree
			}
			return nil
		}
		clear(w.seen)
		w.template(v.master.Name(), true)
	}
	u := VarUse{Any: w.any}
	for k := range w.required {
		u.Required = append(u.Required, k)
	}
	for k := range w.optional {
		if !w.required[k] {
			u.Optional = append(u.Optional, k)
		}
	}
	slices.Sort(u.Required)
	slices.Sort(u.Optional)
	return u, nil
}

// Uses reports whether the template may read the var.
func (u VarUse) Uses(name string) bool {
	return u.Any || slices.Contains(u.Required, name) || slices.Contains(u.Optional, name)
}

func treeOf(t *ttemplate.Template) *parse.Tree {
	if t == nil {
		return nil
	}
	return t.Tree
}

// varWalker collects the uses of Vars from a part's tree and the templates
// it calls. root says whether dot is the Data the part renders (inside
// range and with, or in a template called with something else, it is
// not); top whether $ is.
type varWalker struct {
	required, optional map[string]bool
	any                bool
	lookup             func(name string) *parse.Tree
	seen               map[string]bool
}

func (w *varWalker) template(name string, root bool) {
	key := fmt.Sprint(name, root)
	tree := w.lookup(name)
	if tree == nil || w.seen[key] {
		return
	}
	w.seen[key] = true
	w.list(tree.Root, scope{root: root, top: root})
}

type scope struct{ root, top bool }

func (w *varWalker) list(l *parse.ListNode, sc scope) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		w.node(n, sc)
	}
}

func (w *varWalker) node(n parse.Node, sc scope) {
	inner := scope{top: sc.top}
	switch n := n.(type) {
	case *parse.ActionNode:
		w.pipe(n.Pipe, sc)
	case *parse.IfNode:
		w.branch(&n.BranchNode, sc, sc)
	case *parse.RangeNode:
		w.branch(&n.BranchNode, sc, inner)
	case *parse.WithNode:
		w.branch(&n.BranchNode, sc, inner)
	case *parse.TemplateNode:
		w.pipe(n.Pipe, sc)
		w.template(n.Name, sc.root && isDot(n.Pipe))
	case *parse.ListNode:
		w.list(n, sc)
	}
}

// branch walks if, range and with: the body runs in body's scope, the
// pipeline and the else branch in the enclosing one.
func (w *varWalker) branch(b *parse.BranchNode, sc, body scope) {
	w.pipe(b.Pipe, sc)
	w.list(b.List, body)
	w.list(b.ElseList, sc)
}

// isDot reports whether a pipeline is just ".".
func isDot(p *parse.PipeNode) bool {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	_, ok := p.Cmds[0].Args[0].(*parse.DotNode)
	return ok
}

func (w *varWalker) pipe(p *parse.PipeNode, sc scope) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		// index .Vars "name" reads one var and tolerates its absence.
		if len(c.Args) == 3 && isIdent(c.Args[0], "index") && isVars(c.Args[1], sc) {
			if s, ok := c.Args[2].(*parse.StringNode); ok {
				w.optional[s.Text] = true
				continue
			}
		}
		for _, a := range c.Args {
			w.arg(a, sc)
		}
	}
}

func (w *varWalker) arg(a parse.Node, sc scope) {
	var ident []string
	switch a := a.(type) {
	case *parse.FieldNode:
		if !sc.root {
			return
		}
		ident = a.Ident
	case *parse.VariableNode:
		if !sc.top || len(a.Ident) == 0 || a.Ident[0] != "$" {
			return
		}
		ident = a.Ident[1:]
	case *parse.ChainNode:
		w.arg(a.Node, sc)
		return
	case *parse.PipeNode:
		w.pipe(a, sc)
		return
	default:
		return
	}
	switch {
	case len(ident) == 0 || ident[0] != "Vars":
	case len(ident) == 1:
		w.any = true
	default:
		w.required[ident[1]] = true
	}
}

// isVars reports whether a is .Vars (or $.Vars) itself.
func isVars(a parse.Node, sc scope) bool {
	switch a := a.(type) {
	case *parse.FieldNode:
		return sc.root && len(a.Ident) == 1 && a.Ident[0] == "Vars"
	case *parse.VariableNode:
		return sc.top && len(a.Ident) == 2 && a.Ident[0] == "$" && a.Ident[1] == "Vars"
	}
	return false
}

func isIdent(n parse.Node, name string) bool {
	id, ok := n.(*parse.IdentifierNode)
	return ok && id.Ident == name
}
