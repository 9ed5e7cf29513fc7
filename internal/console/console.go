// Package console is Tidings' web console under /console/: server-rendered
// pages for marketers and ops, in English, Simplified and Traditional
// Chinese. Every page is one handler and one template; every action calls
// the same management function the HTTP API and the CLI call, so the
// console adds no second implementation of anything. Forms work without
// JavaScript; the vendored htmx only spares a page reload where it helps.
package console

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// Prefix is where the console is mounted on the API server.
const Prefix = "/console/"

// Deps are what the console is built from, once, by the application.
type Deps struct {
	// Mgmt is the management functions the API and the CLI share.
	Mgmt *mgmt.Service
	// Store answers the read-only lists the API also reads straight from
	// the store (the message log).
	Store *store.Store
	// Topics are the message topics in force, shown read-only in Settings.
	Topics map[string]delivery.Topic
	Log    *slog.Logger
}

// Options tune the console; zero values mean the defaults.
type Options struct {
	// InsecureCookies drops Secure from the session cookie, for plain-HTTP
	// development only; it must match the API's setting, since both read
	// the same cookie.
	InsecureCookies bool
	// QuietHours and PolicyFile are the settings Settings shows
	// (TIDINGS_QUIET_HOURS, TIDINGS_POLICY_FILE).
	QuietHours, PolicyFile string
	// SurveyTriggers are the survey journey's triggers in force (event
	// type → nps or csat), which decide the kind of an unanswered
	// invitation in the NPS and CSAT reports; nil means the defaults.
	SurveyTriggers map[string]string
	// AcquisitionSpend is each signup source's monthly spend (the policy
	// file's acquisition: section), the acquisition report's costs when
	// the reader types none.
	AcquisitionSpend reports.SpendPerMonth
	// TemporalUI is the Temporal Web UI's base URL each run links to ("":
	// no links), Namespace the namespace the runs are in.
	TemporalUI, Namespace string
	// Now is the clock (tests pin it); default time.Now.
	Now func() time.Time
}

// Console serves the pages. Build it with New; it is an http.Handler for
// paths under Prefix.
type Console struct {
	mgmt    *mgmt.Service
	store   *store.Store
	topics  map[string]delivery.Topic
	log     *slog.Logger
	opt     Options
	auth    *access.Authenticator
	cookies access.Cookies
	pages   *pages
	mux     *http.ServeMux
}

// New builds the console and registers its pages.
func New(d Deps, opt Options) *Console {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	cookies := access.Cookies{Insecure: opt.InsecureCookies}
	c := &Console{
		mgmt: d.Mgmt, store: d.Store, topics: d.Topics, log: d.Log, opt: opt,
		auth: access.NewAuthenticator(d.Mgmt, cookies), cookies: cookies,
		pages: parsePages(), mux: http.NewServeMux(),
	}
	c.routes()
	return c
}

// handler is a page that returns its error instead of writing it, so every
// failure gets the same error page in the reader's language.
type handler func(w http.ResponseWriter, r *http.Request, v *view) error

