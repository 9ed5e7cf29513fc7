package console

import (
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/spec"
)

// view is what every template sees: who is reading, in which language and
// time zone, and the page's own data in Page. Its methods are the
// templates' vocabulary ({{.T "nav.overview"}}, {{.Num .Page.Sent}}).
type view struct {
	Who   access.Principal
	Title string
	// Nav is the section the page belongs to, highlighted in the menu.
	Nav  string
	Page any
	// Path is the page's path and query, for the language switch.
	Path string
	// Notice is the catalog key of the confirmation a redirect after a
	// successful post asks for (?done=), "" for none.
	Notice string

	loc     *locale
	now     time.Time
	zone    *time.Location
	locales *locales
	csrf    string
	ui      webUI
}

func (c *Console) newView(r *http.Request, p access.Principal) *view {
	return &view{
		Who: p, Path: r.URL.RequestURI(), Notice: noticeKey(r), now: c.opt.Now(),
		loc: c.pages.locales.pick(r), zone: zone(r), locales: c.pages.locales, csrf: p.CSRFToken,
		ui: webUI{base: c.opt.TemporalUI, namespace: c.opt.Namespace},
	}
}

// T is the reader's language's text for key.
func (v *view) T(key string, args ...any) string { return v.loc.text(key, args...) }

// Lang is the page's lang attribute.
func (v *view) Lang() string { return v.loc.htmlTag }

// LangCode is the catalog in use ("zh-TW").
func (v *view) LangCode() string { return v.loc.code }

// Languages are the choices of the language switch.
func (v *view) Languages() []langChoice {
	out := make([]langChoice, len(v.locales.list))
	for i, l := range v.locales.list {
		out[i] = langChoice{Code: l.code, Name: l.name, Tag: l.htmlTag, Current: l == v.loc,
			URL: Prefix + "language?lang=" + l.code + "&next=" + urlQueryEscape(v.Path)}
	}
	return out
}

type langChoice struct {
	Code, Name, Tag, URL string
	Current              bool
}

// CSRF is the hidden field every form of a signed-in page carries.
func (v *view) CSRF() template.HTML {
	return template.HTML(`<input type="hidden" name="` + access.CSRFField + `" value="` + template.HTMLEscapeString(v.csrf) + `">`)
}

// Can reports whether the reader's role holds a level ("market",
// "operate", "administer"), so pages show only the buttons that work.
func (v *view) Can(level string) bool {
	for l := access.Public; l <= access.Administer; l++ {
		if l.String() == level {
			return v.Who.May(l)
		}
	}
	return false
}

// SignedIn reports whether a user is reading.
func (v *view) SignedIn() bool { return v.Who.Kind != "" }

// Num writes an integer with the reader's digit grouping.
func (v *view) Num(n any) string { return v.loc.printer.Sprintf("%d", n) }

// Percent writes a ratio (0.1234) as a percentage with one decimal.
func (v *view) Percent(f float64) string { return v.loc.printer.Sprintf("%.1f%%", f*100) }

// Time writes t in the reader's time zone and language, with the zone's
// offset so a screenshot shared across offices stays unambiguous.
func (v *view) Time(t any) string {
	tt, ok := asTime(t)
	if !ok {
		return "—"
	}
	tt = tt.In(v.zone)
	return tt.Format(v.loc.dateTime) + " " + zoneLabel(tt)
}

// Date writes t's day in the reader's time zone and language.
func (v *view) Date(t any) string {
	tt, ok := asTime(t)
	if !ok {
		return "—"
	}
	return tt.In(v.zone).Format(v.loc.dateOnly)
}

// LocalTime writes t as the customer saw it: "09:00 Asia/Taipei", for the
// places where the customer's own hour matters (quiet hours, birthdays).
func (v *view) LocalTime(t any, tz string) string {
	tt, ok := asTime(t)
	if !ok || tz == "" {
		return ""
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return ""
	}
	return tt.In(loc).Format("15:04") + " " + tz
}

// Zone is the reader's time zone name.
func (v *view) Zone() string { return v.zone.String() }

// zoneLabel is t's UTC offset ("UTC+8", "UTC-3:30"): abbreviations are
// ambiguous (CST is Taipei, Shanghai and Chicago).
func zoneLabel(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off%3600/60
	if m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, h)
}

func asTime(t any) (time.Time, bool) {
	switch x := t.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x == nil || x.IsZero() {
			return time.Time{}, false
		}
		return *x, true
	case string:
		// Times inside JSON details (a timeline item's sent_at).
		tt, err := time.Parse(time.RFC3339Nano, x)
		return tt, err == nil
	}
	return time.Time{}, false
}

// PII shows an email address or phone number in full to roles that work
// with customers and masked to viewers, who read reports but have no need
// to know who the customers are.
func (v *view) PII(s string) string {
	if v.Who.Role != access.Viewer || s == "" {
		return s
	}
	return maskPII(s)
}

// maskPII keeps enough of an address to tell two apart in a list:
// "a•••@example.com", "+44•••••••23".
func maskPII(s string) string {
	if local, domain, ok := strings.Cut(s, "@"); ok {
		r := []rune(local)
		if len(r) == 0 {
			return "•••@" + domain
		}
		return string(r[0]) + "•••@" + domain
	}
	r := []rune(s)
	if len(r) <= 5 {
		return strings.Repeat("•", len(r))
	}
	return string(r[:3]) + strings.Repeat("•", len(r)-5) + string(r[len(r)-2:])
}

