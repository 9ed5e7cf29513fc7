package spec

import (
	"strings"
	"testing"
)

func TestCheckCronAcceptsWhatBothReadersAgreeOn(t *testing.T) {
	for _, expr := range []string{
		"0 * * * *", "30 9 * * MON-FRI", "*/15 8-18 * * 1-5", "0 10 1 * *", "0 0 1 JAN *", "5,35 */2 * * *",
		"0 9 29 2 *", // every leap year
		"0 9 31 * *", // the months that have a 31st
		"0 9 30 1-3 *", "@daily", "@weekly", "@hourly", " 0 9 * * * ",
	} {
		if err := CheckCron(expr); err != nil {
			t.Errorf("CheckCron(%q) = %v, want accepted", expr, err)
		}
		if _, err := ParseCron(expr); err != nil {
			t.Errorf("ParseCron(%q) = %v", expr, err)
		}
	}
}

func TestCheckCronRefusesWhatCanNeverWork(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"0 9 30 2 *", `"0 9 30 2 *" never fires: day-of-month 30 never occurs in month 2`},
		{"0 9 31 4 *", "day-of-month 31 never occurs in month 4"},
		{"0 9 31 2,4,6,9,11 *", "never fires"},
		{"0 9 30,31 FEB *", "never fires"},
		{"0 9 13 * 5", "both day-of-month (13) and day-of-week (5)"},
		{"0 9 1-7 * MON", "Temporal only when both do"},
		{"0 9 * * ?", `"?" is not supported`},
		{"0 0 9 * * *", "has 6 fields; expected five"},
		{"0 9 * *", "has 4 fields"},
		{"@every 1h", "@every is not supported"},
		{"@fortnightly", "is not @hourly, @daily"},
		{"CRON_TZ=Asia/Shanghai 0 9 * * *", "time zone in its own setting"},
		{"61 * * * *", "61"},
		{"0 25 * * *", "25"},
		{"0 9 * * 7", "7"},
		{"0 9 L * *", "L"},
	} {
		err := CheckCron(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckCron(%q) = %v, want an error containing %q", tc.expr, err, tc.want)
		}
	}
}

func TestTimeZoneNamesTheZoneToWrite(t *testing.T) {
	for _, ok := range []string{"UTC", "Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Europe/London", "America/New_York", " Asia/Tokyo "} {
		if got, err := TimeZone(ok); err != nil || got != strings.TrimSpace(ok) {
			t.Errorf("TimeZone(%q) = %q, %v", ok, got, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"EST", `"EST" is not an IANA time zone (abbreviations are ambiguous); write America/New_York`},
		{"est", "write America/New_York"},
		{"CST", "America/Chicago (US Central) or Asia/Shanghai (China)"},
		{"PST", "America/Los_Angeles"},
		{"HKT", "Asia/Hong_Kong"},
		{"GMT", "Europe/London (UK time) or UTC"},
		{"Local", "not an IANA time zone"},
		{"", "not an IANA time zone"},
		{"XYZ", "abbreviations are ambiguous"},
		{"Mars/Olympus", "not a known IANA time zone"},
	} {
		_, err := TimeZone(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TimeZone(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestLocaleIsCanonical(t *testing.T) {
	for in, want := range map[string]string{"zh_cn": "zh-CN", "EN-gb": "en-GB", " zh-TW ": "zh-TW", "zh-Hant-HK": "zh-Hant-HK", "en": "en"} {
		if got, err := Locale(in); err != nil || got != want {
			t.Errorf("Locale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "klingon", "zh_"} {
		if _, err := Locale(bad); err == nil {
			t.Errorf("Locale(%q) accepted", bad)
		}
	}
}

func TestNameRules(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		check func(string) error
		ok    []string
		bad   []string
	}{
		{func(s string) error { return CheckName("campaign", s) }, []string{"spring-winback", "vip_zh", "2026-sale", long[:63]}, []string{"", "Spring", "-a", "a b", long, "a.b"}},
		// The API and the policy file once disagreed on "-" and on length.
		{CheckTopic, []string{"marketing", "product-news", "vip_offers", long}, []string{"", "1news", "News", "-x", long + "a", "a b"}},
		{CheckEventType, []string{"purchase", "order_delivered", "page_view2", long}, []string{"", "Purchase", "order-delivered", "2fa", long + "a", "a.b"}},
	} {
		for _, s := range tc.ok {
			if err := tc.check(s); err != nil {
				t.Errorf("%q refused: %v", s, err)
			}
		}
		for _, s := range tc.bad {
			if err := tc.check(s); err == nil {
				t.Errorf("%q accepted", s)
			}
		}
	}
}
