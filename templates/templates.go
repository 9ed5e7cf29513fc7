// Package templates holds every email and SMS Tidings sends, in every
// locale, and renders them for the one send path.
//
// Templates live in files/ (embedded in the binary) as one directory per
// template:
//
//	welcome/sample.json        what the template is for, and sample data
//	welcome/en.subject.txt     subject line (text/template)
//	welcome/en.body.html       HTML body (html/template)
//	welcome/en.body.txt        plain-text body (text/template)
//	welcome/en.sms.txt         SMS body (optional, in every locale or none)
//	_layout/en.html, en.txt    shared header and footer partials per locale
//	_layout/sample.json        sample company, links and customers
//
// Options.Dir names a directory with the same layout whose files replace
// the built-in ones file by file, so copy can change without a rebuild.
// Load parses everything once and renders every variant against its sample
// data, so a broken template stops start-up with its file, line and problem
// instead of failing a customer's message weeks later.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	ttemplate "text/template"
)

//go:embed all:files
var builtin embed.FS

// Channels a template renders for.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Errors callers branch on.
var (
	// ErrUnknownTemplate: no template has that name.
	ErrUnknownTemplate = errors.New("unknown template")
	// ErrNoSMSVariant: the template has no SMS body; send it by email.
	ErrNoSMSVariant = errors.New("template has no SMS body")
	// ErrTooLong: the SMS would need more segments than Options.MaxSMSSegments.
	ErrTooLong = errors.New("SMS too long")
)

// Options configures Load.
type Options struct {
	// Dir overrides the built-in files one by one ("" = built-in only).
	Dir string
	// DefaultLocale is the last resort of the locale fallback ("" = "en").
	// Every template must have it.
	DefaultLocale string
	// MaxSMSSegments rejects longer SMS bodies at render time (0 = no limit).
	MaxSMSSegments int
}

// Data is everything a template can show. The send path fills Company and
// Links; journeys put their own values in Vars. Vars is a map so that a
// template asking for a value nobody provided fails loudly.
type Data struct {
	Customer Customer       `json:"customer"`
	Company  Company        `json:"company"`
	Links    Links          `json:"links"`
	Vars     map[string]any `json:"vars"`
}

// Customer is the part of a profile copy may mention. It holds no address
// or phone number: templates never need them.
type Customer struct {
	ID          string  `json:"id"`
	FirstName   string  `json:"first_name"`
	LastName    string  `json:"last_name"`
	Locale      string  `json:"locale"`
	TimeZone    string  `json:"time_zone"`
	City        string  `json:"city"`
	Country     string  `json:"country"`
	OrdersCount int     `json:"orders_count"`
	TotalSpent  float64 `json:"total_spent"`
}

// Company is the sender, printed in every footer as the law asks.
type Company struct {
	Name          string `json:"name"`
	PostalAddress string `json:"postal_address"`
	Website       string `json:"website"`
}

// Links are the signed, per-message URLs. Survey is a base URL; a
// one-click score link appends ?score=N.
type Links struct {
	Unsubscribe string `json:"unsubscribe"`
	Preferences string `json:"preferences"`
	Survey      string `json:"survey"`
}

// Rendered is one message ready for a provider. Email fills Subject, HTML
// and Text; SMS fills SMS, Encoding and Segments.
type Rendered struct {
	Template string
	// Locale is the variant used, after fallback.
	Locale   string
	Subject  string
	HTML     string
	Text     string
	SMS      string
	Encoding string
	Segments int
}

// Info describes a template for listings and previews.
type Info struct {
	Name        string
	Description string
	// Internal templates go to staff, not customers, and carry no unsubscribe link.
	Internal bool
	Locales  []string
	SMS      bool
	// Vars are the variables the sample provides, that is those the template uses.
	Vars []string
}

// Set is the parsed templates. It is safe for concurrent use.
type Set struct {
	defaultLocale string
	maxSegments   int
	entries       map[string]*entry
	samples       layoutSample
}

type entry struct {
	info     Info
	sample   templateSample
	variants map[string]*variant
}

