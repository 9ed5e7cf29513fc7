package api

import (
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

// listSchedules is GET /v1/schedules: the recurring work in Temporal with
// its next firings.
func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.mgmt.Schedules(r.Context())
	if err != nil {
		return scheduleOutcome(err, "")
	}
	return answer(w, http.StatusOK, map[string][]mgmt.ScheduleSummary{"schedules": ss})
}

// getSchedule is GET /v1/schedules/{id}: spec zone, state, recent and next
// firings.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) error {
	d, err := s.mgmt.Schedule(r.Context(), r.PathValue("id"))
	return respond(w, d, scheduleOutcome(err, r.PathValue("id")))
}

// applySchedules is POST /v1/schedules?dry_run=true&preview=N: create or
// update the schedules the YAML file in the body declares.
func (s *Server) applySchedules(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	preview, err := intParam(q.Get("preview"), "preview", 0, 50)
	if err != nil {
		return err
	}
	if q.Get("preview") == "" {
		preview = 3
	}
	dry := q.Get("dry_run")
	if dry != "" && dry != "true" && dry != "false" {
		return errorf(http.StatusBadRequest, codeInvalid, "dry_run", "dry_run %q: want true or false", dry)
	}
	f, err := fileBody(r)
	if err != nil {
		return err
	}
	res, err := s.mgmt.ApplySchedules(r.Context(), principal(r), f, dry == "true", int(preview))
	if err != nil {
		return scheduleOutcome(err, "")
	}
	return answer(w, http.StatusOK, map[string][]mgmt.AppliedSchedule{"schedules": res})
}

type scheduleNote struct {
	Note string `json:"note,omitempty"`
}

// scheduleAction serves POST /v1/schedules/{id}/pause, /unpause and
// /trigger (an optional {"note": "why"}) and DELETE /v1/schedules/{id}.
func (s *Server) scheduleAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in scheduleNote
		if err := decodeOptional(r, &in); err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := s.mgmt.ScheduleAction(r.Context(), principal(r), id, action, in.Note); err != nil {
			return scheduleOutcome(err, id)
		}
		if action == "delete" {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		d, err := s.mgmt.Schedule(r.Context(), id)
		if err != nil {
			return scheduleOutcome(err, id)
		}
		return answer(w, http.StatusOK, d)
	}
}

// scheduleOutcome maps a schedule action's error: a bad file is 422 with
// its problems located, an unknown ID 404, Temporal unreachable 503.
func scheduleOutcome(err error, id string) error {
	if ps, ok := mgmt.Problems(err); ok {
		return fileInvalid(ps)
	}
	switch {
	case errors.Is(err, store.ErrNotFound) && id != "":
		return errorf(http.StatusNotFound, codeNotFound, "id", "no schedule %q", id)
	case errors.Is(err, mgmt.ErrNoEngine):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "", "%v; nothing was changed, try again", err)
	}
	return outcome(err, "")
}

// listJourneys is GET /v1/journeys: the registry with parameters in force
// and runs in flight.
func (s *Server) listJourneys(w http.ResponseWriter, r *http.Request) error {
	js, err := s.mgmt.Journeys(r.Context())
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, map[string][]mgmt.JourneyInfo{"journeys": js})
}

// customerJourneys is GET /v1/customers/{customer}/journeys: the
// customer's journey runs, newest first, with outcomes.
func (s *Server) customerJourneys(w http.ResponseWriter, r *http.Request) error {
	runs, err := s.mgmt.CustomerJourneys(r.Context(), r.PathValue("customer"))
	if err != nil {
		return outcome(err, "customer")
	}
	return answer(w, http.StatusOK, map[string][]store.JourneyRun{"runs": runs})
}
