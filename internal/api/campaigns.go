package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// listCampaigns is GET /v1/campaigns: every campaign with its status,
// current version and trigger kind, archived ones included.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.mgmt.Campaigns(r.Context())
	return respond(w, map[string][]store.Campaign{"campaigns": cs}, err)
}

// getCampaign is GET /v1/campaigns/{name}?version=N: the campaign's state,
// its versions, and the file of the current (or the asked) version.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) error {
	v, err := intParam(r.URL.Query().Get("version"), "version", 1, 1<<31-1)
	if err != nil {
		return err
	}
	c, err := s.mgmt.Campaign(r.Context(), r.PathValue("name"), int(v))
	return respond(w, c, campaignOutcome(err, r.PathValue("name")))
}

// campaignResults is GET /v1/campaigns/{name}/results: per variant and for
// the holdout, who entered and what was sent, skipped (by reason) and
// failed, goal conversions, and the uplift over the holdout, as
// `tidings report campaign` prints it.
func (s *Server) campaignResults(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.mgmt.CampaignResults(r.Context(), r.PathValue("name"))
	return respond(w, rep, campaignOutcome(err, r.PathValue("name")))
}

// validateCampaign is POST /v1/campaigns/validate: the file in the body
// checked as apply checks it (templates and saved segments too), every
// problem located by line and column; 200 whether or not it is valid.
func (s *Server) validateCampaign(w http.ResponseWriter, r *http.Request) error {
	f, err := fileBody(r)
	if err != nil {
		return err
	}
	chk, err := s.mgmt.ValidateCampaign(r.Context(), f, mgmt.CheckOptions{Segments: true})
	return respond(w, chk, err)
}

// dryRunCampaign is POST /v1/campaigns/dry-run?at=&samples=&next=: who the
// file in the body would reach and what they would get, nothing stored or
// sent.
func (s *Server) dryRunCampaign(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var o mgmt.DryRunOptions
	var err error
	if o.At, err = timeParam(q.Get("at"), "at"); err != nil {
		return err
	}
	samples, err := intParam(q.Get("samples"), "samples", 0, 50)
	if err != nil {
		return err
	}
	next, err := intParam(q.Get("next"), "next", 1, 50)
	if err != nil {
		return err
	}
	o.Samples, o.Next = int(samples), int(next)
	if q.Get("samples") == "" {
		o.Samples = 3
	}
	f, err := fileBody(r)
	if err != nil {
		return err
	}
	p, err := s.mgmt.DryRunCampaign(r.Context(), f, o)
	return respond(w, p, campaignOutcome(err, ""))
}

// applyCampaign is POST /v1/campaigns: store the file in the body as the
// campaign's next version and bring its trigger in step; 201 when it
// creates the campaign, 200 otherwise (outcome says whether anything
// changed). A bad file stores nothing.
func (s *Server) applyCampaign(w http.ResponseWriter, r *http.Request) error {
	f, err := fileBody(r)
	if err != nil {
		return err
	}
	res, err := s.mgmt.ApplyCampaign(r.Context(), principal(r), f)
	if err != nil {
		return campaignOutcome(err, "")
	}
	status := http.StatusOK
	if res.Outcome == store.Inserted {
		status = http.StatusCreated
	}
	return answer(w, status, res)
}

// campaignStatus serves POST /v1/campaigns/{name}/pause, /resume and
// /archive.
func (s *Server) campaignStatus(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.mgmt.SetCampaignStatus(r.Context(), principal(r), r.PathValue("name"), action)
		if err != nil {
			return campaignOutcome(err, r.PathValue("name"))
		}
		return answer(w, http.StatusOK, res)
	}
}

// fileTypes are the media types a file (a campaign, a segment) may be
// sent as: YAML under any of its names, plain text, or JSON (which is YAML
// too).
var fileTypes = map[string]bool{
	"application/yaml": true, "application/x-yaml": true, "text/yaml": true, "text/x-yaml": true,
	"text/plain": true, "application/json": true,
}

// fileBody reads a file sent as the request body, within the body limit;
// the parser then applies the bounds every file gets.
func fileBody(r *http.Request) (mgmt.File, error) {
	data, err := rawBody(r, fileTypes, "send the file as application/yaml (or application/json)")
	return mgmt.File{Text: data}, err
}

// rawBody reads a body that is not JSON, within the body limit, refusing
// a Content-Type outside types (415, with hint) and a body over the limit
// (413).
func rawBody(r *http.Request, types map[string]bool, hint string) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !types[mt] {
			return nil, errorf(http.StatusUnsupportedMediaType, codeUnsupportedType, "Content-Type", "Content-Type %q: %s", ct, hint)
		}
	}
	data, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "", "request body is larger than %d bytes", tooLarge.Limit)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalid, "", "read request body: %v", err)
	}
	return data, nil
}

// campaignOutcome maps what a campaign action returned: a bad file is 422
// with every problem located, an unknown campaign 404, an archived one
// 409, Temporal unreachable 503.
func campaignOutcome(err error, name string) error {
	if ps, ok := mgmt.Problems(err); ok {
		return fileInvalid(ps)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) && name != "":
		return errorf(http.StatusNotFound, codeNotFound, "name", "no campaign named %q (or no such version)", name)
	case errors.Is(err, manage.ErrArchived):
		return errorf(http.StatusConflict, codeConflict, "name", "%v", err)
	case errors.Is(err, mgmt.ErrNoEngine):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "", "%v; nothing was changed, try again", err)
	}
	return outcome(err, "name")
}

// fileInvalid is a 422 for a file with problems: each names its path in
// the file and where it is, as `tidings campaigns validate` prints it.
func fileInvalid(ps []mgmt.Problem) *Error {
	details := make([]validate.FieldError, len(ps))
	for i, p := range ps {
		details[i] = validate.FieldError{Field: p.Path, Message: p.Text}
	}
	e := &Error{Status: http.StatusUnprocessableEntity, Code: codeInvalid, Field: ps[0].Path, Message: ps[0].Text, Problems: ps}
	if len(ps) > 1 {
		e.Message = fmt.Sprintf("%s (and %d more problems)", ps[0].Text, len(ps)-1)
		e.Details = details
	}
	return e
}