func (c *Console) routes() {
	const (
		read       = access.Read
		market     = access.Market
		operate    = access.Operate
		administer = access.Administer
	)
	c.mux.Handle("GET /console/assets/", assetHandler())
	c.mux.HandleFunc("GET /console/login", c.public(c.loginPage))
	c.mux.HandleFunc("POST /console/login", c.public(c.login))
	c.mux.HandleFunc("GET /console/login/link", c.public(c.loginLink))
	c.mux.HandleFunc("GET /console/language", c.public(c.setLanguage))
	c.mux.HandleFunc("POST /console/logout", c.signedIn(read, c.logout))

	c.mux.HandleFunc("GET /console/{$}", c.signedIn(read, c.overview))

	c.mux.HandleFunc("GET /console/campaigns", c.signedIn(read, c.campaigns))
	c.mux.HandleFunc("GET /console/campaigns/new", c.signedIn(read, c.newCampaign))
	c.mux.HandleFunc("POST /console/campaigns/editor", c.signedIn(market, c.editorAction))
	c.mux.HandleFunc("GET /console/campaigns/{name}", c.signedIn(read, c.campaign))
	c.mux.HandleFunc("GET /console/campaigns/{name}/edit", c.signedIn(read, c.editCampaign))
	c.mux.HandleFunc("POST /console/campaigns/{name}/{action}", c.signedIn(market, c.setCampaignStatus))

	c.mux.HandleFunc("GET /console/customers", c.signedIn(read, c.customers))
	c.mux.HandleFunc("GET /console/customers/{key}", c.signedIn(read, c.customer))
	c.mux.HandleFunc("POST /console/customers/{key}/erase", c.signedIn(administer, c.eraseCustomer))
	c.mux.HandleFunc("POST /console/customers/{key}/export", c.signedIn(administer, c.exportCustomer))
	c.mux.HandleFunc("GET /console/messages", c.signedIn(read, c.messages))
	c.mux.HandleFunc("GET /console/messages/{id}", c.signedIn(read, c.message))
	c.mux.HandleFunc("GET /console/messages/{id}/html", c.signedIn(read, c.messageHTML))

	c.mux.HandleFunc("GET /console/segments", c.signedIn(read, c.segments))
	c.mux.HandleFunc("GET /console/segments/new", c.signedIn(read, c.newSegment))
	c.mux.HandleFunc("POST /console/segments/preview", c.signedIn(read, c.previewSegment))
	c.mux.HandleFunc("POST /console/segments", c.signedIn(market, c.saveSegment))
	c.mux.HandleFunc("GET /console/segments/{name}", c.signedIn(read, c.segment))
	c.mux.HandleFunc("POST /console/segments/{name}/delete", c.signedIn(market, c.deleteSegment))
	c.mux.HandleFunc("GET /console/templates", c.signedIn(read, c.templatesList))
	c.mux.HandleFunc("GET /console/templates/{name}", c.signedIn(read, c.templatePreview))
	c.mux.HandleFunc("GET /console/templates/{name}/html", c.signedIn(read, c.templateHTML))
	c.mux.HandleFunc("POST /console/templates/{name}/test", c.signedIn(market, c.sendTemplateTest))

	c.mux.HandleFunc("GET /console/reports", c.signedIn(read, c.reportsIndex))
	c.mux.HandleFunc("GET /console/reports/{name}", c.signedIn(read, c.report))
	c.mux.HandleFunc("GET /console/reports/{name}/csv", c.signedIn(read, c.reportCSV))

	c.mux.HandleFunc("GET /console/journeys", c.signedIn(read, c.journeys))
	c.mux.HandleFunc("POST /console/schedules/{id}/{action}", c.signedIn(operate, c.scheduleAction))

	c.mux.HandleFunc("GET /console/settings/users", c.signedIn(administer, c.users))
	c.mux.HandleFunc("POST /console/settings/users", c.signedIn(administer, c.createUser))
	c.mux.HandleFunc("POST /console/settings/users/{id}", c.signedIn(administer, c.changeUser))
	c.mux.HandleFunc("GET /console/settings/keys", c.signedIn(administer, c.keys))
	c.mux.HandleFunc("POST /console/settings/keys", c.signedIn(administer, c.createKey))
	c.mux.HandleFunc("POST /console/settings/keys/{id}", c.signedIn(administer, c.changeKey))
	c.mux.HandleFunc("GET /console/settings/policy", c.signedIn(administer, c.policy))
	c.mux.HandleFunc("GET /console/settings/audit", c.signedIn(administer, c.auditLog))
}

// ServeHTTP serves the console's pages; /console itself redirects to the
// overview.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
	c.mux.ServeHTTP(w, r)
}

// public serves a page anyone may open (the sign-in page).
func (c *Console) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := c.newView(r, access.Principal{})
		c.finish(w, r, v, h(w, r, v))
	}
}

// signedIn serves a page to a signed-in user whose role holds level. A
// reader without a valid session is sent to the sign-in page; a
// state-changing request without the session's CSRF token, or from a role
// that may not, gets 403 and changes nothing.
func (c *Console) signedIn(level access.Level, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := c.auth.Identify(r)
		v := c.newView(r, p)
		switch {
		case errors.Is(err, access.ErrNoCredentials), errors.Is(err, access.ErrInvalidCredentials):
			next := ""
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, loginURL(next), http.StatusSeeOther)
			return
		case errors.Is(err, access.ErrCSRF):
			c.finish(w, r, v, &pageError{status: http.StatusForbidden, key: "error.csrf"})
			return
		case err != nil:
			c.finish(w, r, v, err)
			return
		}
		if !p.May(level) {
			c.finish(w, r, v, &pageError{status: http.StatusForbidden, key: "error.role",
				args: []any{v.T("role." + string(p.Role)), v.roleList(level.Roles())}})
			return
		}
		c.finish(w, r, v, h(w, r, v))
	}
}

// pageError is a failure the reader is told about in their language.
type pageError struct {
	status int
	key    string
	args   []any
}

func (e *pageError) Error() string { return e.key }

// finish writes the error page for err, if any.
func (c *Console) finish(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if err == nil {
		return
	}
	var pe *pageError
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, store.ErrNotFound):
		pe = &pageError{status: http.StatusNotFound, key: "error.not_found"}
	default:
		c.log.ErrorContext(r.Context(), "console page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		pe = &pageError{status: http.StatusInternalServerError, key: "error.internal"}
	}
	v.Title = v.T("error.title")
	c.render(w, r, pe.status, v, "error", errorPage{Message: v.T(pe.key, pe.args...)})
}

type errorPage struct{ Message string }

// loginURL is the sign-in page, returning to next afterwards.
func loginURL(next string) string {
	if next == "" || next == Prefix {
		return Prefix + "login"
	}
	return Prefix + "login?next=" + urlQueryEscape(next)
}

// safeNext keeps a post-sign-in redirect inside the console, so a crafted
// link cannot send a user who just signed in to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
