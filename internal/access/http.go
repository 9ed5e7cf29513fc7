package access

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// Why a request's credentials are refused.
var (
	// ErrNoCredentials: neither an API key nor a session cookie (401).
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidCredentials: an unknown or revoked key, or an ended,
	// expired or disabled user's session (401).
	ErrInvalidCredentials = errors.New("credentials are not valid")
	// ErrCSRF: a state-changing request of a browser session without the
	// session's CSRF token (403).
	ErrCSRF = errors.New("missing or wrong CSRF token")
)

// Credentials turns a key's secret or a session's token into a principal,
// returning ErrInvalidCredentials when they sign in nobody;
// *mgmt.Service implements it.
type Credentials interface {
	APIKey(ctx context.Context, secret string) (Principal, error)
	Session(ctx context.Context, token string) (Principal, error)
}

// CSRFHeader and CSRFField carry a session's CSRF token: the header for
// scripts, the form field for server-rendered forms that work without them.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// Cookies set and read the session cookie. It is HttpOnly (scripts cannot
// read it), SameSite=Lax (other sites' forms do not send it) and Secure
// (named with the __Host- prefix, which browsers honour only on HTTPS and
// only for the exact host) unless Insecure is set for plain-HTTP development.
type Cookies struct {
	Insecure bool
}

// Name is the session cookie's name.
func (c Cookies) Name() string {
	if c.Insecure {
		return "tidings_session"
	}
	return "__Host-tidings_session"
}

// Set gives the browser the session token until expires.
func (c Cookies) Set(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(), Value: token, Path: "/", Expires: expires,
		MaxAge: max(int(time.Until(expires).Seconds()), 1),
		Secure: !c.Insecure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// Clear tells the browser to forget the session.
func (c Cookies) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(), Value: "", Path: "/", MaxAge: -1,
		Secure: !c.Insecure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// Authenticator finds who sent a request: an API key in "Authorization:
// Bearer <key>", or else a session cookie, whose state-changing requests
// must carry the session's CSRF token.
type Authenticator struct {
	creds   Credentials
	cookies Cookies
}

// NewAuthenticator builds an Authenticator.
func NewAuthenticator(creds Credentials, cookies Cookies) *Authenticator {
	return &Authenticator{creds: creds, cookies: cookies}
}

// Cookies is how the authenticator's session cookie is set.
func (a *Authenticator) Cookies() Cookies { return a.cookies }

// Identify returns the principal behind r with its client address, or
// ErrNoCredentials, ErrInvalidCredentials or ErrCSRF. An Authorization
// header that is present is used even when a cookie is too, so a script's
// key never borrows a browser's session.
func (a *Authenticator) Identify(r *http.Request) (Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		secret = strings.TrimSpace(secret)
		if !ok || secret == "" {
			return Principal{}, ErrNoCredentials
		}
		p, err := a.creds.APIKey(ctx, secret)
		p.IP = ClientIP(r)
		return p, err
	}
	c, err := r.Cookie(a.cookies.Name())
	if err != nil || c.Value == "" {
		return Principal{}, ErrNoCredentials
	}
	p, err := a.creds.Session(ctx, c.Value)
	if err != nil {
		return Principal{}, err
	}
	p.IP = ClientIP(r)
	if !safeMethod(r.Method) && !validCSRF(r, p.CSRFToken) {
		return Principal{}, ErrCSRF
	}
	return p, nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// validCSRF compares the request's token (header, or form field of a form
// post) with the session's in constant time.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue(CSRFField)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// ClientIP is the peer address of r without its port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
