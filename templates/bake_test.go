package templates

import (
	"strings"
	"testing"
	"text/template/parse"
)

// TestBakedTemplatesRenderWhatTheTemplatesSay renders every template in
// every locale twice, from the copy baked for the company and from the
// plain parsed templates, for a company whose name and address need
// escaping in every context and a customer whose name is markup: the
// messages are byte for byte the same, and the customer's name is still
// escaped in HTML.
func TestBakedTemplatesRenderWhatTheTemplatesSay(t *testing.T) {
	s := load(t, Options{})
	companies := []Company{
		s.samples.Company,
		{Name: `Bell & "Book" <i>Ltd</i> 'x' 王記`, PostalAddress: `1 <script>alert(1)</script> St, 台北市`, Website: `javascript:alert(1)`},
	}
	for _, company := range companies {
		for _, name := range s.Names() {
			e := s.entries[name]
			for _, loc := range e.info.Locales {
				d := s.sampleData(e, loc)
				d.Company = company
				d.Customer.FirstName = `<script>alert("hi")</script>`
				channels := []string{ChannelEmail}
				if e.info.SMS {
					channels = append(channels, ChannelSMS)
				}
				for _, ch := range channels {
					baked, berr := s.Render(name, loc, ch, d)
					plain, perr := s.execute(e, loc, ch, d, e.variants[loc].plain)
					if (berr == nil) != (perr == nil) || (berr != nil && berr.Error() != perr.Error()) {
						t.Errorf("%s %s %s: baked render fails with %v, the template with %v", name, loc, ch, berr, perr)
					}
					if baked != plain {
						t.Errorf("%s %s %s for %q: baked render differs from the template\nbaked: %+v\nplain: %+v", name, loc, ch, company.Name, baked, plain)
					}
					if strings.Contains(baked.HTML, "<script>") {
						t.Errorf("%s %s: markup from the customer's or the company's data reached the HTML unescaped", name, loc)
					}
				}
			}
		}
	}
}

// TestBakingLeavesOnlyTheCustomersActions checks that baking does its
// work: in the care email's HTML, the company's name, its address and the
// lang attribute are text in the baked copy, and what remains to evaluate
// per message is the customer's (greeting, links).
func TestBakingLeavesOnlyTheCustomersActions(t *testing.T) {
	s := load(t, Options{})
	e := s.entries["care"]
	d := s.sampleData(e, "en")
	if _, err := s.Render("care", "en", ChannelEmail, d); err != nil {
		t.Fatal(err)
	}
	p := e.variants["en"].partsFor(d.Company, "en", func() Data { return d })
	if p == e.variants["en"].plain {
		t.Fatal("the care email was not baked")
	}
	var left []string
	for _, tm := range p.html.Templates() {
		if tm.Tree != nil && viewCalled(p.html.Name(), tm.Name(), p.html.Templates()) {
			left = append(left, actions(tm.Tree.Root)...)
		}
	}
	for _, a := range left {
		if strings.Contains(a, ".Company") || strings.Contains(a, ".Locale") {
			t.Errorf("action %s is still evaluated per message", a)
		}
	}
	if len(left) == 0 {
		t.Error("no action left: the greeting and the links must still be rendered per message")
	}
}

func actions(l *parse.ListNode) []string {
	var out []string
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			out = append(out, n.String())
		case *parse.IfNode:
			out = append(out, actions(n.List)...)
		}
	}
	return out
}