type variant struct {
	// master is the parsed HTML, never executed: html/template copies
	// only a template that has not run, and each baked copy starts from it.
	master *htemplate.Template
	// plain renders without baking (bake.go).
	plain  *parts
	bakery bakery
}

// templateSample is a template's sample.json.
type templateSample struct {
	Description string         `json:"description"`
	Internal    bool           `json:"internal"`
	Vars        map[string]any `json:"vars"`
}

// layoutSample is _layout/sample.json: who the samples are sent by and to.
type layoutSample struct {
	Company   Company             `json:"company"`
	Links     Links               `json:"links"`
	Customers map[string]Customer `json:"customers"`
}

// LoadError lists every problem found in the templates, each starting with
// "file:line:" where a line is known.
type LoadError struct {
	Problems []string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%d template problem(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Template parts, by file suffix.
const (
	partSubject = ".subject.txt"
	partHTML    = ".body.html"
	partText    = ".body.txt"
	partSMS     = ".sms.txt"
	layoutDir   = "_layout"
	sampleFile  = "sample.json"
)

var (
	partSuffixes = []string{partSubject, partHTML, partText, partSMS}
	validName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// source is one file: where it came from (for messages) and its text.
type source struct {
	name string
	text string
}

// Load reads, parses and test-renders every template.
func Load(opt Options) (*Set, error) {
	def := "en"
	if opt.DefaultLocale != "" {
		var err error
		if def, err = CanonicalLocale(opt.DefaultLocale); err != nil {
			return nil, fmt.Errorf("default locale: %w", err)
		}
	}
	files, err := collect(opt.Dir)
	if err != nil {
		return nil, err
	}
	s := &Set{defaultLocale: def, maxSegments: opt.MaxSMSSegments, entries: map[string]*entry{}}
	l := &loader{set: s, files: files}
	l.load()
	if len(l.problems) > 0 {
		sort.Strings(l.problems)
		return nil, &LoadError{Problems: l.problems}
	}
	return s, nil
}

// collect gathers the built-in files and lays the override directory over
// them, keyed by slash path relative to the template root.
func collect(dir string) (map[string]source, error) {
	files := map[string]source{}
	root, _ := fs.Sub(builtin, "files")
	if err := walk(root, "templates/files", files); err != nil {
		return nil, fmt.Errorf("built-in templates: %w", err)
	}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("templates dir: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("templates dir %s: not a directory", dir)
		}
		if err := walk(os.DirFS(dir), dir, files); err != nil {
			return nil, fmt.Errorf("templates dir %s: %w", dir, err)
		}
	}
	return files, nil
}

func walk(fsys fs.FS, display string, into map[string]source) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(p)
		if p != "." && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(base, ".md") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		into[p] = source{name: path.Join(filepath.ToSlash(display), p), text: string(b)}
		return nil
	})
}

// loader accumulates problems so one run reports all of them.
type loader struct {
	set      *Set
	files    map[string]source
	problems []string
}

