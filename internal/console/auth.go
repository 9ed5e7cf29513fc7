package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/validate"
)

// loginCSRFCookie carries the sign-in form's CSRF token before there is a
// session to hold one (double submit: the form and the cookie must agree),
// so another site cannot sign a browser in as someone else.
const loginCSRFCookie = "tidings_login_csrf"

type loginPage struct {
	Email, Next, Error string
	Fields             map[string]string
}

// loginPage is GET /console/login.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, v *view) error {
	if p, err := c.auth.Identify(r); err == nil && p.Kind == access.KindUser {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	c.showLogin(w, r, v, http.StatusOK, loginPage{Next: r.URL.Query().Get("next")})
	return nil
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, v *view, status int, page loginPage) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: token, Path: Prefix + "login",
		HttpOnly: true, Secure: !c.opt.InsecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	v.csrf, v.Title = token, v.T("login.title")
	c.render(w, r, status, v, "login", page)
}

// login is POST /console/login: the same sign-in as POST /v1/session, its
// limits and its audit entries included.
func (c *Console) login(w http.ResponseWriter, r *http.Request, v *view) error {
	page := loginPage{Email: r.PostFormValue("email"), Next: r.PostFormValue("next")}
	ck, err := r.Cookie(loginCSRFCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue(access.CSRFField))) != 1 {
		page.Error = v.T("login.expired")
		c.showLogin(w, r, v, http.StatusForbidden, page)
		return nil
	}
	l, err := c.mgmt.Login(r.Context(), mgmt.LoginInput{
		Email: page.Email, Password: r.PostFormValue("password"), IP: access.ClientIP(r), UserAgent: r.UserAgent(),
	})
	var (
		limited *mgmt.RateLimitedError
		status  = http.StatusUnauthorized
	)
	switch {
	case err == nil:
		c.cookies.Set(w, l.Token, l.Session.ExpiresAt)
		http.Redirect(w, r, safeNext(page.Next), http.StatusSeeOther)
		return nil
	case errors.As(err, &limited):
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())+1))
		page.Error = v.T("login.limited", int((limited.RetryAfter+time.Minute-1)/time.Minute))
	case errors.Is(err, mgmt.ErrBadCredentials):
		page.Error = v.T("login.bad")
	case errors.Is(err, mgmt.ErrDisabled):
		status, page.Error = http.StatusForbidden, v.T("login.disabled")
	default:
		errs, ok := validate.AsErrors(err)
		if !ok {
			return err
		}
		status, page.Fields = http.StatusBadRequest, map[string]string{}
		for _, e := range errs {
			page.Fields[e.Field] = v.T("form.required")
		}
	}
	c.showLogin(w, r, v, status, page)
	return nil
}

// loginLink is GET /console/login/link?token=: the one-time link `tidings
// dev` prints signs its user in and is spent.
func (c *Console) loginLink(w http.ResponseWriter, r *http.Request, v *view) error {
	l, err := c.mgmt.RedeemLoginLink(r.Context(), r.URL.Query().Get("token"), access.ClientIP(r), r.UserAgent())
	if errors.Is(err, mgmt.ErrLoginLinkUsed) {
		c.showLogin(w, r, v, http.StatusUnauthorized, loginPage{Error: v.T("login.link_used")})
		return nil
	}
	if err != nil {
		return err
	}
	c.cookies.Set(w, l.Token, l.Session.ExpiresAt)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
	return nil
}

// logout is POST /console/logout.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.mgmt.Logout(r.Context(), v.Who); err != nil {
		return err
	}
	c.cookies.Clear(w)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
	return nil
}

// setLanguage is GET /console/language?lang=zh-TW&next=: the choice is
// remembered for a year and wins over the browser's Accept-Language.
func (c *Console) setLanguage(w http.ResponseWriter, r *http.Request, v *view) error {
	code := r.URL.Query().Get("lang")
	if _, ok := c.pages.locales.byCode[code]; !ok {
		return &pageError{status: http.StatusBadRequest, key: "error.language"}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: code, Path: Prefix, MaxAge: 365 * 24 * 3600,
		Secure: !c.opt.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
	return nil
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
