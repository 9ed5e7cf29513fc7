package manage_test

import (
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/templates"
)

const head = `name: c
audience: {segment: everyone}
trigger: {event: {type: signup}}
steps:
`

func parse(t *testing.T, src string) *campaign.Spec {
	t.Helper()
	s, err := campaign.Parse([]byte(src), "c.yaml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func templateSet(t *testing.T) *templates.Set {
	t.Helper()
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestCheckTemplatesTable: every message the file can send is checked
// against the real template set, and each problem points at its line.
func TestCheckTemplatesTable(t *testing.T) {
	set := templateSet(t)
	for _, tc := range []struct{ name, steps, want string }{
		{"fine", "  - send: {template: winback_offer, vars: {coupon: C, discount_percent: 10}}\n", ""},
		{"a coupon pool gives the coupon", "  - send: {template: winback_offer, vars: {coupon_pool: summer-sale, discount_percent: 10}}\n", ""},
		{"a coupon pool for a template without a coupon", "  - send: {template: welcome, vars: {coupon_pool: summer-sale}}\n",
			`steps[0].send.vars.coupon_pool: template welcome does not use var "coupon_pool"`},
		{"unknown template", "  - send: {template: winbak_offer}\n",
			`c.yaml:5:22: steps[0].send.template: "winbak_offer": unknown template; expected one of `},
		{"staff template", "  - send: {template: detractor_alert}\n",
			`c.yaml:5:22: steps[0].send.template: "detractor_alert" is an internal template`},
		{"sms without body", "  - send: {template: welcome, channel: sms}\n",
			`c.yaml:5:22: steps[0].send.template: "welcome" has no SMS body`},
		{"missing var", "  - send: {template: winback_offer, vars: {discount_percent: 10}}\n",
			`c.yaml:5:43: steps[0].send.vars: template winback_offer uses var "coupon", which this send does not set; expected vars coupon, discount_percent`},
		{"missing var, no vars at all", "  - wait: {duration: 1d}\n  - send: {id: s, template: survey_request}\n",
			`c.yaml:6:11: steps[1].send.vars: template survey_request uses var "survey"`},
		{"variant lacks a var", `  - send:
      template: spring_sale
      vars: {discount_percent: 20, ends_at: "2026-04-12T23:59:00+08:00"}
      variants:
        - {name: calm, percent: 50, vars: {subject_style: calm}}
        - {name: urgent, percent: 50}
`, `c.yaml:10:11: steps[0].send.variants[1].vars: template spring_sale uses var "subject_style"`},
		{"variant template unknown", `  - send:
      template: welcome
      variants:
        - {name: a, percent: 50}
        - {name: b, percent: 50, template: welcom}
`, `c.yaml:9:44: steps[0].send.variants[1].template: "welcom": unknown template`},
		{"var the template does not use", "  - send: {template: winback_offer, vars: {coupon: C, discount_percent: 10, discount: 5}}\n",
			`c.yaml:5:77: steps[0].send.vars.discount: template winback_offer does not use var "discount" (it reads vars coupon, discount_percent); remove it or correct its name`},
		{"var for a template without vars", "  - send: {template: welcome, vars: {coupon: C}}\n",
			`c.yaml:5:38: steps[0].send.vars.coupon: template welcome does not use var "coupon" (it reads no vars)`},
		{"every missing var at once", "  - send: {template: winback_offer}\n",
			`c.yaml:5:11: steps[0].send.vars: template winback_offer uses vars "coupon", "discount_percent", which this send does not set`},
		{"variant var the template does not use", `  - send:
      template: spring_sale
      vars: {discount_percent: 20, ends_at: "2026-04-12T23:59:00+08:00"}
      variants:
        - {name: calm, percent: 50, vars: {subject_style: calm}}
        - {name: urgent, percent: 50, vars: {subject_style: urgent, colour: red}}
`, `c.yaml:10:69: steps[0].send.variants[1].vars.colour: template spring_sale does not use var "colour"`},
		{"send var one arm's template reads", `  - send:
      vars: {coupon: C, discount_percent: 10}
      variants:
        - {name: offer, percent: 50, template: winback_offer}
        - {name: hello, percent: 50, template: winback_miss_you}
`, ""},
		{"send var no arm's template reads", `  - send:
      vars: {coupon: C, discount_percent: 10, colour: red}
      variants:
        - {name: offer, percent: 50, template: winback_offer}
        - {name: hello, percent: 50, template: winback_miss_you}
`, `c.yaml:6:47: steps[0].send.vars.colour: no variant's template uses var "colour"`},
		{"nested send", "  - branch:\n      if: {segment: vip}\n      then:\n        - send: {template: nope}\n",
			`c.yaml:8:28: steps[0].branch.then[0].send.template: "nope": unknown template`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := manage.CheckTemplates(parse(t, head+tc.steps), set)
			if tc.name == "unknown template" && (!strings.Contains(errs.Error(), "winback_offer") || strings.Contains(errs.Error(), "detractor_alert")) {
				t.Errorf("problems:\n%v\nwant the customer templates listed, without staff ones", errs)
			}
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Errorf("want no problems, got:\n%v", errs)
			case tc.want != "" && !strings.Contains(errs.Error(), tc.want):
				t.Errorf("problems:\n%v\nwant one containing %q", errs, tc.want)
			}
		})
	}
}

func TestExampleCampaignsRenderWithTheirVars(t *testing.T) {
	set := templateSet(t)
	for _, f := range exampleFiles(t) {
		if errs := manage.CheckTemplates(parse(t, f.src), set); len(errs) > 0 {
			t.Errorf("%s:\n%v", f.name, errs)
		}
	}
}

func TestCheckSegmentsNamesTheMissingOnes(t *testing.T) {
	st, _ := testdb.New(t)
	if _, _, err := st.SaveSegment(t.Context(), store.Segment{Name: "vip", Format: "yaml", Definition: "match: {tags: vip}\n"}); err != nil {
		t.Fatal(err)
	}
	s := parse(t, `name: c
audience: {segment: winback}
trigger: {event: {type: signup}}
steps:
  - branch:
      if: {segment: vip}
      then: [{tag: a}]
  - branch:
      if: {segment: loyal}
      then: [{tag: b}]
`)
	errs, err := manage.CheckSegments(t.Context(), s, st)
	if err != nil {
		t.Fatal(err)
	}
	got := errs.Error()
	for _, want := range []string{
		`c.yaml:2:21: audience.segment: "winback": no saved segment of that name`,
		`c.yaml:9:21: steps[1].branch.if.segment: "loyal": no saved segment`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems:\n%s\nwant %q", got, want)
		}
	}
	if len(errs) != 2 {
		t.Errorf("%d problems, want 2 (vip is saved)", len(errs))
	}
}
