package validate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEmail(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"ann@example.com", "ann@example.com", ""},
		{"  Ann.Lee@Example.COM ", "Ann.Lee@example.com", ""},
		{"user+tag@mail.example.co.uk", "user+tag@mail.example.co.uk", ""},
		{"Ann <ann@example.com>", "", "not a valid email address"},
		{"not-an-email", "", "not a valid email address"},
		{"ann@@example.com", "", "not a valid email address"},
		{"ann@localhost", "", "the domain needs a dot"},
		{"ann@example.com.", "", "not a valid email address"},
		{"a b@example.com", "", "not a valid email address"},
		{"ann@example.com, bo@example.com", "", "not a valid email address"},
	} {
		got, err := Email(c.in)
		checkResult(t, "Email", c.in, got, err, c.want, c.err)
	}
}

func TestPhone(t *testing.T) {
	for _, c := range []struct{ in, region, want, err string }{
		{"+14155550123", "", "+14155550123", ""},
		{"+86 138 0013 8000", "US", "+8613800138000", ""},
		{"(415) 555-0123", "US", "+14155550123", ""},
		{"(415) 555-0123", "us", "+14155550123", ""},
		{"138 0013 8000", "CN", "+8613800138000", ""},
		{"0912 345 678", "TW", "+886912345678", ""},
		{"(415) 555-0123", "", "", "invalid country code"},
		{"12345", "US", "", "not a valid phone number"},
		{"+1 999 555 0100", "", "", "not a valid phone number"},
		{"call me", "US", "", "not a phone number"},
	} {
		got, err := Phone(c.in, c.region)
		checkResult(t, "Phone", c.in+" in "+c.region, got, err, c.want, c.err)
	}
}

func TestIsE164(t *testing.T) {
	for in, want := range map[string]bool{
		"+14155550123":    true,
		"+8613800138000":  true,
		"14155550123":     false,
		"+1 415 555 0123": false,
		"+1999555010":     false,
		"":                false,
	} {
		if got := IsE164(in); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestTimeZone(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"Asia/Shanghai", "Asia/Shanghai", ""},
		{" America/New_York ", "America/New_York", ""},
		{"UTC", "UTC", ""},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires", ""},
		{"EST", "", "abbreviations are ambiguous"},
		{"CST", "", "abbreviations are ambiguous"},
		{"Mars/Olympus", "", "not a known IANA time zone"},
		{"America/new_york", "", "not a known IANA time zone"},
		{"Local", "", "not an IANA time zone"},
		{"", "", "not an IANA time zone"},
		{"../../etc/passwd", "", "not a known IANA time zone"},
	} {
		got, err := TimeZone(c.in)
		checkResult(t, "TimeZone", c.in, got, err, c.want, c.err)
	}
}

func TestLocale(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"en", "en", ""},
		{"zh-CN", "zh-CN", ""},
		{"zh_tw", "zh-TW", ""},
		{"EN-us", "en-US", ""},
		{"zh-Hant-TW", "zh-Hant-TW", ""},
		{"klingon", "", "not a locale"},
		{"12", "", "not a locale"},
		{"", "", "locale is empty"},
	} {
		got, err := Locale(c.in)
		checkResult(t, "Locale", c.in, got, err, c.want, c.err)
	}
}

func TestDate(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"1990-02-28", "1990-02-28", ""},
		{"2000-02-29", "2000-02-29", ""},
		{"2023-02-29", "", "not a date"},
		{"1990-13-01", "", "not a date"},
		{"28/02/1990", "", "not a date (YYYY-MM-DD)"},
		{"1990-2-8", "", "not a date"},
	} {
		d, err := Date(c.in)
		got := ""
		if err == nil {
			got = d.Format(time.DateOnly)
		}
		checkResult(t, "Date", c.in, got, err, c.want, c.err)
	}
}

func TestGender(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"female", "female", ""},
		{" Male ", "male", ""},
		{"nonbinary", "nonbinary", ""},
		{"unknown", "unknown", ""},
		{"f", "", "not one of female, male, nonbinary, other, unknown"},
		{"wizard", "", "not one of"},
	} {
		got, err := Gender(c.in)
		checkResult(t, "Gender", c.in, got, err, c.want, c.err)
	}
}

func TestErrorsCollectsEveryField(t *testing.T) {
	var es Errors
	if es.Err() != nil {
		t.Fatal("empty Errors is not nil")
	}
	es.Add("email", "%q is bad", "x")
	es.Add("phone", "is bad too")
	err := error(es)
	if err.Error() != `email: "x" is bad; phone: is bad too` {
		t.Errorf("Error() = %q", err)
	}
	got, ok := AsErrors(wrap(es.Err()))
	if !ok || len(got) != 2 || got[1].Field != "phone" {
		t.Errorf("AsErrors(wrapped Errors) = %v, %v", got, ok)
	}
	got, ok = AsErrors(wrap(FieldError{Field: "emial", Message: "unknown key"}))
	if !ok || len(got) != 1 || got[0].Field != "emial" {
		t.Errorf("AsErrors(wrapped FieldError) = %v, %v", got, ok)
	}
	if _, ok := AsErrors(errors.New("plain")); ok {
		t.Error("AsErrors found fields in a plain error")
	}
}

// TestProblemKeepsItsKey: a check's error added whole keeps its own
// message key and values, so a front door can translate it, and reads as
// before.
func TestProblemKeepsItsKey(t *testing.T) {
	_, err := Email("ada@")
	var es Errors
	es.Add("seeds[0]", "%v", err)
	es.Add("note", "%v", errors.New("plain"))
	if got := es[0]; got.Format != "%q is not a valid email address" || len(got.Args) != 1 || got.Args[0] != "ada@" ||
		got.Message != `"ada@" is not a valid email address` {
		t.Errorf("email problem = %+v", got)
	}
	if got := es[1]; got.Format != "%v" || got.Message != "plain" {
		t.Errorf("plain error = %+v", got)
	}
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }

func checkResult(t *testing.T, fn, in, got string, err error, want, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s(%q): %v, want %q", fn, in, err, want)
	case wantErr == "" && got != want:
		t.Errorf("%s(%q) = %q, want %q", fn, in, got, want)
	case wantErr != "" && err == nil:
		t.Errorf("%s(%q) = %q, want an error mentioning %q", fn, in, got, wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Errorf("%s(%q): error %q, want one mentioning %q", fn, in, err, wantErr)
	}
}
