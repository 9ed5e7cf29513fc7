package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/access"
)

// requestInfo collects what handlers learn about a request for its log line.
type requestInfo struct {
	actor     string // who acted ("api_key:shop"), logged and recorded in consent evidence
	principal access.Principal
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// principal is who sent an authenticated request.
func principal(r *http.Request) access.Principal { return infoOf(r.Context()).principal }

// authorize lets a request through only with credentials (an API key in
// "Authorization: Bearer <key>", or a session cookie with its CSRF token on
// state-changing requests) whose role holds level: 401 without valid
// credentials, 403 for a role that may not.
func (s *Server) authorize(level access.Level, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.auth.Identify(r)
		switch {
		case errors.Is(err, access.ErrNoCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings"`)
			return errorf(http.StatusUnauthorized, codeUnauthorized, "",
				"missing credentials: send \"Authorization: Bearer <key>\" (create one with `tidings apikeys create`) or sign in with POST /v1/session")
		case errors.Is(err, access.ErrInvalidCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings", error="invalid_token"`)
			return errorf(http.StatusUnauthorized, codeUnauthorized, "", "API key or session is not valid, was revoked or has expired")
		case errors.Is(err, access.ErrCSRF):
			return errorf(http.StatusForbidden, codeCSRF, access.CSRFHeader,
				"this request changes state and comes with a session cookie: send the session's CSRF token in the %s header (GET /v1/session returns it)", access.CSRFHeader)
		case err != nil:
			return err
		}
		info := infoOf(r.Context())
		info.principal, info.actor = p, p.String()
		if !p.May(level) {
			return errorf(http.StatusForbidden, codeForbidden, "",
				"%s has the role %s, which may not do this; it needs %s", p.String(), p.Role, access.RoleList(level.Roles()))
		}
		return h(w, r)
	}
}
