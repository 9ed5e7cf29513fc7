package templates

import (
	"errors"
	"slices"
	"testing"
)

// TestVarUseMatchesEverySample: what the parts of each built-in template
// read of Vars is exactly what its sample.json provides, so a campaign can
// trust VarUse to say which vars a send must give. Blocks of the layout a
// template never calls (the survey question) do not count.
func TestVarUseMatchesEverySample(t *testing.T) {
	s := load(t, Options{})
	for _, name := range s.Names() {
		u, err := s.VarUse(name)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := s.Info(name)
		used := append(slices.Clone(u.Required), u.Optional...)
		slices.Sort(used)
		if u.Any || !slices.Equal(used, info.Vars) {
			t.Errorf("%s reads %+v of Vars; its sample gives %v", name, u, info.Vars)
		}
	}
	if u, _ := s.VarUse("survey_request"); !slices.Equal(u.Required, []string{"survey"}) {
		t.Errorf("survey_request reads %+v, want survey (through the layout's survey question)", u)
	}
	if _, err := s.VarUse("nope"); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("VarUse(nope) = %v", err)
	}
}

func TestVarUseTellsOptionalAndWholeUses(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"care/en.subject.txt": `Checking in{{with index .Vars "order_ref"}} about order {{.}}{{end}}`,
		"care/zh-CN.body.txt": "{{.Greeting}}\n{{with .Customer.City}}{{.}} {{$.Vars.note}}{{end}}\n{{template \"signoff\" .}}\n{{template \"footer\" .}}",
		"care/sample.json":    `{"description": "x", "vars": {"note": "n"}}`,
		"tips/en.body.txt":    "{{.Greeting}}\n{{range $k, $v := .Vars}}{{$k}}{{end}}\n{{template \"signoff\" .}}\n{{template \"footer\" .}}",
	})
	s := load(t, Options{Dir: dir})
	care, _ := s.VarUse("care")
	if !slices.Equal(care.Required, []string{"note"}) || !slices.Equal(care.Optional, []string{"order_ref"}) || care.Any {
		t.Errorf("care reads %+v, want note required, order_ref optional", care)
	}
	if !care.Uses("order_ref") || care.Uses("coupon") {
		t.Errorf("care.Uses: order_ref %v, coupon %v", care.Uses("order_ref"), care.Uses("coupon"))
	}
	if tips, _ := s.VarUse("tips"); !tips.Any || !tips.Uses("anything") {
		t.Errorf("tips ranges over Vars, so uses any: %+v", tips)
	}
}
