package api

import (
	"net/http"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

// listTemplates is GET /v1/templates: every template with its locales,
// channels and vars.
func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.mgmt.Templates()
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, map[string][]mgmt.TemplateInfo{"templates": ts})
}

// checkTemplates is GET /v1/templates/check: what the loaded set holds; a
// set with problems never loads, so the process would not be serving.
func (s *Server) checkTemplates(w http.ResponseWriter, r *http.Request) error {
	c, err := s.mgmt.CheckTemplates()
	return respond(w, c, err)
}

// previewTemplate is POST /v1/templates/{name}/preview: the template
// rendered for a customer or its sample data, in a locale and channel.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.TemplatePreview
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	in.Template = r.PathValue("name")
	p, err := s.mgmt.PreviewTemplate(r.Context(), in)
	return respond(w, p, outcome(err, ""))
}
