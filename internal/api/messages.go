package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
)

type messageList struct {
	Messages []store.LoggedMessage `json:"messages"`
	Next     string                `json:"next,omitempty"`
}

// listMessages is GET /v1/messages: the ledger, newest first, filtered by
// customer, campaign, journey, template, topic, channel, status, reason,
// delivery and time, keyset-paginated with ?after=.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 50, 500)
	if err != nil {
		return err
	}
	f := store.MessageFilter{
		Journey: q.Get("journey"), Campaign: q.Get("campaign"), Template: q.Get("template"), Topic: q.Get("topic"),
		Channel: q.Get("channel"), Status: q.Get("status"), Reason: q.Get("reason"), Delivery: q.Get("delivery"),
		After: q.Get("after"), Limit: limit,
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errorf(http.StatusBadRequest, codeInvalid, p.name, "%s %q is not an RFC 3339 time (2026-12-01T09:00:00Z)", p.name, v)
			}
			*p.to = t
		}
	}
	if c := q.Get("customer"); c != "" {
		cust, err := s.customer(r.Context(), c, true)
		if err != nil {
			return err
		}
		f.CustomerID = cust.ID
	}
	ms, next, err := s.store.ListMessages(r.Context(), f)
	if err != nil {
		return cursorError(err)
	}
	return answer(w, http.StatusOK, messageList{Messages: nonNil(ms), Next: next})
}

// getMessage is GET /v1/messages/{id}.
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return errorf(http.StatusNotFound, codeNotFound, "id", "no message %q (message IDs are UUIDs)", id)
	}
	d, err := s.store.MessageRecordByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "id", "no message %s", id)
	}
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, d)
}