// roleList names roles in the reader's language: "营销或管理员".
func (v *view) roleList(rs []access.Role) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = v.T("role." + string(r))
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], v.T("list.comma")) + v.T("list.or") + names[len(names)-1]
}

// Minutes is a duration in whole minutes, rounded up.
func (v *view) Minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// Reason names a skip or failure reason in the reader's language; a
// provider's own text, which has no translation, shows as it came.
func (v *view) Reason(r string) string {
	if s, ok := v.loc.strings["reason."+r]; ok {
		return s
	}
	return r
}

// Points writes a difference of rates in percentage points, signed.
func (v *view) Points(f float64) string {
	return v.loc.printer.Sprintf("%+.1f", f) + v.T("unit.points")
}

// Labels are catalog strings a script needs (the chart's axis names), by
// key.
func (v *view) Labels(keys ...string) map[string]string {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k] = v.T(k)
	}
	return out
}

// Now is the console's clock, for "the customer's time now".
func (v *view) Now() time.Time { return v.now }

// Day writes a calendar date that has no time zone (a birthday).
func (v *view) Day(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format(v.loc.dateOnly)
}

// Money writes an amount with the reader's grouping and two decimals.
func (v *view) Money(f float64) string { return v.loc.printer.Sprintf("%.2f", f) }

// Topic names a message topic in the reader's language; a topic the
// policy file added shows as named there.
func (v *view) Topic(t string) string { return v.orRaw("topic."+t, t) }

// ConsentStatus names a consent state in the reader's language.
func (v *view) ConsentStatus(s string) string { return v.orRaw("consent."+s, s) }

func (v *view) orRaw(key, raw string) string {
	if s, ok := v.loc.strings[key]; ok {
		return s
	}
	return raw
}

// Chars counts the characters of s, as SMS limits do (not bytes).
func (v *view) Chars(s string) int { return utf8.RuneCountInString(s) }

// About is a built-in journey's or template's description in the reader's
// language (the catalog's about.<English text>); a description an operator
// wrote, which the catalogs cannot know, shows as written.
func (v *view) About(s string) string { return v.orRaw("about."+s, s) }

// Outcome names how a journey run or a campaign entry ended.
func (v *view) Outcome(s string) string { return v.orRaw("outcome."+s, s) }

// Code is catalog text with its `commands` set as code, the rest escaped.
func (v *view) Code(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return template.HTML(b.String())
}

// Lifecycle names a lifecycle stage in the reader's language.
func (v *view) Lifecycle(s string) string { return v.orRaw("lifecycle."+s, s) }

// Days writes a cap's window in days (caps are whole days or hours).
func (v *view) Days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return v.T("unit.days", int(d/(24*time.Hour)))
	}
	return v.T("unit.hours", int(d/time.Hour))
}

// Field names a form field in the reader's language; an item of a list
// ("seeds[1]") is named by its place in it ("Seed address 2").
func (v *view) Field(name string) string {
	if list, rest, ok := strings.Cut(name, "["); ok {
		if i, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			return v.T("field."+list+"_item", i+1)
		}
	}
	return v.T("field." + name)
}

// Message is a problem the management functions found, in the reader's
// language: the catalog's translation of its format (the key
// "problem.<format>") filled with its values, or its English text when the
// catalog has none (a provider's own words, say).
func (v *view) Message(format string, args []any, english string) string {
	if format == "" {
		return english
	}
	if s, ok := v.loc.strings["problem."+format]; ok {
		return v.loc.printer.Sprintf(s, v.localArgs(format, args)...)
	}
	return english
}

// verbs finds a format's verbs in order ("%%" among them).
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9.*]*[a-zA-Z%]`)

// localArgs are a problem's values with the parsers' own words — what
// they expected or found ("a mapping", `text "x"`), given as %s — in the
// reader's language (the catalog's phrase.<words>); names and values the
// reader wrote stay as they are.
func (v *view) localArgs(format string, args []any) []any {
	out := slices.Clone(args)
	i := 0
	for _, verb := range verbs.FindAllString(format, -1) {
		if verb == "%%" {
			continue
		}
		if i == len(out) {
			break
		}
		if s, ok := out[i].(string); ok && strings.HasSuffix(verb, "s") {
			out[i] = v.phrase(s)
		}
		i++
	}
	return out
}

// phrase is the parsers' words s in the reader's language, or s.
func (v *view) phrase(s string) string {
	if t, ok := v.loc.strings["phrase."+s]; ok {
		return t
	}
	// What a file held, as spec.Describe names it: `text "x"`, "number 5",
	// "boolean true".
	kind, value, _ := strings.Cut(s, " ")
	if kind == "number" || kind == "boolean" || (kind == "text" && strings.HasPrefix(value, `"`)) {
		return v.loc.strings["phrase."+kind] + " " + value
	}
	return s
}

// Outline is a summary's parts (mgmt.CampaignCheck's SummaryParts) in the
// reader's language, joined as the language lists things; english is the
// whole summary, for parts the catalogs lack.
func (v *view) Outline(parts []*spec.Problem, english string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = v.Message(p.Format, p.Args, "")
		if out[i] == "" {
			return english
		}
	}
	return strings.Join(out, v.T("list.clauses"))
}

// ProblemMessage is a located problem's message in the reader's language;
// its line and column are shown beside it as they are.
func (v *view) ProblemMessage(p mgmt.Problem) string { return v.Message(p.Format, p.Args, p.Message) }
