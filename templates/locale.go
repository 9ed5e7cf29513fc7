package templates

import (
	"strings"

	"golang.org/x/text/language"

	"github.com/tidingsdev/tidings/internal/spec"
)

// Chinese is written in two scripts, and a reader of one does not want the
// other: zh-CN holds Simplified copy and zh-TW Traditional copy. Every
// Chinese tag is mapped to one of the two by script or region before any
// lookup, and the two are never substituted for one another. A Chinese tag
// whose variant a template lacks goes straight to the default locale.
//
//	zh, zh-CN, zh-Hans, zh-Hans-*, zh-SG, zh-MY  → zh-CN (Simplified)
//	zh-TW, zh-Hant, zh-Hant-*, zh-HK, zh-MO      → zh-TW (Traditional)
const (
	zhSimplified  = "zh-CN"
	zhTraditional = "zh-TW"
)

// chineseRegions maps a region to the script its readers use.
var chineseRegions = map[string]string{
	"CN": zhSimplified, "SG": zhSimplified, "MY": zhSimplified,
	"TW": zhTraditional, "HK": zhTraditional, "MO": zhTraditional,
}

// CanonicalLocale normalises a BCP 47 tag ("en_us" → "en-US") and folds
// every Chinese tag into zh-CN or zh-TW by the rule above.
func CanonicalLocale(s string) (string, error) {
	canon, err := spec.Locale(s)
	if err != nil {
		return "", err
	}
	tag := language.Make(canon)
	if base, _ := tag.Base(); base.String() != "zh" {
		return canon, nil
	}
	// An explicit script wins over the region: zh-Hant-CN is Traditional.
	if script, conf := tag.Script(); conf == language.Exact {
		switch script.String() {
		case "Hant":
			return zhTraditional, nil
		case "Hans":
			return zhSimplified, nil
		}
	}
	if region, conf := tag.Region(); conf == language.Exact {
		if v, ok := chineseRegions[region.String()]; ok {
			return v, nil
		}
	}
	return zhSimplified, nil
}

// language returns the language part of a canonical tag ("en-GB" → "en").
func languageOf(locale string) string {
	base, _, _ := strings.Cut(locale, "-")
	return base
}

// resolveLocale picks the variant of a template for a requested locale:
// the exact locale, then its language (never across Chinese scripts), then
// def. It returns "" when none of them exists.
func resolveLocale(requested, def string, has func(string) bool) string {
	if loc, err := CanonicalLocale(requested); err == nil {
		if has(loc) {
			return loc
		}
		if lang := languageOf(loc); lang != "zh" && lang != loc && has(lang) {
			return lang
		}
	}
	if has(def) {
		return def
	}
	return ""
}
