package console

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/workflows"
)

// TestCatalogsAreWhole: every language has every string, each with the
// same arguments, and every string a template asks for exists — a page
// never shows a key where a sentence belongs.
func TestCatalogsAreWhole(t *testing.T) {
	ls := loadLocales()
	en := ls.byCode[langEN].strings
	verbs := regexp.MustCompile(`%(\[\d\])?[sdvf]|%\.1f`)
	for _, l := range ls.list[1:] {
		for _, k := range slices.Sorted(maps.Keys(en)) {
			s, ok := l.strings[k]
			if !ok {
				t.Errorf("%s lacks %q", l.code, k)
				continue
			}
			if got, want := len(verbs.FindAllString(s, -1)), len(verbs.FindAllString(en[k], -1)); got != want {
				t.Errorf("%s %q has %d arguments, English %d", l.code, k, got, want)
			}
		}
		for k := range l.strings {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English lacks", l.code, k)
			}
		}
	}
	used := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses %q, which the catalog lacks", f, m[1])
			}
		}
		// Keys built with printf: each prefix must have its entries.
		for _, prefix := range []string{"role.", "status.", "trigger.", "channel.", "msgstatus.", "delivery.", "tier.", "timeline.", "notice.", "rule."} {
			if strings.Contains(string(b), `printf "`+prefix) && !hasPrefix(en, prefix) {
				t.Errorf("%s builds %s* keys the catalog lacks", f, prefix)
			}
		}
	}
}

func hasPrefix(m map[string]string, p string) bool {
	for k := range m {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// TestMaskPII keeps enough to tell addresses apart and hides the rest.
func TestMaskPII(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com": "a•••@example.com",
		"+886912345678":   "+88••••••••78",
		"李雷@例子.中国":        "李•••@例子.中国",
	} {
		if got := maskPII(in); got != want {
			t.Errorf("maskPII(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLanguageFromBrowser: Taiwan and Hong Kong read Traditional, the
// mainland and plain zh Simplified, everyone else English.
func TestLanguageFromBrowser(t *testing.T) {
	ls := loadLocales()
	for header, want := range map[string]string{
		"zh-TW,zh;q=0.9": langZhTW, "zh-HK": langZhTW, "zh-Hant": langZhTW,
		"zh-CN": langZhCN, "zh": langZhCN, "zh-SG": langZhCN,
		"en-GB,en;q=0.8": langEN, "fr-FR": langEN, "": langEN,
	} {
		r := httptestRequest(header)
		if got := ls.pick(r).code; got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}
}

func httptestRequest(acceptLanguage string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/console/", nil)
	r.Header.Set("Accept-Language", acceptLanguage)
	return r
}

// TestDiffLines shows a changed line as removed and added, the rest kept.
func TestDiffLines(t *testing.T) {
	got := diffLines("name: a\nholdout: 10\nsteps: []\n", "name: a\nholdout: 20\nsteps: []\n")
	want := []diffLine{{" ", "name: a"}, {"-", "holdout: 10"}, {"+", "holdout: 20"}, {" ", "steps: []"}}
	if !slices.Equal(got, want) {
		t.Fatalf("diff = %v, want %v", got, want)
	}
	if got := diffLines("", "a\n"); !slices.Equal(got, []diffLine{{"+", "a"}}) {
		t.Fatalf("diff of a new file = %v", got)
	}
}

// TestUpliftInterval: a clear difference between groups of a few hundred
// is significant; the same rates with a handful of customers say nothing.
func TestUpliftInterval(t *testing.T) {
	arms := func(n, treated, held int) store.CampaignReport {
		return store.CampaignReport{Arms: []store.CampaignArm{
			{Entered: n, Converted: treated}, {Holdout: true, Entered: n, Converted: held},
		}}
	}
	u := upliftOf(arms(400, 80, 40))
	if u == nil || u.TooFew || !u.Significant || u.Points < 9.9 || u.Points > 10.1 || u.Low <= 0 {
		t.Fatalf("400 per group, 20%% against 10%%: %+v", u)
	}
	if u := upliftOf(arms(5, 1, 0)); u == nil || !u.TooFew || u.Significant {
		t.Fatalf("5 per group: %+v", u)
	}
	if u := upliftOf(store.CampaignReport{Arms: []store.CampaignArm{{Entered: 10}}}); u != nil {
		t.Fatalf("without a holdout: %+v", u)
	}
}

// TestCatalogsHaveTheCodesKeys: every key the Go code names outright
// (v.T("report.csv"), a report table's column) is in the catalog.
func TestCatalogsHaveTheCodesKeys(t *testing.T) {
	en := loadLocales().byCode[langEN].strings
	named := regexp.MustCompile(`\bv\.(?:T|col|num)\("([a-z_]+\.[a-z_.]*[a-z_])"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s asks for %q, which the catalog lacks", f, m[1])
			}
		}
	}
}

// TestCatalogsDescribeTheBuiltIns: every built-in template's description,
// every journey's summary and every outcome a run or an entry can end with
// reads in each language, so the journeys, templates and customer pages
// show no English on a Chinese page.
func TestCatalogsDescribeTheBuiltIns(t *testing.T) {
	en := loadLocales().byCode[langEN].strings
	set, err := templates.Load(templates.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range set.Names() {
		if i, _ := set.Info(name); i.Description != "" && en["about."+i.Description] == "" {
			t.Errorf("template %s: its description %q has no about.* entry", name, i.Description)
		}
	}
	for _, j := range workflows.Journeys() {
		if en["about."+j.Summary] == "" {
			t.Errorf("journey %s: its summary %q has no about.* entry", j.Name, j.Summary)
		}
	}
	// The outcomes are the constants named Outcome… where they are kept.
	for _, dir := range []string{"../../workflows", "../../activities", "../store"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				spec, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				for i, id := range spec.Names {
					if !strings.HasPrefix(id.Name, "Outcome") || i >= len(spec.Values) {
						continue
					}
					if v, ok := literal(spec.Values[i]); ok && en["outcome."+v] == "" {
						t.Errorf("%s: outcome %q has no outcome.* entry", f, v)
					}
				}
				return true
			})
		}
	}
}
