package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

// sessionResponse is who a request acts as; csrf_token is set for browser
// sessions, which echo it in the X-CSRF-Token header of every request that
// changes state.
type sessionResponse struct {
	Principal access.Principal `json:"principal"`
	User      *store.User      `json:"user,omitempty"`
	CSRFToken string           `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time       `json:"expires_at,omitempty"`
}

// login is POST /v1/session: email and password in, a session cookie out.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.LoginInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.IP, in.UserAgent = clientIP(r), r.UserAgent()
	l, err := s.mgmt.Login(r.Context(), in)
	var limited *mgmt.RateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())+1))
		return errorf(http.StatusTooManyRequests, codeRateLimited, "", "%v", err)
	case errors.Is(err, mgmt.ErrBadCredentials):
		return errorf(http.StatusUnauthorized, codeUnauthorized, "", "%v", err)
	case errors.Is(err, mgmt.ErrDisabled):
		return errorf(http.StatusForbidden, codeForbidden, "", "%v", err)
	case err != nil:
		return outcome(err, "")
	}
	info := infoOf(r.Context())
	info.principal, info.actor = l.As, l.As.String()
	s.auth.Cookies().Set(w, l.Token, l.Session.ExpiresAt)
	return answer(w, http.StatusOK, sessionResponse{Principal: l.As, User: &l.User, CSRFToken: l.Session.CSRFToken, ExpiresAt: &l.Session.ExpiresAt})
}

// getSession is GET /v1/session: who the credentials sign in, and for a
// browser session its CSRF token.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	out := sessionResponse{Principal: p, CSRFToken: p.CSRFToken}
	if p.Kind == access.KindUser {
		u, err := s.mgmt.User(r.Context(), p.ID)
		if err != nil {
			return err
		}
		out.User = &u
	}
	return answer(w, http.StatusOK, out)
}

// logout is DELETE /v1/session: the session ends and the cookie goes. With
// an API key there is nothing to end.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.mgmt.Logout(r.Context(), principal(r)); err != nil {
		return err
	}
	s.auth.Cookies().Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is PUT /v1/session/password: a signed-in user replaces
// their own password; every session of theirs ends.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordChange
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.mgmt.ChangeOwnPassword(r.Context(), principal(r), in.CurrentPassword, in.NewPassword); err != nil {
		return outcome(err, "")
	}
	s.auth.Cookies().Clear(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listUsers is GET /v1/users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := s.mgmt.Users(r.Context())
	return answerList(w, "users", us, err)
}

// createUser is POST /v1/users; a generated password is in the response
// once.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.NewUser
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := s.mgmt.CreateUser(r.Context(), principal(r), in)
	if err != nil {
		return outcome(err, "email")
	}
	return answer(w, http.StatusCreated, u)
}

// getUser is GET /v1/users/{user} (email or ID).
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.mgmt.User(r.Context(), r.PathValue("user"))
	return respond(w, u, outcome(err, "user"))
}

// changeUser is PATCH /v1/users/{user}: role and disabled.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.UserChange
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := s.mgmt.ChangeUser(r.Context(), principal(r), r.PathValue("user"), in)
	return respond(w, u, outcome(err, "user"))
}

type passwordReset struct {
	Password string `json:"password,omitempty"`
}

// resetPassword is POST /v1/users/{user}/reset-password: a new password
// (generated unless given, and then returned once); the user is signed out
// everywhere.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordReset
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	u, err := s.mgmt.ResetPassword(r.Context(), principal(r), r.PathValue("user"), in.Password)
	return respond(w, u, outcome(err, "user"))
}

// listKeys is GET /v1/apikeys.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.mgmt.Keys(r.Context())
	return answerList(w, "api_keys", ks, err)
}

// createKey is POST /v1/apikeys; the secret is in the response once.
func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.NewKey
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.mgmt.CreateKey(r.Context(), principal(r), in)
	if err != nil {
		return outcome(err, "")
	}
	return answer(w, http.StatusCreated, k)
}

type keyScope struct {
	Role string `json:"role"`
}

// scopeKey is PATCH /v1/apikeys/{key} (ID or prefix): give it a role.
func (s *Server) scopeKey(w http.ResponseWriter, r *http.Request) error {
	var in keyScope
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.mgmt.ScopeKey(r.Context(), principal(r), r.PathValue("key"), in.Role)
	if err != nil {
		return outcome(err, "key")
	}
	return answer(w, http.StatusOK, map[string]store.APIKey{"api_key": k})
}

// revokeKey is DELETE /v1/apikeys/{key} (ID or prefix).
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.mgmt.RevokeKey(r.Context(), principal(r), r.PathValue("key"))
	if err != nil {
		return outcome(err, "key")
	}
	return answer(w, http.StatusOK, map[string]store.APIKey{"api_key": k})
}

type auditResponse struct {
	Entries []store.AuditEntry `json:"entries"`
	// NextBefore is the before= of the next page; absent on the last.
	NextBefore int64 `json:"next_before,omitempty"`
}

// auditLog is GET /v1/audit: newest first, filtered by actor, action,
// target and time, paged with before.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	aq := store.AuditQuery{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	var err error
	if aq.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return err
	}
	if aq.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return err
	}
	if aq.Before, err = intParam(q.Get("before"), "before", 1, 1<<62); err != nil {
		return err
	}
	limit, err := intParam(q.Get("limit"), "limit", 1, 1000)
	if err != nil {
		return err
	}
	aq.Limit = int(limit)
	if aq.Limit == 0 {
		aq.Limit = 100
	}
	es, err := s.mgmt.AuditLog(r.Context(), aq)
	if err != nil {
		return err
	}
	out := auditResponse{Entries: nonNil(es)}
	if len(es) == aq.Limit {
		out.NextBefore = es[len(es)-1].ID
	}
	return answer(w, http.StatusOK, out)
}

// timeParam reads an optional RFC 3339 query parameter.
func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errorf(http.StatusBadRequest, codeInvalid, name, "%s: %q is not an RFC 3339 time such as 2026-05-01T09:00:00Z", name, v)
	}
	return t, nil
}

// intParam reads an optional integer query parameter within [lo, hi]; 0
// when absent.
func intParam(v, name string, lo, hi int64) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, codeInvalid, name, "%s: %q is not a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// decodeOptional is decode for bodies that may be empty.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(r, v)
}
