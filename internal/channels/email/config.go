package email

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// TLS modes accepted in the tls= parameter of an smtp:// URL.
const (
	TLSNone          = "none"          // plain text, for a relay on localhost
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSStartTLS      = "starttls"      // STARTTLS or refuse to send
	TLSImplicit      = "implicit"      // TLS from the first byte (smtps://)
)

// Server is where and how to reach the SMTP relay, parsed from a URL such as
// smtp://user:pass@host:587?tls=starttls, smtps://host:465 or
// smtp://127.0.0.1:25?tls=none.
type Server struct {
	Host     string
	Port     int
	TLS      string
	Username string
	Password string
	// Auth is the SASL mechanism (plain, login, cram-md5, scram-sha-256...);
	// empty picks the strongest the server offers.
	Auth string
	// Timeout bounds dialing and every SMTP command (timeout=30s).
	Timeout time.Duration
	// SkipVerify accepts any certificate (skip_verify=true), for a relay
	// with a self-signed certificate on a private network only.
	SkipVerify bool
}

// ParseURL reads an SMTP URL. Without tls=, smtp:// uses STARTTLS when
// credentials are given (never send a password in clear text) and
// opportunistic STARTTLS otherwise; smtps:// is implicit TLS.
func ParseURL(raw string) (Server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Server{}, fmt.Errorf("smtp url: %w", err)
	}
	s := Server{Host: u.Hostname(), Timeout: 30 * time.Second}
	if s.Host == "" {
		return Server{}, fmt.Errorf("smtp url %q: host is missing", redact(u))
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	switch u.Scheme {
	case "smtp":
		s.TLS = TLSOpportunistic
		s.Port = 25
		if s.Username != "" {
			s.TLS, s.Port = TLSStartTLS, 587
		}
		if v := q.Get("tls"); v != "" {
			switch v {
			case TLSNone, TLSOpportunistic, TLSStartTLS:
				s.TLS = v
			default:
				return Server{}, fmt.Errorf("smtp url %q: tls=%q is not one of none, opportunistic, starttls", redact(u), v)
			}
		}
	case "smtps":
		s.TLS, s.Port = TLSImplicit, 465
		if v := q.Get("tls"); v != "" && v != TLSImplicit {
			return Server{}, fmt.Errorf("smtp url %q: smtps:// is always implicit TLS, tls=%q does not apply", redact(u), v)
		}
	default:
		return Server{}, fmt.Errorf("smtp url %q: scheme must be smtp or smtps", redact(u))
	}
	if p := u.Port(); p != "" {
		s.Port, err = strconv.Atoi(p)
		if err != nil || s.Port < 1 || s.Port > 65535 {
			return Server{}, fmt.Errorf("smtp url %q: port %q is not a number from 1 to 65535", redact(u), p)
		}
	}
	if v := q.Get("timeout"); v != "" {
		s.Timeout, err = time.ParseDuration(v)
		if err != nil || s.Timeout <= 0 {
			return Server{}, fmt.Errorf("smtp url %q: timeout=%q is not a positive duration such as 30s", redact(u), v)
		}
	}
	if v := q.Get("skip_verify"); v != "" {
		s.SkipVerify, err = strconv.ParseBool(v)
		if err != nil {
			return Server{}, fmt.Errorf("smtp url %q: skip_verify=%q is not true or false", redact(u), v)
		}
	}
	s.Auth = strings.ToUpper(q.Get("auth"))
	if s.TLS == TLSNone && s.Username != "" && !isLoopback(s.Host) {
		return Server{}, fmt.Errorf("smtp url %q: refusing to send a password without TLS to %s; use tls=starttls or smtps://", redact(u), s.Host)
	}
	return s, nil
}

// options turns the server settings into go-mail client options.
//
// go-mail by default sends NOOP before each message (a liveness check) and
// RSET after it; the Mailer needs neither, and each costs a round trip per
// message, a third of a message's round trips. A dead pooled connection
// fails at MAIL FROM, before the message was handed over, and the Mailer
// redials and sends again (see Send); a completed DATA already ends the
// SMTP transaction, and after a failed one the Mailer resets explicitly.
func (s Server) options() []mail.Option {
	opts := []mail.Option{
		mail.WithPort(s.Port),
		mail.WithTimeout(s.Timeout),
		mail.WithoutNoop(),
		mail.WithoutRset(),
		mail.WithTLSConfig(&tls.Config{ServerName: s.Host, InsecureSkipVerify: s.SkipVerify, MinVersion: tls.VersionTLS12}), //nolint:gosec // opt-in via skip_verify
	}
	switch s.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	}
	if s.Username != "" {
		auth := mail.SMTPAuthAutoDiscover
		if s.TLS == TLSNone {
			auth = mail.SMTPAuthPlainNoEnc // loopback only, checked by ParseURL
		}
		if s.Auth != "" {
			auth = mail.SMTPAuthType(s.Auth)
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	return opts
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// redact hides the password of an SMTP URL for error messages.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxx")
		}
	}
	return c.String()
}