func (l *loader) problem(format string, args ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

func (l *loader) load() {
	// Sort files into the layout and the templates' directories.
	type parts = map[string]source            // suffix → file
	layouts := map[string]map[string]source{} // locale → ".html"/".txt" → file
	tmpls := map[string]map[string]parts{}    // name → locale → parts
	samples := map[string]source{}            // name → sample.json
	for p, src := range l.files {
		dir, file := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case dir == "" || strings.Contains(dir, "/"):
			l.problem("%s: unexpected file; templates live in NAME/LOCALE.PART files", src.name)
		case file == sampleFile && dir == layoutDir:
			if err := decodeStrict(src.text, &l.set.samples); err != nil {
				l.problem("%s: %v", src.name, err)
			}
		case file == sampleFile:
			samples[dir] = src
		case dir == layoutDir:
			loc, ext, ok := strings.Cut(file, ".")
			if !ok || (ext != "html" && ext != "txt") {
				l.problem("%s: a layout file is LOCALE.html or LOCALE.txt", src.name)
				continue
			}
			if !l.checkLocale(src.name, loc) {
				continue
			}
			if layouts[loc] == nil {
				layouts[loc] = map[string]source{}
			}
			layouts[loc]["."+ext] = src
		default:
			if !validName.MatchString(dir) {
				l.problem("%s: template name %q must be lower case letters, digits and _", src.name, dir)
				continue
			}
			suffix := ""
			for _, s := range partSuffixes {
				if strings.HasSuffix(file, s) {
					suffix = s
				}
			}
			if suffix == "" {
				l.problem("%s: unknown part; expected LOCALE%s", src.name, strings.Join(partSuffixes, ", LOCALE"))
				continue
			}
			loc := strings.TrimSuffix(file, suffix)
			if !l.checkLocale(src.name, loc) {
				continue
			}
			if tmpls[dir] == nil {
				tmpls[dir] = map[string]parts{}
			}
			if tmpls[dir][loc] == nil {
				tmpls[dir][loc] = parts{}
			}
			tmpls[dir][loc][suffix] = src
		}
	}
	if len(l.set.samples.Customers) == 0 {
		l.problem("%s/%s: no sample customers", layoutDir, sampleFile)
	}
	for name, locales := range tmpls {
		l.loadTemplate(name, locales, samples[name], layouts)
	}
	for name, src := range samples {
		if tmpls[name] == nil {
			l.problem("%s: template %s has no subject or body files", src.name, name)
		}
	}
}

// checkLocale accepts only canonical locale names, so one file cannot hide
// behind another spelling of the same locale.
func (l *loader) checkLocale(file, loc string) bool {
	canon, err := CanonicalLocale(loc)
	if err != nil {
		l.problem("%s: %v", file, err)
		return false
	}
	if canon != loc {
		l.problem("%s: locale %q must be written %q", file, loc, canon)
		return false
	}
	return true
}

func (l *loader) loadTemplate(name string, locales map[string]map[string]source, sampleSrc source, layouts map[string]map[string]source) {
	e := &entry{info: Info{Name: name}, variants: map[string]*variant{}}
	if sampleSrc.name == "" {
		l.problem("%s: template has no %s with sample data", name, sampleFile)
		return
	}
	if err := decodeStrict(sampleSrc.text, &e.sample); err != nil {
		l.problem("%s: %v", sampleSrc.name, err)
		return
	}
	e.info.Description, e.info.Internal = e.sample.Description, e.sample.Internal
	for k := range e.sample.Vars {
		e.info.Vars = append(e.info.Vars, k)
	}
	sort.Strings(e.info.Vars)

	smsLocales := 0
	for loc, ps := range locales {
		if _, ok := ps[partSMS]; ok {
			smsLocales++
		}
		missing := false
		for _, part := range []string{partSubject, partHTML, partText} {
			if _, ok := ps[part]; !ok {
				l.problem("%s: locale %s has no %s%s", name, loc, loc, part)
				missing = true
			}
		}
		if missing {
			continue
		}
		layoutLoc := resolveLocale(loc, l.set.defaultLocale, func(c string) bool { return layouts[c] != nil })
		lay := layouts[layoutLoc]
		if lay == nil || lay[".html"].name == "" || lay[".txt"].name == "" {
			l.problem("%s: no %s/%s.html and .txt layout for locale %s", name, layoutDir, loc, loc)
			continue
		}
		v, ok := l.parseVariant(loc, ps, lay)
		if ok {
			e.variants[loc] = v
			e.info.Locales = append(e.info.Locales, loc)
		}
	}
	if smsLocales > 0 && smsLocales != len(locales) {
		l.problem("%s: an SMS body exists in %d of %d locales; give every locale a %s or none", name, smsLocales, len(locales), partSMS)
	}
	e.info.SMS = smsLocales > 0
	if _, ok := locales[l.set.defaultLocale]; !ok {
		l.problem("%s: no variant in the default locale %s", name, l.set.defaultLocale)
	}
	sort.Strings(e.info.Locales)
	if len(e.variants) != len(locales) {
		return
	}
	l.set.entries[name] = e
	for _, loc := range e.info.Locales {
		l.tryRender(e, loc, locales[loc])
	}
}

