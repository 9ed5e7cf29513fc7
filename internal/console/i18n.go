package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Languages the console speaks; the first is the fallback.
const (
	langEN   = "en"
	langZhCN = "zh-CN"
	langZhTW = "zh-TW"
)

// Cookies the console keeps about the reader beside the session.
const (
	langCookie = "tidings_lang"
	tzCookie   = "tidings_tz"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// locale is one language the console speaks: its strings and how it writes
// numbers and dates.
type locale struct {
	code    string // catalog name, cookie value: "zh-TW"
	htmlTag string // the lang attribute: "zh-Hant-TW"
	name    string // its own name, as the language switch shows it
	tag     language.Tag
	strings map[string]string
	printer *message.Printer
	// dateTime and dateOnly are Go layouts; Chinese writes 年月日.
	dateTime, dateOnly string
}

// locales are the three catalogs, loaded once when the console is built.
type locales struct {
	list    []*locale
	byCode  map[string]*locale
	matcher language.Matcher
}

func loadLocales() *locales {
	ls := &locales{byCode: map[string]*locale{}}
	for _, l := range []*locale{
		{code: langEN, htmlTag: "en", name: "English", tag: language.English, dateTime: "2 Jan 2006 15:04", dateOnly: "2 Jan 2006"},
		{code: langZhCN, htmlTag: "zh-Hans-CN", name: "简体中文", tag: language.SimplifiedChinese, dateTime: "2006年1月2日 15:04", dateOnly: "2006年1月2日"},
		{code: langZhTW, htmlTag: "zh-Hant-TW", name: "繁體中文", tag: language.TraditionalChinese, dateTime: "2006年1月2日 15:04", dateOnly: "2006年1月2日"},
	} {
		data, err := catalogFS.ReadFile("catalog/" + l.code + ".json")
		if err != nil {
			panic(fmt.Sprintf("console catalog %s: %v", l.code, err))
		}
		if err := json.Unmarshal(data, &l.strings); err != nil {
			panic(fmt.Sprintf("console catalog %s: %v", l.code, err))
		}
		l.printer = message.NewPrinter(l.tag)
		ls.list = append(ls.list, l)
		ls.byCode[l.code] = l
	}
	tags := make([]language.Tag, len(ls.list))
	for i, l := range ls.list {
		tags[i] = l.tag
	}
	ls.matcher = language.NewMatcher(tags)
	return ls
}

// pick chooses the reader's language: the one they switched to (the
// cookie), else the best match of their browser's Accept-Language — zh-TW
// and zh-HK read Traditional, zh and zh-CN Simplified — else English.
func (ls *locales) pick(r *http.Request) *locale {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := ls.byCode[c.Value]; ok {
			return l
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, conf := ls.matcher.Match(tags...)
	if conf == language.No {
		return ls.list[0]
	}
	return ls.list[i]
}

// text is the catalog's string for key, formatted with args; a key
// missing from the catalog shows as itself (a test keeps catalogs whole).
func (l *locale) text(key string, args ...any) string {
	s, ok := l.strings[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return l.printer.Sprintf(s, args...)
}

// zone is the reader's time zone: what their browser reported (console.js
// sets the cookie), else UTC.
func zone(r *http.Request) *time.Location {
	if c, err := r.Cookie(tzCookie); err == nil {
		if name, err := url.QueryUnescape(c.Value); err == nil && name != "" && !strings.ContainsAny(name, " .") {
			if loc, err := time.LoadLocation(name); err == nil {
				return loc
			}
		}
	}
	return time.UTC
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
