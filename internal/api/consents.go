package api

import (
	"net/http"
	"strings"

	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// Consent channels.
var channels = []string{"email", "sms"}

type consentsResponse struct {
	Consents []store.Consent       `json:"consents"`
	History  []store.ConsentChange `json:"history"`
}

// getConsents is GET /v1/customers/{customer}/consents: the current state per
// channel and topic, and every change with its source, as evidence.
func (s *Server) getConsents(w http.ResponseWriter, r *http.Request) error {
	c, err := s.customer(r.Context(), r.PathValue("customer"), false)
	if err != nil {
		return err
	}
	cur, err := s.store.Consents(r.Context(), c.ID)
	if err != nil {
		return err
	}
	hist, err := s.store.ConsentHistory(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, consentsResponse{Consents: nonNil(cur), History: nonNil(hist)})
}

// consentBody is the body of PUT .../consents/{channel}/{topic}. Source says
// how consent was given or withdrawn (e.g. "checkout_form"); IP is the
// customer's address when the client knows it, kept as evidence.
type consentBody struct {
	Status string `json:"status"`
	Source string `json:"source"`
	IP     string `json:"ip,omitempty"`
}

// setConsent is PUT /v1/customers/{customer}/consents/{channel}/{topic}.
func (s *Server) setConsent(w http.ResponseWriter, r *http.Request) error {
	var body consentBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if bad := append(validate.Malformed("source", body.Source), validate.Malformed("ip", body.IP)...); len(bad) > 0 {
		return malformed("", bad)
	}
	channel, topic := r.PathValue("channel"), r.PathValue("topic")
	var errs validate.Errors
	if !contains(channels, channel) {
		errs.Add("channel", "%q is not one of %s", channel, strings.Join(channels, ", "))
	}
	if err := spec.CheckTopic(topic); err != nil {
		errs.Add("topic", "%v", err)
	}
	if body.Status != store.Granted && body.Status != store.Denied {
		errs.Add("status", "%q is not %q or %q", body.Status, store.Granted, store.Denied)
	}
	body.Source = strings.TrimSpace(body.Source)
	if body.Source == "" {
		errs.Add("source", "is required: say how the customer gave or withdrew consent (e.g. checkout_form)")
	}
	if len(errs) > 0 {
		return invalid("", errs)
	}
	c, err := s.customer(r.Context(), r.PathValue("customer"), false)
	if err != nil {
		return err
	}
	got, err := s.store.SetConsent(r.Context(), store.ConsentChange{
		CustomerID: c.ID, Channel: channel, Topic: topic, Status: body.Status,
		Source: body.Source, Actor: infoOf(r.Context()).actor, IP: body.IP,
	})
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, got)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
