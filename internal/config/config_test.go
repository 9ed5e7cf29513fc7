package config

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("tidings", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return fs
}

func TestDefaultsWorkOnALocalMachine(t *testing.T) {
	c, err := Load(env(nil), flags(t))
	if err != nil {
		t.Fatalf("defaults are invalid: %v", err)
	}
	if c.DatabaseURL != "postgres://postgres@127.0.0.1:5432/tidings?sslmode=disable" {
		t.Errorf("default database = %s", c.DatabaseURL)
	}
	if c.LogLevel != slog.LevelInfo || c.LogFormat != "text" || c.DefaultRegion != "US" || c.SMTPConnections != 4 || c.QuietHours != "21:00-09:00" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestFlagBeatsEnvironmentBeatsDefault(t *testing.T) {
	e := env(map[string]string{
		"TIDINGS_LOG_LEVEL":        "warn",
		"TIDINGS_DEFAULT_REGION":   "cn",
		"TIDINGS_SMTP_CONNECTIONS": "8",
		"TIDINGS_TEMPORAL_TLS":     "true",
	})
	c, err := Load(e, flags(t, "--log-level", "debug", "--database-url", "postgres://app@db.internal:5432/crm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, chk := range []struct {
		name      string
		got, want any
	}{
		{"log level (flag over env)", c.LogLevel, slog.LevelDebug},
		{"database url (flag over default)", c.DatabaseURL, "postgres://app@db.internal:5432/crm"},
		{"default region (env over default, upper-cased)", c.DefaultRegion, "CN"},
		{"smtp connections (env)", c.SMTPConnections, 8},
		{"temporal tls (env)", c.TemporalTLS, true},
		{"log format (default)", c.LogFormat, "text"},
	} {
		if chk.got != chk.want {
			t.Errorf("%s = %v, want %v", chk.name, chk.got, chk.want)
		}
	}
}

func TestEmptyVariableMeansUnset(t *testing.T) {
	c, err := Load(env(map[string]string{"TIDINGS_LOG_FORMAT": ""}), nil)
	if err != nil || c.LogFormat != "text" {
		t.Errorf("empty TIDINGS_LOG_FORMAT: %q, %v; want the default text", c.LogFormat, err)
	}
}

func TestEveryInvalidValueIsNamed(t *testing.T) {
	bad := map[string]string{
		"TIDINGS_DATABASE_URL":     "mysql://db/x",
		"TIDINGS_LOG_LEVEL":        "loud",
		"TIDINGS_LOG_FORMAT":       "xml",
		"TIDINGS_DEFAULT_REGION":   "USA",
		"TIDINGS_TEMPORAL_TLS":     "maybe",
		"TIDINGS_PUBLIC_URL":       "example.com",
		"TIDINGS_SIGNING_SECRET":   "short",
		"TIDINGS_SMTP_URL":         "http://mail",
		"TIDINGS_MAIL_FROM":        "nobody",
		"TIDINGS_SMTP_CONNECTIONS": "0",
		"TIDINGS_SMS_BASE_URL":     "ftp://sms",
		"TIDINGS_SMS_MAX_SEGMENTS": "three",
		"TIDINGS_QUIET_HOURS":      "9pm-9am",
		"TIDINGS_SURVEY_TRIGGERS":  "order_delivered=stars",
	}
	for name, value := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(map[string]string{name: value}), nil)
			if err == nil {
				t.Fatalf("%s=%q accepted", name, value)
			}
			if !strings.Contains(err.Error(), name+" (from "+name+")") {
				t.Errorf("error %q does not name %s", err, name)
			}
			if strings.Count(err.Error(), "TIDINGS_") != 2 {
				t.Errorf("one bad value, but the error names other settings too: %q", err)
			}
		})
	}

	// All at once: every one is reported, not just the first.
	_, err := Load(env(bad), nil)
	if err == nil {
		t.Fatal("all bad values accepted")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("with every value bad, %s is not reported", name)
		}
	}
}

func TestSurveyTriggers(t *testing.T) {
	c, err := Load(env(nil), nil)
	if err != nil || len(c.SurveyTriggers) != 2 || c.SurveyTriggers["order_delivered"] != "nps" || c.SurveyTriggers["ticket_closed"] != "csat" {
		t.Fatalf("default survey triggers %v (%v), want deliveries asking NPS and closed tickets CSAT", c.SurveyTriggers, err)
	}
	c, err = Load(env(map[string]string{"TIDINGS_SURVEY_TRIGGERS": " appointment_done=csat , order_delivered=nps"}), nil)
	if err != nil || len(c.SurveyTriggers) != 2 || c.SurveyTriggers["appointment_done"] != "csat" {
		t.Fatalf("survey triggers %v (%v)", c.SurveyTriggers, err)
	}
	for _, bad := range []string{"Order Delivered=nps", "order_delivered", "order_delivered=stars"} {
		if _, err := Load(env(map[string]string{"TIDINGS_SURVEY_TRIGGERS": bad}), nil); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v, want an error quoting it", bad, err)
		}
	}
}

func TestInvalidFlagIsNamedByFlag(t *testing.T) {
	_, err := Load(env(map[string]string{"TIDINGS_LOG_FORMAT": "json"}), flags(t, "--log-format", "yaml"))
	if err == nil || !strings.Contains(err.Error(), "TIDINGS_LOG_FORMAT (from --log-format)") || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("bad flag: %v; want it named with the value", err)
	}
}

func TestReferenceCoversEveryFlag(t *testing.T) {
	fs := flags(t)
	ref := Reference()
	if len(ref) == 0 {
		t.Fatal("empty reference")
	}
	for _, r := range ref {
		if !strings.HasPrefix(r[0], "TIDINGS_") || r[3] == "" {
			t.Errorf("reference row %v lacks a variable or a description", r)
		}
		f := fs.Lookup(strings.TrimPrefix(r[1], "--"))
		if f == nil {
			t.Errorf("%s: no flag %s", r[0], r[1])
			continue
		}
		if !strings.Contains(f.Usage, r[0]) {
			t.Errorf("--%s help %q does not mention %s", f.Name, f.Usage, r[0])
		}
	}
}

func TestParseQuietHours(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end int
		ok         bool
	}{
		{"21:00-09:00", 21 * 60, 9 * 60, true},
		{"22:30 - 07:15", 22*60 + 30, 7*60 + 15, true},
		{"00:00-00:00", 0, 0, true},
		{"21:00", 0, 0, false},
		{"25:00-09:00", 0, 0, false},
		{"9pm-9am", 0, 0, false},
	} {
		s, e, err := ParseQuietHours(c.in)
		if (err == nil) != c.ok || s != c.start || e != c.end {
			t.Errorf("ParseQuietHours(%q) = %d, %d, %v; want %d, %d, ok=%v", c.in, s, e, err, c.start, c.end, c.ok)
		}
	}
}
