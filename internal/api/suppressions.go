package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

type suppressionList struct {
	Suppressions []store.Suppression `json:"suppressions"`
	// Next is the cursor of the next page (pass it as ?after=); empty on
	// the last page.
	Next string `json:"next,omitempty"`
}

// limitParam reads ?limit=, between 1 and max (default def).
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errorf(http.StatusBadRequest, codeInvalid, "limit", "limit %q is not a whole number from 1 to %d", v, max)
	}
	return n, nil
}

func cursorError(err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return errorf(http.StatusBadRequest, codeInvalid, "after", "after: not a cursor this API handed out")
	}
	return err
}

// listSuppressions is GET /v1/suppressions: the list, newest first,
// filtered by channel, reason, source and part of the address.
func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	sps, next, err := s.store.ListSuppressions(r.Context(), store.SuppressionFilter{
		Channel: q.Get("channel"), Reason: q.Get("reason"), Source: q.Get("source"), Address: q.Get("address"),
		After: q.Get("after"), Limit: limit,
	})
	if err != nil {
		return cursorError(err)
	}
	return answer(w, http.StatusOK, suppressionList{Suppressions: nonNil(sps), Next: next})
}

// suppressionBody is the body of POST /v1/suppressions.
type suppressionBody struct {
	Channel string `json:"channel"`
	Address string `json:"address"`
	Reason  string `json:"reason,omitempty"`
	Source  string `json:"source,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

type suppressionResult struct {
	store.Suppression
	Created bool `json:"created"`
}

// addSuppression is POST /v1/suppressions: put an address on the list (201),
// or find it there already with its first reason (200).
func (s *Server) addSuppression(w http.ResponseWriter, r *http.Request) error {
	var body suppressionBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Source == "" {
		body.Source = "api"
	}
	got, created, err := s.mgmt.Suppress(r.Context(), principal(r), store.Suppression{
		Channel: body.Channel, Address: body.Address, Reason: body.Reason, Source: body.Source, Detail: body.Detail,
	}, s.opt.DefaultRegion)
	if es, ok := validate.AsErrors(err); ok {
		return invalid("", es)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return answer(w, status, suppressionResult{Suppression: got, Created: created})
}

type suppressionDetail struct {
	store.Suppression
	History []store.SuppressionChange `json:"history"`
}

// getSuppression is GET /v1/suppressions/{channel}/{address}: the entry and
// every addition and removal of the address.
func (s *Server) getSuppression(w http.ResponseWriter, r *http.Request) error {
	channel, addr := r.PathValue("channel"), r.PathValue("address")
	sp, err := s.store.Suppression(r.Context(), channel, addr)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "address", "%s %s is not suppressed", channel, addr)
	}
	if err != nil {
		return err
	}
	hist, err := s.store.SuppressionHistory(r.Context(), channel, addr)
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, suppressionDetail{Suppression: sp, History: nonNil(hist)})
}

// removeSuppression is DELETE /v1/suppressions/{channel}/{address}?note=WHY:
// messages may reach the address again; the removal, who made it and the
// note are recorded, and it is audited.
func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) error {
	channel, addr := r.PathValue("channel"), r.PathValue("address")
	note := strings.TrimSpace(r.URL.Query().Get("note"))
	sp, err := s.mgmt.Unsuppress(r.Context(), principal(r), channel, addr, note)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "address", "%s %s is not suppressed", channel, addr)
	}
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, sp)
}
