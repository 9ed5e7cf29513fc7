package spec

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones must resolve on any machine

	"golang.org/x/text/language"
)

// Locale checks a BCP 47 tag and returns it canonical ("zh_cn" → "zh-CN",
// "EN-gb" → "en-GB"), the one spelling stored and compared everywhere.
func Locale(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if s == "" {
		return "", Problemf("locale is empty")
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", Problemf("%q is not a locale (BCP 47, e.g. en, zh-CN, zh-TW)", s)
	}
	return tag.String(), nil
}

// zoneFor suggests the IANA zone meant by an abbreviation people write.
// Several are ambiguous (CST is Chicago and Shanghai, IST Kolkata and
// Dublin): the message names each reading.
var zoneFor = map[string]string{
	"EST": "America/New_York", "EDT": "America/New_York", "EST5EDT": "America/New_York", "ET": "America/New_York",
	"CST": "America/Chicago (US Central) or Asia/Shanghai (China)", "CDT": "America/Chicago", "CST6CDT": "America/Chicago",
	"MST": "America/Denver (or America/Phoenix, which has no summer time)", "MDT": "America/Denver", "MST7MDT": "America/Denver",
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "PST8PDT": "America/Los_Angeles", "PT": "America/Los_Angeles",
	"HST": "Pacific/Honolulu", "AKST": "America/Anchorage",
	"GMT": "Europe/London (UK time) or UTC", "BST": "Europe/London", "WET": "Europe/Lisbon", "IST": "Asia/Kolkata (India) or Europe/Dublin (Ireland)",
	"CET": "Europe/Paris or Europe/Berlin", "CEST": "Europe/Paris or Europe/Berlin", "MET": "Europe/Paris or Europe/Berlin", "EET": "Europe/Athens",
	"MSK": "Europe/Moscow", "HKT": "Asia/Hong_Kong", "PRC": "Asia/Shanghai", "ROC": "Asia/Taipei", "JST": "Asia/Tokyo",
	"KST": "Asia/Seoul", "SGT": "Asia/Singapore", "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney", "NZST": "Pacific/Auckland",
}

// TimeZone checks an IANA zone name ("Asia/Shanghai") and returns it
// trimmed. Abbreviations (EST, CST) and legacy names without a region are
// refused, naming the zone to write instead: they are ambiguous or ignore
// summer time.
func TimeZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "Local" {
		return "", Problemf("%q is not an IANA time zone (e.g. Asia/Shanghai)", s)
	}
	if s != "UTC" && !strings.Contains(s, "/") {
		if want, ok := zoneFor[strings.ToUpper(s)]; ok {
			return "", Problemf("%q is not an IANA time zone (abbreviations are ambiguous); write %s", s, want)
		}
		return "", Problemf("%q is not an IANA time zone (e.g. America/New_York); abbreviations are ambiguous", s)
	}
	if _, ok := knownZones.Load(s); ok {
		return s, nil
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "", Problemf("%q is not a known IANA time zone (e.g. Europe/London, Asia/Shanghai)", s)
	}
	knownZones.Store(s, struct{}{})
	return s, nil
}

// knownZones remembers the zone names that loaded, so an import of a
// million rows reads the zone database once per zone instead of once per
// row. Only valid names are kept, so it never holds more than the IANA
// zones.
var knownZones sync.Map
