package api

import (
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

// previewSegment serves POST /v1/segments/preview (a definition in the
// body) and GET /v1/segments/{name}/preview (a saved one), with ?at= and
// ?sample=: the size, sample members with their scores, and query times.
func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	at, err := timeParam(q.Get("at"), "at")
	if err != nil {
		return err
	}
	sample, err := intParam(q.Get("sample"), "sample", 0, 1000)
	if err != nil {
		return err
	}
	if q.Get("sample") == "" {
		sample = 10
	}
	ref := mgmt.SegmentRef{Name: r.PathValue("name")}
	if ref.Name == "" {
		if ref.File, err = fileBody(r); err != nil {
			return err
		}
	}
	p, err := s.mgmt.PreviewSegment(r.Context(), ref, at, int(sample))
	return respond(w, p, segmentOutcome(err, ref.Name))
}

// listSegments is GET /v1/segments: the saved segments by name.
func (s *Server) listSegments(w http.ResponseWriter, r *http.Request) error {
	segs, err := s.mgmt.SavedSegments(r.Context())
	return respond(w, map[string][]store.Segment{"segments": segs}, err)
}

// saveSegment is POST /v1/segments?name=: save the definition in the body
// under its name (or name=); 201 for a new name.
func (s *Server) saveSegment(w http.ResponseWriter, r *http.Request) error {
	f, err := fileBody(r)
	if err != nil {
		return err
	}
	saved, err := s.mgmt.SaveSegment(r.Context(), principal(r), f, r.URL.Query().Get("name"))
	if err != nil {
		return segmentOutcome(err, "")
	}
	status := http.StatusOK
	if saved.Outcome == store.Inserted {
		status = http.StatusCreated
	}
	return answer(w, status, saved)
}

// getSegment is GET /v1/segments/{name}: the definition as saved.
func (s *Server) getSegment(w http.ResponseWriter, r *http.Request) error {
	seg, err := s.mgmt.SavedSegment(r.Context(), r.PathValue("name"))
	return respond(w, seg, segmentOutcome(err, r.PathValue("name")))
}

// deleteSegment is DELETE /v1/segments/{name}.
func (s *Server) deleteSegment(w http.ResponseWriter, r *http.Request) error {
	if err := s.mgmt.DeleteSegment(r.Context(), principal(r), r.PathValue("name")); err != nil {
		return segmentOutcome(err, r.PathValue("name"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// refreshScores is POST /v1/segments/refresh-scores: every customer's RFM
// quintiles and value tier recomputed now.
func (s *Server) refreshScores(w http.ResponseWriter, r *http.Request) error {
	res, err := s.mgmt.RefreshScores(r.Context(), principal(r))
	return respond(w, res, err)
}

// segmentOutcome maps a segment action's error: a bad definition is 422
// with its problems located, an unknown name 404.
func segmentOutcome(err error, name string) error {
	if ps, ok := mgmt.Problems(err); ok {
		return fileInvalid(ps)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "name", "no saved segment named %q", name)
	}
	return outcome(err, "name")
}