func (l *loader) parseVariant(loc string, ps map[string]source, lay map[string]source) (*variant, bool) {
	funcs := funcsFor(loc)
	ok := true
	note := func(err error) {
		if err != nil {
			l.problem("%s", cleanTemplateError(err))
			ok = false
		}
	}
	parseText := func(src source, withLayout bool) *ttemplate.Template {
		t, err := ttemplate.New(src.name).Option("missingkey=error").Funcs(funcs).Parse(src.text)
		if err == nil && withLayout {
			_, err = t.New(lay[".txt"].name).Parse(lay[".txt"].text)
		}
		note(err)
		return t
	}
	p := &parts{
		subject: parseText(ps[partSubject], false),
		text:    parseText(ps[partText], true),
	}
	if src, has := ps[partSMS]; has {
		p.sms = parseText(src, true)
	}
	h, err := htemplate.New(ps[partHTML].name).Option("missingkey=error").Funcs(funcs).Parse(ps[partHTML].text)
	if err == nil {
		_, err = h.New(lay[".html"].name).Parse(lay[".html"].text)
	}
	if err == nil {
		p.html, err = h.Clone()
	}
	note(err)
	return &variant{master: h, plain: p}, ok
}

// tryRender renders a variant against its sample, and checks what a reader
// would notice: empty parts, "<no value>", a missing unsubscribe link, an
// SMS over the segment limit.
func (l *loader) tryRender(e *entry, loc string, ps map[string]source) {
	d := l.set.sampleData(e, loc)
	r, err := l.set.render(e, loc, ChannelEmail, d)
	if err != nil {
		l.problem("%s", cleanTemplateError(err))
		return
	}
	for part, body := range map[string]string{partHTML: r.HTML, partText: r.Text, partSubject: r.Subject} {
		if strings.Contains(body, "<no value>") {
			l.problem("%s: renders \"<no value>\": a variable is nil in the sample", ps[part].name)
		}
	}
	if !e.info.Internal {
		u := d.Links.Unsubscribe
		if !strings.Contains(r.Text, u) {
			l.problem("%s: the footer with the unsubscribe link is missing ({{template \"footer\" .}})", ps[partText].name)
		}
		if !strings.Contains(r.HTML, htemplate.HTMLEscapeString(u)) && !strings.Contains(r.HTML, u) {
			l.problem("%s: the footer with the unsubscribe link is missing ({{template \"footer\" .}})", ps[partHTML].name)
		}
	}
	if e.info.SMS {
		if _, err := l.set.render(e, loc, ChannelSMS, d); err != nil {
			msg := cleanTemplateError(err)
			if !strings.HasPrefix(msg, ps[partSMS].name) {
				msg = ps[partSMS].name + ": " + msg
			}
			l.problem("%s", msg)
		}
	}
}

var templateErrorPrefix = regexp.MustCompile(`(html/)?template: ?`)

// cleanTemplateError turns "render x (en, email): template: f.txt:3: ..."
// into "f.txt:3: ... (render x (en, email))": the file and line first, the
// form editors and CI logs link to.
func cleanTemplateError(err error) string {
	msg := err.Error()
	loc := templateErrorPrefix.FindStringIndex(msg)
	if loc == nil {
		return msg
	}
	clean := msg[loc[1]:]
	if context := strings.TrimSuffix(msg[:loc[0]], ": "); context != "" {
		clean += " (" + context + ")"
	}
	return clean
}

func decodeStrict(text string, v any) error {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(text[:se.Offset], "\n")
			return fmt.Errorf("line %d: %v", line, err)
		}
		return err
	}
	return nil
}

// Names lists the templates, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.entries))
	for n := range s.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Locales lists the locales a template has a variant for, sorted.
