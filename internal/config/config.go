// Package config reads Tidings' settings from TIDINGS_* environment variables,
// lets command-line flags override them, and validates them once at start so
// a mistake is reported by name before anything runs.
package config

import (
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tidingsdev/tidings/internal/spec"
)

// Config is every setting a Tidings process may need. It is built once in
// main and passed down; nothing reads the environment anywhere else.
type Config struct {
	DatabaseURL   string
	LogLevel      slog.Level
	LogFormat     string
	DefaultRegion string

	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string
	TemporalAPIKey    string
	TemporalTLS       bool
	// TemporalUIURL is the Temporal Web UI the console links each run to
	// ("" links nowhere); tidings dev sets it to its own UI.
	TemporalUIURL string

	APIAddr       string
	MetricsAddr   string
	PublicURL     string
	SiteURL       string
	SigningSecret string

	SMTPURL         string
	MailFrom        string
	MailFromName    string
	MailReplyTo     string
	SMTPConnections int
	PostalAddress   string
	UnsubscribeMail string

	SMSBaseURL     string
	SMSAccountSID  string
	SMSAuthToken   string
	SMSFrom        string
	SMSMaxSegments int
	// SMSRate is the provider's requests a second for the account; 0 is
	// no limit of Tidings' own (the provider's 429s are honoured anyway).
	SMSRate float64

	TemplatesDir  string
	DefaultLocale string
	QuietHours    string
	// PolicyFile, when set, holds the operator's topics: consent rules,
	// frequency caps and quiet-hour exemptions (delivery.LoadTopics).
	PolicyFile     string
	CareTeamEmail  string
	CareWebhookURL string
	ReviewURL      string
	// SurveyTriggers maps the event types that start a survey follow-up to
	// the survey they ask: nps or csat.
	SurveyTriggers map[string]string

	// Engagement: where bounces go and how the receivers of providers'
	// reports verify them (docs/engagement.md).
	BounceAddress    string
	SESTopicARNs     []string
	SendGridKey      string
	MailgunKey       string
	PostmarkAuth     string
	BounceSecret     string
	SoftBounceLimit  int
	SoftBounceWindow time.Duration
}

// DefaultSigningSecret is the signing secret when none is set. It is public,
// so links and coupons signed with it can be forged: only `tidings dev`
// runs with it (Config.CheckProduction).
const DefaultSigningSecret = "dev-only-secret-change-me"

// CheckProduction refuses settings that are safe on a developer's machine
// only; `tidings worker` and `tidings api` call it before they start.
func (c Config) CheckProduction() error {
	if c.SigningSecret == DefaultSigningSecret {
		return fmt.Errorf("TIDINGS_SIGNING_SECRET is the public default %q, so anyone could forge unsubscribe, survey and coupon links: set it to a long random string (e.g. openssl rand -hex 32) and keep it", DefaultSigningSecret)
	}
	return nil
}

// setting is one configuration knob: its variable, its flag, its default and
// how it lands in Config.
type setting struct {
	env, flag, def, usage string
	set                   func(c *Config, v string) error
}

