package templates

import (
	"strings"
	"testing"
	"time"
)

func TestSMSSegments(t *testing.T) {
	a := strings.Repeat
	for _, tc := range []struct {
		name     string
		body     string
		segments int
		encoding string
	}{
		{"empty", "", 0, GSM7},
		{"160 GSM-7 fits one", a("a", 160), 1, GSM7},
		{"161 GSM-7 needs two", a("a", 161), 2, GSM7},
		{"306 GSM-7 fills two parts", a("a", 306), 2, GSM7},
		{"307 GSM-7 needs three", a("a", 307), 3, GSM7},
		{"GSM-7 specials count one", a("@£$¥èÉÑü¿§", 16), 1, GSM7},
		{"80 euro signs are 160 septets", a("€", 80), 1, GSM7},
		{"euro sign counts two", a("a", 159) + "€", 2, GSM7},
		{"extension chars count two", "{[~]}|^\\" + a("a", 145), 2, GSM7},
		{"escape never straddles parts", a("a", 152) + "€" + a("a", 152), 3, GSM7},
		{"70 Chinese fit one", a("中", 70), 1, UCS2},
		{"71 Chinese need two", a("中", 71), 2, UCS2},
		{"134 Chinese fill two parts", a("中", 134), 2, UCS2},
		{"135 Chinese need three", a("中", 135), 3, UCS2},
		{"one Chinese character makes it UCS-2", a("a", 69) + "好", 1, UCS2},
		{"one Chinese character past 70", a("a", 70) + "好", 2, UCS2},
		{"emoji is two UTF-16 units", a("😀", 35), 1, UCS2},
		{"emoji past 70 units", a("a", 69) + "😀", 2, UCS2},
		{"surrogate pair never split", a("中", 66) + "😀" + a("中", 66), 3, UCS2},
		{"lower-case c cedilla is not GSM-7", "ça va", 1, UCS2},
		{"curly quote is not GSM-7", "it’s", 1, UCS2},
	} {
		segs, enc := SMSSegments(tc.body)
		if segs != tc.segments || enc != tc.encoding {
			t.Errorf("%s: got %d %s, want %d %s", tc.name, segs, enc, tc.segments, tc.encoding)
		}
	}
}

func call(t *testing.T, locale, fn string, args ...any) (string, error) {
	t.Helper()
	f := funcsFor(locale)[fn]
	switch fn {
	case "money":
		return f.(func(any, ...string) (string, error))(args[0], toStrings(args[1:])...)
	case "date", "datetime":
		return f.(func(any, ...string) (string, error))(args[0], toStrings(args[1:])...)
	case "discount", "coupon":
		return f.(func(any) (string, error))(args[0])
	}
	t.Fatalf("no func %s", fn)
	return "", nil
}

func toStrings(a []any) []string {
	var out []string
	for _, v := range a {
		out = append(out, v.(string))
	}
	return out
}

func TestLocaleFormats(t *testing.T) {
	march5 := time.Date(2026, 3, 5, 15, 4, 0, 0, time.UTC)
	for _, tc := range []struct {
		locale, fn string
		args       []any
		want       string
	}{
		{"en", "money", []any{1234.5}, "$1,234.50"},
		{"zh-CN", "money", []any{1234.5}, "¥1,234.50"},
		{"zh-TW", "money", []any{1234}, "NT$1,234"},
		{"zh-TW", "money", []any{1234.5}, "NT$1,235"},
		{"en", "money", []any{1234.5, "EUR"}, "€1,234.50"},
		{"en", "money", []any{1234.5, "cny"}, "CN¥1,234.50"},
		{"zh-CN", "money", []any{99, "USD"}, "US$99.00"},
		{"en", "money", []any{1234.5, "CHF"}, "CHF 1,234.50"},
		{"en", "money", []any{"1000000"}, "$1,000,000.00"},
		{"en", "money", []any{-5}, "-$5.00"},
		{"en", "money", []any{0.5}, "$0.50"},
		{"en-GB", "money", []any{12}, "$12.00"},
		{"en", "date", []any{march5}, "March 5, 2026"},
		{"zh-CN", "date", []any{march5}, "2026年3月5日"},
		{"zh-TW", "date", []any{march5}, "2026年3月5日"},
		{"en", "date", []any{"2026-03-05"}, "March 5, 2026"},
		{"zh-CN", "date", []any{"2026-03-05T23:30:00Z", "Asia/Shanghai"}, "2026年3月6日"},
		{"en", "date", []any{"2026-03-05T03:30:00Z", "America/New_York"}, "March 4, 2026"},
		{"en", "datetime", []any{march5}, "March 5, 2026, 3:04 PM"},
		{"zh-TW", "datetime", []any{march5, "Asia/Taipei"}, "2026年3月5日 23:04"},
		{"en", "discount", []any{20}, "20% off"},
		{"zh-CN", "discount", []any{20}, "8折"},
		{"zh-TW", "discount", []any{15.0}, "85折"},
		{"en", "coupon", []any{"  bday-ann-7k2q "}, "BDAY-ANN-7K2Q"},
	} {
		got, err := call(t, tc.locale, tc.fn, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("%s %s%v = %q, %v; want %q", tc.locale, tc.fn, tc.args, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		fn   string
		args []any
	}{
		{"money", []any{"lots"}}, {"money", []any{true}}, {"date", []any{"5 March"}}, {"date", []any{march5, "Mars/Olympus"}},
		{"discount", []any{0}}, {"discount", []any{100}}, {"discount", []any{12.5}}, {"coupon", []any{""}}, {"coupon", []any{"  "}},
	} {
		if got, err := call(t, "en", bad.fn, bad.args...); err == nil {
			t.Errorf("%s%v = %q, want an error", bad.fn, bad.args, got)
		}
	}
}

func TestGreeting(t *testing.T) {
	for _, tc := range []struct {
		locale, first, last, want string
	}{
		{"en", "Ann", "Lee", "Hi Ann,"},
		{"en-GB", " Ann ", "", "Hi Ann,"},
		{"en", "", "Lee", "Hi there,"},
		{"zh-CN", "芳", "王", "王芳，您好！"},
		{"zh-TW", "怡君", "陳", "陳怡君，您好！"},
		{"zh-HK", "怡君", "陳", "陳怡君，您好！"},
		{"zh-CN", "", "", "您好！"},
		{"zh-TW", "Ann", "Lee", "Ann Lee，您好！"},
		{"fr", "Ann", "", "Hi Ann,"},
	} {
		if got := Greeting(tc.locale, Customer{FirstName: tc.first, LastName: tc.last}); got != tc.want {
			t.Errorf("Greeting(%s, %q %q) = %q, want %q", tc.locale, tc.first, tc.last, got, tc.want)
		}
	}
}
