package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// Error is the body of every failed API response:
// {"error": {"code": ..., "message": ..., "field": ...}}. Details lists every
// field problem when there is more than one.
type Error struct {
	Status  int                   `json:"-"`
	Code    string                `json:"code"`
	Message string                `json:"message"`
	Field   string                `json:"field,omitempty"`
	Details []validate.FieldError `json:"details,omitempty"`
	// Problems locates each problem of a file sent as the body (a
	// campaign, a segment, a schedule) by line and column.
	Problems []mgmt.Problem `json:"problems,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Error codes clients can branch on.
const (
	codeInvalidJSON     = "invalid_json"
	codeUnknownField    = "unknown_field"
	codeInvalid         = "invalid"
	codeTooLarge        = "body_too_large"
	codeUnsupportedType = "unsupported_media_type"
	codeUnauthorized    = "unauthorized"
	codeForbidden       = "forbidden"
	codeCSRF            = "csrf"
	codeRateLimited     = "rate_limited"
	codeConflict        = "conflict"
	codeNotFound        = "not_found"
	codeMethod          = "method_not_allowed"
	codeUnavailable     = "unavailable"
	codeInternal        = "internal"
)

func errorf(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// invalid turns field errors into a 422, each field prefixed with its path
// inside the body (e.g. "customers[3]."), the first one in Field.
func invalid(prefix string, es validate.Errors) *Error {
	out := make([]validate.FieldError, len(es))
	for i, fe := range es {
		out[i] = validate.FieldError{Field: prefix + fe.Field, Message: fe.Message}
	}
	e := &Error{Status: http.StatusUnprocessableEntity, Code: codeInvalid, Field: out[0].Field, Message: out[0].Error()}
	if len(out) > 1 {
		e.Message = fmt.Sprintf("%s (and %d more problems)", out[0].Error(), len(out)-1)
		e.Details = out
	}
	return e
}

// malformed is invalid's 400: text the request cannot carry at all (a NUL
// byte, a line break in a name, a timestamp in no known form), as opposed
// to a well-formed value the rules refuse.
func malformed(prefix string, es validate.Errors) *Error {
	return withStatus(invalid(prefix, es), http.StatusBadRequest)
}

// withStatus sets the status of e, for a batch whose rows failed in
// different ways.
func withStatus(e *Error, status int) *Error {
	e.Status = status
	return e
}

// outcome turns what a management function returned into the API's error:
// field problems are 422 naming the field, a missing thing 404 (naming
// what, as field), a clash 409; anything else is internal.
func outcome(err error, what string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if es, ok := validate.AsErrors(err); ok {
		return invalid("", es)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, codeNotFound, what, "%v", err)
	case errors.Is(err, store.ErrExists):
		return errorf(http.StatusConflict, codeConflict, what, "%v", err)
	}
	return err
}

// writeError sends err as the JSON error body; anything that is not an *Error
// is an internal error whose text stays in the log.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errorf(http.StatusInternalServerError, codeInternal, "", "internal error; see the server log")
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// answer is how a handler ends well: v as the JSON body with status.
func answer(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, v)
	return nil
}

// respond is a handler's last word: err when there is one, else v with 200.
func respond(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, v)
}

// answerList is a listing's last word: err when there is one, else 200
// with {"key": [...]}, an empty list as [] and never null, so clients can
// range over it.
func answerList[T any](w http.ResponseWriter, key string, items []T, err error) error {
	return respond(w, map[string][]T{key: nonNil(items)}, err)
}

// nonNil makes a nil list encode as [].
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// decode reads one JSON value into v, rejecting unknown fields, trailing data
// and bodies over the limit, and names the field at fault.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return errorf(http.StatusBadRequest, codeInvalidJSON, "", "request body has data after the JSON value")
		}
		return nil
	}
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "", "request body is larger than %d bytes", tooLarge.Limit)
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "", "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "", "request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, codeInvalidJSON, "", "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		return errorf(http.StatusBadRequest, codeInvalidJSON, typ.Field, "%s: want a JSON %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return errorf(http.StatusBadRequest, codeUnknownField, field, "unknown field %q", field)
	}
	return errorf(http.StatusBadRequest, codeInvalidJSON, "", "malformed JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