func settings() []setting {
	return []setting{
		{"TIDINGS_DATABASE_URL", "database-url", "postgres://postgres@127.0.0.1:5432/tidings?sslmode=disable",
			"PostgreSQL URL (pool settings such as pool_max_conns=32 allowed); tidings migrate up creates the database", setURL(func(c *Config) *string { return &c.DatabaseURL }, "postgres", "postgresql")},
		{"TIDINGS_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"TIDINGS_LOG_FORMAT", "log-format", "text", "text or json", oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")},
		{"TIDINGS_DEFAULT_REGION", "default-region", "US", "region for phone numbers written without a country code (ISO 3166, e.g. US, CN, TW)",
			func(c *Config, v string) error {
				v = strings.ToUpper(v)
				if len(v) != 2 {
					return fmt.Errorf("%q is not a two-letter region code", v)
				}
				c.DefaultRegion = v
				return nil
			}},
		{"TIDINGS_TEMPORAL_ADDRESS", "temporal-address", "127.0.0.1:7233", "Temporal frontend host:port", str(func(c *Config) *string { return &c.TemporalAddress })},
		{"TIDINGS_TEMPORAL_NAMESPACE", "temporal-namespace", "default", "Temporal namespace", str(func(c *Config) *string { return &c.TemporalNamespace })},
		{"TIDINGS_TEMPORAL_TASK_QUEUE", "temporal-task-queue", "tidings", "Temporal task queue the workers poll", str(func(c *Config) *string { return &c.TemporalTaskQueue })},
		{"TIDINGS_TEMPORAL_API_KEY", "temporal-api-key", "", "API key for Temporal Cloud (implies TLS)", str(func(c *Config) *string { return &c.TemporalAPIKey })},
		{"TIDINGS_TEMPORAL_TLS", "temporal-tls", "false", "connect to Temporal over TLS", boolean(func(c *Config) *bool { return &c.TemporalTLS })},
		{"TIDINGS_TEMPORAL_UI_URL", "temporal-ui-url", "", "Temporal Web UI the console links each journey and campaign run to, e.g. http://127.0.0.1:8233 (empty: no links; tidings dev: its own UI)",
			optionalURL(func(c *Config) *string { return &c.TemporalUIURL }, "http", "https")},
		{"TIDINGS_API_ADDR", "api-addr", "127.0.0.1:8080", "address the HTTP API listens on", str(func(c *Config) *string { return &c.APIAddr })},
		{"TIDINGS_METRICS_ADDR", "metrics-addr", "127.0.0.1:9464", "address tidings worker serves /metrics, /healthz and /readyz on (the API and tidings dev serve them on TIDINGS_API_ADDR)",
			str(func(c *Config) *string { return &c.MetricsAddr })},
		{"TIDINGS_PUBLIC_URL", "public-url", "http://127.0.0.1:8080", "base URL customers reach the API at (unsubscribe and survey links)",
			setURL(func(c *Config) *string { return &c.PublicURL }, "http", "https")},
		{"TIDINGS_SITE_URL", "site-url", "https://shop.tidings.example", "the company's own website, where every \"visit the shop\" button of the templates leads (tidings dev: its demo shop page unless set)",
			setURL(func(c *Config) *string { return &c.SiteURL }, "http", "https")},
		{"TIDINGS_SIGNING_SECRET", "signing-secret", DefaultSigningSecret, "secret that signs unsubscribe and survey links (at least 16 characters); worker and api refuse the default",
			func(c *Config, v string) error {
				if len(v) < 16 {
					return fmt.Errorf("must be at least 16 characters")
				}
				c.SigningSecret = v
				return nil
			}},
		{"TIDINGS_SMTP_URL", "smtp-url", "smtp://127.0.0.1:1025", "SMTP server: smtp://user:pass@host:587?tls=starttls, smtps://host:465, smtp://host:25?tls=none",
			setURL(func(c *Config) *string { return &c.SMTPURL }, "smtp", "smtps")},
		{"TIDINGS_MAIL_FROM", "mail-from", "hello@tidings.example", "From address of every email", func(c *Config, v string) error {
			if !strings.Contains(v, "@") {
				return fmt.Errorf("%q is not an email address", v)
			}
			c.MailFrom = v
			return nil
		}},
		{"TIDINGS_MAIL_FROM_NAME", "mail-from-name", "Tidings", "From display name", str(func(c *Config) *string { return &c.MailFromName })},
		{"TIDINGS_MAIL_REPLY_TO", "mail-reply-to", "", "Reply-To address (empty: none)", str(func(c *Config) *string { return &c.MailReplyTo })},
		{"TIDINGS_SMTP_CONNECTIONS", "smtp-connections", "4", "live SMTP connections kept open and reused", positive(func(c *Config) *int { return &c.SMTPConnections })},
		{"TIDINGS_POSTAL_ADDRESS", "postal-address", "Tidings Demo Co., 1 Harbour Road, Hong Kong", "sender's postal address printed in every marketing footer",
			str(func(c *Config) *string { return &c.PostalAddress })},
		{"TIDINGS_UNSUBSCRIBE_MAILTO", "unsubscribe-mailto", "unsubscribe@tidings.example", "mailbox named in List-Unsubscribe", str(func(c *Config) *string { return &c.UnsubscribeMail })},
		{"TIDINGS_SMS_BASE_URL", "sms-base-url", "http://127.0.0.1:8080/dev/sms", "base URL of a Twilio-compatible SMS API",
			setURL(func(c *Config) *string { return &c.SMSBaseURL }, "http", "https")},
		{"TIDINGS_SMS_ACCOUNT_SID", "sms-account-sid", "ACdev", "SMS account SID (basic-auth user)", str(func(c *Config) *string { return &c.SMSAccountSID })},
		{"TIDINGS_SMS_AUTH_TOKEN", "sms-auth-token", "dev", "SMS auth token (basic-auth password)", str(func(c *Config) *string { return &c.SMSAuthToken })},
		{"TIDINGS_SMS_FROM", "sms-from", "+15005550006", "sender number (E.164) or a MessagingServiceSid (MG...)", str(func(c *Config) *string { return &c.SMSFrom })},
		{"TIDINGS_SMS_MAX_SEGMENTS", "sms-max-segments", "3", "longest SMS, in segments, a template may render to", positive(func(c *Config) *int { return &c.SMSMaxSegments })},
		{"TIDINGS_SMS_RATE", "sms-rate", "0", "SMS requests a second the provider allows the account (its messages per second); 0: no limit of Tidings' own, a 429's Retry-After is honoured either way",
			func(c *Config, v string) error {
				r, err := strconv.ParseFloat(v, 64)
				if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
					return fmt.Errorf("%q is not a number of requests a second (0 or more)", v)
				}
				c.SMSRate = r
				return nil
			}},
		{"TIDINGS_TEMPLATES_DIR", "templates-dir", "", "directory whose templates override the built-in ones (empty: built-in only)", str(func(c *Config) *string { return &c.TemplatesDir })},
		{"TIDINGS_DEFAULT_LOCALE", "default-locale", "en", "locale used when a template has no variant for the customer's", str(func(c *Config) *string { return &c.DefaultLocale })},
		{"TIDINGS_QUIET_HOURS", "quiet-hours", "21:00-09:00", "local hours in which no marketing or care message goes out", func(c *Config, v string) error {
			if _, _, err := ParseQuietHours(v); err != nil {
				return err
			}
			c.QuietHours = v
			return nil
		}},
		{"TIDINGS_POLICY_FILE", "policy-file", "", "YAML file of message topics with their consent rules and frequency caps (empty: the built-in topics)", str(func(c *Config) *string { return &c.PolicyFile })},
		{"TIDINGS_CARE_TEAM_EMAIL", "care-team-email", "care@tidings.example", "where detractor alerts go", str(func(c *Config) *string { return &c.CareTeamEmail })},
		{"TIDINGS_CARE_WEBHOOK_URL", "care-webhook-url", "", "optional webhook for detractor alerts", str(func(c *Config) *string { return &c.CareWebhookURL })},
		{"TIDINGS_REVIEW_URL", "review-url", "", "page promoters are invited to review on after a survey (empty: a plain thank-you)", str(func(c *Config) *string { return &c.ReviewURL })},
		{"TIDINGS_SURVEY_TRIGGERS", "survey-triggers", "order_delivered=nps,ticket_closed=csat", "events that start a survey follow-up, each with the survey it asks (nps or csat)", surveyTriggers},
		{"TIDINGS_BOUNCE_ADDRESS", "bounce-address", "", "envelope sender (Return-Path) of every email, made a VERP address per message (bounces+ID@...) so each DSN names its message (empty: the From address)",
			func(c *Config, v string) error {
				if v != "" && (strings.Count(v, "@") != 1 || strings.ContainsAny(v, " <>+")) {
					return fmt.Errorf("%q is not a plain address like bounces@example.com", v)
				}
				c.BounceAddress = v
				return nil
			}},
		{"TIDINGS_SES_TOPIC_ARNS", "ses-topic-arns", "", "SNS topics whose SES notifications /v1/webhooks/bounces/ses accepts, comma-separated (empty: the receiver is off)",
			func(c *Config, v string) error {
				c.SESTopicARNs = nil
				for _, arn := range strings.Split(v, ",") {
					if arn = strings.TrimSpace(arn); arn == "" {
						continue
					}
					if !strings.HasPrefix(arn, "arn:") {
						return fmt.Errorf("%q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn)
					}
					c.SESTopicARNs = append(c.SESTopicARNs, arn)
				}
				return nil
			}},
		{"TIDINGS_SENDGRID_WEBHOOK_KEY", "sendgrid-webhook-key", "", "verification key of SendGrid's signed event webhook (base64; empty: the receiver is off)", str(func(c *Config) *string { return &c.SendGridKey })},
		{"TIDINGS_MAILGUN_WEBHOOK_KEY", "mailgun-webhook-key", "", "Mailgun's webhook signing key (empty: the receiver is off)", str(func(c *Config) *string { return &c.MailgunKey })},
		{"TIDINGS_POSTMARK_WEBHOOK_AUTH", "postmark-webhook-auth", "", "user:password that Postmark's webhook URL carries as basic auth (empty: the receiver is off)",
			func(c *Config, v string) error {
				if u, p, ok := strings.Cut(v, ":"); v != "" && (!ok || u == "" || len(p) < 12) {
					return fmt.Errorf("expected USER:PASSWORD with a password of at least 12 characters")
				}
				c.PostmarkAuth = v
				return nil
			}},
		{"TIDINGS_BOUNCE_WEBHOOK_SECRET", "bounce-webhook-secret", "", "secret that signs the generic bounce webhook form (at least 16 characters; empty: the receiver is off)",
			func(c *Config, v string) error {
				if v != "" && len(v) < 16 {
					return fmt.Errorf("must be at least 16 characters")
				}
				c.BounceSecret = v
				return nil
			}},
		{"TIDINGS_SOFT_BOUNCES", "soft-bounces", "3/7d", "soft bounces of one address that suppress it, and the window they are counted in (N/WINDOW, e.g. 5/14d; 0: never)", softBounces},
	}
}

