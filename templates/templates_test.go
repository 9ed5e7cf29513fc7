package templates

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var withSMS = []string{"birthday", "nudge", "survey_reminder", "survey_request", "winback_last_chance"}

// Characters written differently in Simplified and Traditional Chinese: a
// zh-CN message must contain none of the right-hand ones, and vice versa.
var scriptPairs = [][2]rune{
	{'们', '們'}, {'这', '這'}, {'优', '優'}, {'欢', '歡'}, {'谢', '謝'}, {'订', '訂'},
	{'账', '帳'}, {'户', '戶'}, {'邮', '郵'}, {'给', '給'}, {'时', '時'}, {'间', '間'},
	{'请', '請'}, {'问', '問'}, {'题', '題'}, {'为', '為'}, {'让', '讓'}, {'还', '還'},
	{'没', '沒'}, {'点', '點'}, {'钟', '鐘'}, {'来', '來'}, {'会', '會'}, {'对', '對'},
	{'个', '個'}, {'见', '見'}, {'写', '寫'}, {'码', '碼'}, {'过', '過'}, {'团', '團'},
	{'队', '隊'}, {'礼', '禮'}, {'乐', '樂'}, {'评', '評'}, {'论', '論'}, {'联', '聯'},
	{'关', '關'}, {'怀', '懷'}, {'复', '覆'}, {'单', '單'}, {'满', '滿'}, {'于', '於'},
}

