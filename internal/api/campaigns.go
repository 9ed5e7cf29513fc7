package api

import (
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/store"
)

// listCampaigns is GET /v1/campaigns: every campaign with its status,
// current version and trigger kind, archived ones included.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.store.ListCampaigns(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string][]store.Campaign{"campaigns": nonNil(cs)})
	return nil
}

// campaignResults is GET /v1/campaigns/{name}/results: per variant and for
// the holdout, who entered and what was sent, skipped (by reason) and
// failed, goal conversions, and the uplift over the holdout, as
// `tidings report campaign` prints it.
func (s *Server) campaignResults(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	rep, err := s.store.CampaignResults(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "name", "no campaign named %q", name)
	}
	if err != nil {
		return err
	}
	rep.Arms = nonNil(rep.Arms)
	writeJSON(w, http.StatusOK, rep)
	return nil
}
