package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
)

// requestInfo collects what handlers learn about a request for its log line.
type requestInfo struct {
	apiKey string // prefix of the key that authenticated it
	actor  string // who acted, as recorded in consent evidence
}

type requestInfoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// authenticate lets a request through only with a live API key in
// "Authorization: Bearer <key>".
func (s *Server) authenticate(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		secret = strings.TrimSpace(secret)
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings"`)
			return errorf(http.StatusUnauthorized, codeUnauthorized, "", "missing API key: send \"Authorization: Bearer <key>\" (create one with `tidings apikeys create`)")
		}
		k, err := s.store.AuthenticateAPIKey(r.Context(), secret)
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidings", error="invalid_token"`)
			return errorf(http.StatusUnauthorized, codeUnauthorized, "", "API key is not valid or was revoked")
		}
		if err != nil {
			return err
		}
		info := infoOf(r.Context())
		info.apiKey = k.Prefix
		info.actor = "api_key:" + k.Name
		return h(w, r)
	}
}