func load(t *testing.T, opt Options) *Set {
	t.Helper()
	if opt.MaxSMSSegments == 0 {
		opt.MaxSMSSegments = 3
	}
	s, err := Load(opt)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// TestStarterTemplatesRenderInEveryLocale renders every built-in template
// (which ones there must be is names_test.go's business: the journeys'
// own and the example campaigns').
func TestStarterTemplatesRenderInEveryLocale(t *testing.T) {
	s := load(t, Options{})
	for _, name := range s.Names() {
		info, err := s.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(info.Locales, []string{"en", "zh-CN", "zh-TW"}) {
			t.Errorf("%s: locales %v", name, info.Locales)
		}
		if info.SMS != slices.Contains(withSMS, name) {
			t.Errorf("%s: SMS = %v", name, info.SMS)
		}
		if info.Description == "" {
			t.Errorf("%s: no description in sample.json", name)
		}
		for _, loc := range info.Locales {
			d, err := s.Sample(name, loc)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Render(name, loc, ChannelEmail, d)
			if err != nil {
				t.Errorf("%s/%s: %v", name, loc, err)
				continue
			}
			if r.Locale != loc || r.Template != name {
				t.Errorf("%s/%s: rendered %s/%s", name, loc, r.Template, r.Locale)
			}
			if r.Subject == "" || strings.Contains(r.Subject, "\n") {
				t.Errorf("%s/%s: subject %q", name, loc, r.Subject)
			}
			if !strings.Contains(r.HTML, `<html lang="`+loc+`">`) {
				t.Errorf("%s/%s: HTML does not declare its language", name, loc)
			}
			if !strings.Contains(r.HTML, "Harbour &amp; Pine") || strings.Contains(r.HTML, "Harbour & Pine") {
				t.Errorf("%s/%s: company name not HTML-escaped exactly once", name, loc)
			}
			if !strings.Contains(r.Text, d.Company.PostalAddress) && name != "detractor_alert" {
				t.Errorf("%s/%s: text footer lacks the postal address", name, loc)
			}
			internal := name == "detractor_alert"
			if has := strings.Contains(r.Text, d.Links.Unsubscribe); has == internal {
				t.Errorf("%s/%s: unsubscribe link in text = %v, internal = %v", name, loc, has, internal)
			}
			if !internal && !strings.Contains(r.Text, Greeting(loc, d.Customer)) {
				t.Errorf("%s/%s: text does not greet %q", name, loc, Greeting(loc, d.Customer))
			}
			checkScript(t, name+"/"+loc, loc, r.Subject+r.HTML+r.Text)

			sms, err := s.Render(name, loc, ChannelSMS, d)
			if !info.SMS {
				if !errors.Is(err, ErrNoSMSVariant) {
					t.Errorf("%s/%s: SMS error %v, want ErrNoSMSVariant", name, loc, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s/%s sms: %v", name, loc, err)
				continue
			}
			wantEnc := UCS2
			if loc == "en" {
				wantEnc = GSM7
			}
			if sms.Encoding != wantEnc || sms.Segments < 1 || sms.Segments > 3 {
				t.Errorf("%s/%s sms: %d segments %s: %q", name, loc, sms.Segments, sms.Encoding, sms.SMS)
			}
			if !strings.Contains(sms.SMS, "STOP") {
				t.Errorf("%s/%s sms: no opt-out instruction: %q", name, loc, sms.SMS)
			}
			if n := strings.Count(sms.SMS, "https://"); strings.HasPrefix(name, "survey_") && n != 1 {
				t.Errorf("%s/%s sms: %d links, want exactly one: %q", name, loc, n, sms.SMS)
			}
			checkScript(t, name+"/"+loc+" sms", loc, sms.SMS)
		}
	}
}

func checkScript(t *testing.T, what, loc, s string) {
	t.Helper()
	for _, p := range scriptPairs {
		switch {
		case loc == "zh-CN" && strings.ContainsRune(s, p[1]):
			t.Errorf("%s: Traditional %c in Simplified copy (write %c)", what, p[1], p[0])
		case loc == "zh-TW" && strings.ContainsRune(s, p[0]):
			t.Errorf("%s: Simplified %c in Traditional copy (write %c)", what, p[0], p[1])
		}
	}
}

func TestSurveyScoreLinks(t *testing.T) {
	s := load(t, Options{})
	for _, tc := range []struct {
		survey   string
		from, to int
	}{{"nps", 0, 10}, {"csat", 1, 5}} {
		for _, loc := range []string{"en", "zh-CN", "zh-TW"} {
			d, _ := s.Sample("survey_request", loc)
			d.Links.Survey = "https://t.example/s/TOKEN"
			d.Vars["survey"] = tc.survey
			r, err := s.Render("survey_request", loc, ChannelEmail, d)
			if err != nil {
				t.Fatal(err)
			}
			for n := tc.from - 1; n <= tc.to+1; n++ {
				link := `href="https://t.example/s/TOKEN?score=` + itoa(n) + `"`
				want := n >= tc.from && n <= tc.to
				if got := strings.Contains(r.HTML, link); got != want {
					t.Errorf("%s/%s: score link %d present = %v, want %v", tc.survey, loc, n, got, want)
				}
			}
		}
	}
	d, _ := s.Sample("survey_request", "en")
	d.Vars["survey"] = "ces"
	if _, err := s.Render("survey_request", "en", ChannelEmail, d); err == nil || !strings.Contains(err.Error(), `not "ces"`) {
		t.Errorf("unknown survey kind: err = %v", err)
	}
	// A survey base URL that already has a query gets &score=.
	v := view{Links: Links{Survey: "https://t.example/s?t=abc"}}
	if u, _ := v.ScoreURL(9); u != "https://t.example/s?t=abc&score=9" {
		t.Errorf("ScoreURL = %s", u)
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

func TestLocaleFallback(t *testing.T) {
	s := load(t, Options{})
	for _, tc := range []struct{ requested, want string }{
		{"en", "en"}, {"en-US", "en"}, {"en-GB", "en"}, {"EN_us", "en"},
		{"zh-CN", "zh-CN"}, {"zh", "zh-CN"}, {"zh-Hans", "zh-CN"}, {"zh-Hans-CN", "zh-CN"}, {"zh-SG", "zh-CN"}, {"zh_cn", "zh-CN"},
		{"zh-TW", "zh-TW"}, {"zh-Hant", "zh-TW"}, {"zh-Hant-TW", "zh-TW"}, {"zh-HK", "zh-TW"}, {"zh-MO", "zh-TW"}, {"zh-Hant-CN", "zh-TW"},
		{"fr-FR", "en"}, {"ja", "en"}, {"", "en"}, {"not a locale!", "en"},
	} {
		d, _ := s.Sample("welcome", "en")
		r, err := s.Render("welcome", tc.requested, ChannelEmail, d)
		if err != nil {
			t.Fatalf("%q: %v", tc.requested, err)
		}
		if r.Locale != tc.want {
			t.Errorf("locale %q rendered %s, want %s", tc.requested, r.Locale, tc.want)
		}
		if got, _ := s.Resolve("welcome", tc.requested); got != tc.want {
			t.Errorf("Resolve(%q) = %s, want %s", tc.requested, got, tc.want)
		}
	}
}

func TestLanguageVariantAndDefaultLocale(t *testing.T) {
	dir := t.TempDir()
	// Spanish welcome added from the override directory.
	writeFiles(t, dir, map[string]string{
		"welcome/es.subject.txt": "Bienvenido a {{.Company.Name}}",
		"welcome/es.body.html":   `{{template "header" .}}<p>¡Hola!</p>{{template "footer" .}}`,
		"welcome/es.body.txt":    "¡Hola!\n{{template \"footer\" .}}",
	})
	s := load(t, Options{Dir: dir, DefaultLocale: "zh-TW"})
	for requested, want := range map[string]string{"es-MX": "es", "es": "es", "fr": "zh-TW", "zh-SG": "zh-CN", "en-AU": "en"} {
		if got, _ := s.Resolve("welcome", requested); got != want {
			t.Errorf("default zh-TW: Resolve(%q) = %s, want %s", requested, got, want)
		}
	}
	d, _ := s.Sample("welcome", "es")
	r, err := s.Render("welcome", "es-MX", ChannelEmail, d)
	if err != nil || r.Subject != "Bienvenido a Harbour & Pine" {
		t.Errorf("es-MX: %q %v", r.Subject, err)
	}
	// Without a layout of its own, Spanish borrows the default locale's footer.
	if !strings.Contains(r.Text, "取消訂閱") {
		t.Errorf("es footer should come from the zh-TW layout:\n%s", r.Text)
	}
}

func TestChineseScriptsNeverSubstituted(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"notice/sample.json": `{"description": "test", "vars": {}}`}
	for _, loc := range []string{"en", "zh-TW"} {
		files["notice/"+loc+".subject.txt"] = "subject " + loc
		files["notice/"+loc+".body.html"] = `{{template "header" .}}` + loc + `{{template "footer" .}}`
		files["notice/"+loc+".body.txt"] = loc + "\n{{template \"footer\" .}}"
	}
	writeFiles(t, dir, files)
	s := load(t, Options{Dir: dir})
	d, _ := s.Sample("notice", "en")
	for requested, want := range map[string]string{
		"zh-CN": "en", "zh": "en", "zh-Hans": "en", "zh-SG": "en", // Simplified readers never get Traditional
		"zh-TW": "zh-TW", "zh-HK": "zh-TW", "zh-Hant": "zh-TW",
	} {
		r, err := s.Render("notice", requested, ChannelEmail, d)
		if err != nil {
			t.Fatal(err)
		}
		if r.Locale != want || r.Subject != "subject "+want {
			t.Errorf("%s got variant %s (%q), want %s", requested, r.Locale, r.Subject, want)
		}
	}
	// And the other way round with a Simplified-only template.
	dir2 := t.TempDir()
	files2 := map[string]string{"notice/sample.json": `{"description": "test", "vars": {}}`}
	for _, loc := range []string{"en", "zh-CN"} {
		files2["notice/"+loc+".subject.txt"] = "subject " + loc
		files2["notice/"+loc+".body.html"] = `{{template "header" .}}{{template "footer" .}}`
		files2["notice/"+loc+".body.txt"] = `{{template "footer" .}}`
	}
	writeFiles(t, dir2, files2)
	s2 := load(t, Options{Dir: dir2})
	for _, requested := range []string{"zh-TW", "zh-HK", "zh-MO", "zh-Hant"} {
		if got, _ := s2.Resolve("notice", requested); got != "en" {
			t.Errorf("%s resolved to %s; a Traditional reader must not get Simplified copy", requested, got)
		}
	}
}

func TestCanonicalLocale(t *testing.T) {
	for in, want := range map[string]string{
		"zh": "zh-CN", "zh-Hans": "zh-CN", "zh-SG": "zh-CN", "zh-MY": "zh-CN", "zh_Hans_SG": "zh-CN",
		"zh-Hant": "zh-TW", "zh-HK": "zh-TW", "zh-MO": "zh-TW", "zh-Hant-HK": "zh-TW", "zh-tw": "zh-TW",
		"en_us": "en-US", "EN": "en", "pt-br": "pt-BR",
	} {
		if got, err := CanonicalLocale(in); err != nil || got != want {
			t.Errorf("CanonicalLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "12345678901", "x_y_z!"} {
		if _, err := CanonicalLocale(bad); err == nil {
			t.Errorf("CanonicalLocale(%q) accepted", bad)
		}
	}
}

func TestMissingVariableNamesVariableAndTemplate(t *testing.T) {
	s := load(t, Options{})
	d, _ := s.Sample("birthday", "zh-CN")
	delete(d.Vars, "coupon")
	for _, ch := range []string{ChannelEmail, ChannelSMS} {
		_, err := s.Render("birthday", "zh-CN", ch, d)
		if err == nil {
			t.Fatalf("%s: rendered without the coupon", ch)
		}
		for _, want := range []string{"birthday", "coupon", "zh-CN"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", ch, err, want)
			}
		}
	}
	d.Vars = nil
	if _, err := s.Render("birthday", "en", ChannelEmail, d); err == nil || !strings.Contains(err.Error(), "discount_percent") && !strings.Contains(err.Error(), "coupon") {
		t.Errorf("nil Vars: %v", err)
	}
	d, _ = s.Sample("welcome", "en")
	d.Links.Unsubscribe = ""
	if _, err := s.Render("welcome", "en", ChannelEmail, d); err == nil || !strings.Contains(err.Error(), "Links.Unsubscribe is empty") {
		t.Errorf("no unsubscribe link: %v", err)
	}
	if _, err := s.Render("no_such", "en", ChannelEmail, d); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := s.Render("welcome", "en", "fax", d); err == nil || !strings.Contains(err.Error(), `"fax"`) {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestHTMLEscapesCustomerData(t *testing.T) {
	s := load(t, Options{})
	d, _ := s.Sample("welcome", "en")
	d.Customer.FirstName = `<script>alert(1)</script>`
	r, err := s.Render("welcome", "en", ChannelEmail, d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Errorf("name not escaped in HTML")
	}
	if !strings.Contains(r.Text, "Hi <script>alert(1)</script>,") {
		t.Errorf("plain text should carry the name as written")
	}
}

func TestOverrideDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"welcome/en.subject.txt": "{{.Greeting}} your new account at {{.Company.Name}}",
		"README.md":              "notes for the marketing team are ignored",
		".DS_Store":              "ignored",
	})
	s := load(t, Options{Dir: dir})
	d, _ := s.Sample("welcome", "en")
	r, err := s.Render("welcome", "en", ChannelEmail, d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi Ann, your new account at Harbour & Pine" {
		t.Errorf("override subject = %q", r.Subject)
	}
	// The files not overridden stay built-in.
	if !strings.Contains(r.Text, "Thank you for joining us") {
		t.Errorf("built-in body lost: %s", r.Text)
	}
	zh, _ := s.Render("welcome", "zh-CN", ChannelEmail, d)
	if zh.Subject != "欢迎加入Harbour & Pine，很高兴认识您" {
		t.Errorf("zh-CN subject = %q", zh.Subject)
	}
}

func TestBrokenTemplatesStopLoadWithFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error, with {dir} for the directory
	}{
		{"parse error", map[string]string{"welcome/en.body.txt": "{{.Greeting}}\n\nThanks for joining {{.Company.Name}\n"},
			[]string{"{dir}/welcome/en.body.txt:3:", "bad character"}},
		{"unknown function", map[string]string{"birthday/zh-TW.body.html": "{{template \"header\" .}}\n<p>{{shout .Vars.coupon}}</p>"},
			[]string{"{dir}/birthday/zh-TW.body.html:2:", `function "shout" not defined`}},
		{"unknown field at render", map[string]string{"nudge/en.sms.txt": "Hi\n{{.Customer.Nickname}}"},
			[]string{"{dir}/nudge/en.sms.txt:2:", "Nickname"}},
		{"missing var at render", map[string]string{"tips/en.subject.txt": "Tips {{.Vars.season}}"},
			[]string{"{dir}/tips/en.subject.txt:1:", `"season"`}},
		{"HTML left inside an attribute", map[string]string{"welcome/en.body.html": "{{template \"header\" .}}\n<a href=\"{{.Company.Website}}>Visit</a>\n{{template \"footer\" .}}"},
			[]string{"{dir}/welcome/en.body.html"}},
		{"footer forgotten", map[string]string{"care/en.body.txt": "{{.Greeting}} just checking in."},
			[]string{"{dir}/care/en.body.txt", "unsubscribe link is missing"}},
		{"bad sample json", map[string]string{"care/sample.json": "{\n  \"description\": \"x\",\n  \"vars\": {,}\n}"},
			[]string{"{dir}/care/sample.json", "line 3"}},
		{"unknown part", map[string]string{"care/en.subjet.txt": "typo"},
			[]string{"{dir}/care/en.subjet.txt", "unknown part"}},
		{"non-canonical locale", map[string]string{"care/zh-hant.subject.txt": "x"},
			[]string{"{dir}/care/zh-hant.subject.txt", `must be written "zh-TW"`}},
		{"SMS in some locales only", map[string]string{"care/en.sms.txt": "hello"},
			[]string{"care: an SMS body exists in 1 of 3 locales"}},
		{"SMS over the limit", map[string]string{"nudge/zh-CN.sms.txt": strings.Repeat("您好", 120)},
			[]string{"{dir}/nudge/zh-CN.sms.txt", "SMS too long", "4 UCS-2 segments, limit 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := Load(Options{Dir: dir, MaxSMSSegments: 3})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load = %v, want a LoadError", err)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "{dir}", filepath.ToSlash(dir))
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
	if _, err := Load(Options{Dir: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing templates directory was accepted")
	}
	if _, err := Load(Options{DefaultLocale: "fr"}); err == nil || !strings.Contains(err.Error(), "no variant in the default locale fr") {
		t.Errorf("default locale without variants: %v", err)
	}
}

func TestSMSTooLong(t *testing.T) {
	s := load(t, Options{MaxSMSSegments: 2})
	d, _ := s.Sample("birthday", "en")
	d.Vars["coupon"] = strings.Repeat("X", 300)
	r, err := s.Render("birthday", "en", ChannelSMS, d)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
	if r.Segments != 3 || r.Encoding != GSM7 {
		t.Errorf("too long SMS reported %d %s", r.Segments, r.Encoding)
	}
	if !strings.Contains(err.Error(), "3 GSM-7 segments, limit 2") {
		t.Errorf("error %q does not say by how much", err)
	}
}

func TestConcurrentRender(t *testing.T) {
	s := load(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loc := []string{"en", "zh-CN", "zh-TW"}[i%3]
			for _, name := range s.Names() {
				d, _ := s.Sample(name, loc)
				if _, err := s.Render(name, loc, ChannelEmail, d); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkRender measures one email render (subject, HTML and text) of a
// typical marketing template; the send path's benchmark includes this cost.
func BenchmarkRender(b *testing.B) {
	s, err := Load(Options{MaxSMSSegments: 3})
	if err != nil {
		b.Fatal(err)
	}
	d, _ := s.Sample("birthday", "zh-CN")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Render("birthday", "zh-HK", ChannelEmail, d); err != nil {
			b.Fatal(err)
		}
	}
}
