package api

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the checked-in OpenAPI 3 description of every route; a test
// keeps it and the route table in step and runs its examples.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /v1/openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