// softBounces parses "N/WINDOW" (3/7d, 5/48h) or "0".
func softBounces(c *Config, v string) error {
	if v == "0" {
		c.SoftBounceLimit, c.SoftBounceWindow = 0, 0
		return nil
	}
	n, w, ok := strings.Cut(v, "/")
	max, err := strconv.Atoi(n)
	m := softWindow.FindStringSubmatch(w)
	if !ok || err != nil || max < 1 || m == nil {
		return fmt.Errorf("%q is not N/WINDOW such as 3/7d or 5/48h, or 0", v)
	}
	k, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	if k == 0 {
		return fmt.Errorf("%q: the window must be longer than zero", v)
	}
	c.SoftBounceLimit, c.SoftBounceWindow = max, time.Duration(k)*unit
	return nil
}

var softWindow = regexp.MustCompile(`^([0-9]{1,4})(h|d|w)$`)

// RegisterFlags adds one flag per setting. Flags have no default of their own
// so Load can tell "given" from "not given" and fall back to the variable.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = `""`
		}
		fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %s)", s.usage, s.env, def))
	}
}

// Load builds a Config: a flag given on the command line wins over its
// environment variable, which wins over the default. Every invalid value is
// reported, each named by variable and flag.
func Load(getenv func(string) string, fs *pflag.FlagSet) (Config, error) {
	var c Config
	var problems []string
	for _, s := range settings() {
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if fs != nil {
			if f := fs.Lookup(s.flag); f != nil && f.Changed {
				v, from = f.Value.String(), "--"+s.flag
			}
		}
		if err := s.set(&c, strings.TrimSpace(v)); err != nil {
			problems = append(problems, fmt.Sprintf("%s (from %s): %v", s.env, from, err))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Config{}, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// Reference lists every setting for the README and `--help`.
func Reference() [][4]string {
	var out [][4]string
	for _, s := range settings() {
		out = append(out, [4]string{s.env, "--" + s.flag, s.def, s.usage})
	}
	return out
}

// ParseQuietHours parses "HH:MM-HH:MM" into minutes after midnight. The span
// may wrap midnight (21:00-09:00); equal ends mean no quiet hours.
func ParseQuietHours(v string) (start, end int, err error) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", v)
	}
	if start, err = clock(a); err == nil {
		end, err = clock(b)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM: %v", v, err)
	}
	return start, end, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// surveyTriggers parses "type=kind,type=kind".
func surveyTriggers(c *Config, v string) error {
	out := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		typ, kind, ok := strings.Cut(pair, "=")
		typ, kind = strings.TrimSpace(typ), strings.TrimSpace(kind)
		switch {
		case !ok || spec.CheckEventType(typ) != nil:
			return fmt.Errorf("%q is not EVENT_TYPE=nps or EVENT_TYPE=csat", pair)
		case kind != "nps" && kind != "csat":
			return fmt.Errorf("%q: survey %q is not nps or csat", pair, kind)
		}
		out[typ] = kind
	}
	c.SurveyTriggers = out
	return nil
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func oneOf(field func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if v == a {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func positive(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive whole number", v)
		}
		*field(c) = n
		return nil
	}
}

// optionalURL is setURL where empty means "none".
func optionalURL(field func(*Config) *string, schemes ...string) func(*Config, string) error {
	set := setURL(field, schemes...)
	return func(c *Config, v string) error {
		if v == "" {
			*field(c) = ""
			return nil
		}
		return set(c, strings.TrimSuffix(v, "/"))
	}
}

func setURL(field func(*Config) *string, schemes ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil {
			return fmt.Errorf("not a URL: %v", err)
		}
		for _, s := range schemes {
			if u.Scheme == s && u.Host != "" {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q needs a host and one of the schemes %s", v, strings.Join(schemes, ", "))
	}
}
