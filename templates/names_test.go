package templates_test

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/workflows"
)

// TestBuiltInTemplatesAreWhatJourneysAndExamplesSend: the built-in
// templates are exactly those the registered journeys declare and those the
// example campaigns send, each in every locale. A journey added to the
// registry without its templates, or a template nothing sends, fails here.
func TestBuiltInTemplatesAreWhatJourneysAndExamplesSend(t *testing.T) {
	want := workflows.Templates()
	files, err := filepath.Glob(filepath.Join("..", "examples", "campaigns", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("example campaigns: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := campaign.Parse(data, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		campaign.Walk(spec.Steps, func(st *campaign.Step) {
			if st.Send == nil {
				return
			}
			want = append(want, st.Send.Template)
			for _, v := range st.Send.Variants {
				if v.Template != "" {
					want = append(want, v.Template)
				}
			}
		})
	}
	sort.Strings(want)
	want = slices.Compact(want)

	s, err := templates.Load(templates.Options{MaxSMSSegments: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Fatalf("built-in templates %v, want %v (the journeys' and the example campaigns')", got, want)
	}
	for _, name := range want {
		info, err := s.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(info.Locales, []string{"en", "zh-CN", "zh-TW"}) {
			t.Errorf("%s: locales %v, want en, zh-CN and zh-TW", name, info.Locales)
		}
	}
}