func (s *Set) Locales(name string) ([]string, error) {
	e, ok := s.entries[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	return slices.Clone(e.info.Locales), nil
}

// Info describes one template.
func (s *Set) Info(name string) (Info, error) {
	e, ok := s.entries[name]
	if !ok {
		return Info{}, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	i := e.info
	i.Locales, i.Vars = slices.Clone(i.Locales), slices.Clone(i.Vars)
	return i, nil
}

// DefaultLocale is the locale every fallback ends at.
func (s *Set) DefaultLocale() string { return s.defaultLocale }

// Resolve says which variant of a template a customer with the given
// locale receives.
func (s *Set) Resolve(name, locale string) (string, error) {
	e, ok := s.entries[name]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	return resolveLocale(locale, s.defaultLocale, func(c string) bool { return e.variants[c] != nil }), nil
}

// Sample returns the data a template is checked and previewed with: its
// sample vars, the sample company and links, and a sample customer who
// reads the given locale.
func (s *Set) Sample(name, locale string) (Data, error) {
	e, ok := s.entries[name]
	if !ok {
		return Data{}, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	loc := resolveLocale(locale, s.defaultLocale, func(c string) bool { return e.variants[c] != nil })
	return s.sampleData(e, loc), nil
}

func (s *Set) sampleData(e *entry, loc string) Data {
	custLoc := resolveLocale(loc, s.defaultLocale, func(c string) bool { _, ok := s.samples.Customers[c]; return ok })
	vars := make(map[string]any, len(e.sample.Vars))
	for k, v := range e.sample.Vars {
		vars[k] = v
	}
	return Data{Customer: s.samples.Customers[custLoc], Company: s.samples.Company, Links: s.samples.Links, Vars: vars}
}

// Render renders a template for a channel ("email" or "sms") in the best
// variant for locale. Errors name the template, the file and the variable.
func (s *Set) Render(name, locale, channel string, d Data) (Rendered, error) {
	e, ok := s.entries[name]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	loc := resolveLocale(locale, s.defaultLocale, func(c string) bool { return e.variants[c] != nil })
	return s.render(e, loc, channel, d)
}

func (s *Set) render(e *entry, loc, channel string, d Data) (Rendered, error) {
	p := e.variants[loc].partsFor(d.Company, loc, func() Data { return s.sampleData(e, loc) })
	return s.execute(e, loc, channel, d, p)
}

// execute renders with one copy of a variant's templates.
func (s *Set) execute(e *entry, loc, channel string, d Data, v *parts) (Rendered, error) {
	r := Rendered{Template: e.info.Name, Locale: loc}
	dot := newView(d, loc)
	wrap := func(err error) error {
		return fmt.Errorf("render %s (%s, %s): %w", e.info.Name, loc, channel, err)
	}
	var buf bytes.Buffer
	switch channel {
	case ChannelEmail:
		buf.Reset()
		if err := v.subject.Execute(&buf, dot); err != nil {
			return r, wrap(err)
		}
		// A subject is one header line: newlines and runs of spaces fold.
		r.Subject = strings.Join(strings.Fields(buf.String()), " ")
		if r.Subject == "" {
			return r, wrap(errors.New("subject is empty"))
		}
		buf.Reset()
		if err := v.html.Execute(&buf, dot); err != nil {
			return r, wrap(err)
		}
		r.HTML = buf.String()
		buf.Reset()
		if err := v.text.Execute(&buf, dot); err != nil {
			return r, wrap(err)
		}
		r.Text = tidyText(buf.String())
		return r, nil
	case ChannelSMS:
		if v.sms == nil {
			return r, wrap(ErrNoSMSVariant)
		}
		buf.Reset()
		if err := v.sms.Execute(&buf, dot); err != nil {
			return r, wrap(err)
		}
		r.SMS = strings.TrimSpace(buf.String())
		if r.SMS == "" {
			return r, wrap(errors.New("SMS body is empty"))
		}
		r.Segments, r.Encoding = SMSSegments(r.SMS)
		if s.maxSegments > 0 && r.Segments > s.maxSegments {
			return r, wrap(fmt.Errorf("%w: %d %s segments, limit %d", ErrTooLong, r.Segments, r.Encoding, s.maxSegments))
		}
		return r, nil
	}
	return r, wrap(fmt.Errorf("unknown channel %q (want %s or %s)", channel, ChannelEmail, ChannelSMS))
}

var blankRuns = regexp.MustCompile(`\n[ \t]*(\n[ \t]*)+\n`)

// tidyText trims a plain-text body and folds the blank lines that template
// actions leave behind into single paragraph breaks.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	s = blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.TrimSpace(s) + "\n"
}
