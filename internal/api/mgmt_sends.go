package api

import (
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/validate"
)

// sendMessage is POST /v1/messages: send one message now through the send
// path (a shop's order confirmation). 201 with the ledger ID and what
// became of it; the same idempotency_key again is 200 with the first
// outcome and duplicate set, and sends nothing.
func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.Message
	if err := decode(r, &in); err != nil {
		return err
	}
	bad := validate.ValuesMalformed("vars", in.Vars)
	for _, f := range [][2]string{{"customer", in.Customer}, {"template", in.Template}, {"topic", in.Topic},
		{"channel", in.Channel}, {"idempotency_key", in.IdempotencyKey}} {
		bad = append(bad, validate.Malformed(f[0], f[1])...)
	}
	if len(bad) > 0 {
		return malformed("", bad)
	}
	res, err := s.mgmt.SendMessage(r.Context(), in)
	var perm *delivery.PermanentError
	switch {
	case errors.As(err, &perm) && res.MessageID != "":
		// Refused for good (the provider, the template): recorded in the
		// ledger like any outcome.
	case errors.As(err, &perm):
		return errorf(http.StatusUnprocessableEntity, codeInvalid, "", "%v", err)
	case err != nil:
		return s.sendFailed(r, err, "transactional send", "send the same request again (same idempotency_key) to retry")
	}
	status := http.StatusCreated
	if res.Duplicate {
		status = http.StatusOK
	}
	return answer(w, status, sendResult{Status: res.Status, Reason: res.Reason, MessageID: res.MessageID, Duplicate: res.Duplicate})
}

// sendResult is what became of a message sent over the API.
type sendResult struct {
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	MessageID string `json:"message_id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// sendTest is POST /v1/messages/test: a template or a campaign step sent
// as a test to a customer, marked as a test in the ledger.
func (s *Server) sendTest(w http.ResponseWriter, r *http.Request) error {
	var in mgmt.TestSend
	if err := decode(r, &in); err != nil {
		return err
	}
	sent, err := s.mgmt.SendTest(r.Context(), principal(r), in)
	if err != nil {
		return s.sendFailed(r, err, "test send", "try again")
	}
	return answer(w, http.StatusCreated, sent)
}

// sendFailed answers a send that did not go out: bad input is its 4xx; no
// send path, or a provider failing for now, is a 503 that says how to
// retry (what failed is logged).
func (s *Server) sendFailed(r *http.Request, err error, what, retry string) error {
	if errors.Is(err, mgmt.ErrNoSender) {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "", "%v", err)
	}
	if out := outcome(err, ""); out != err {
		return out
	}
	s.log.WarnContext(r.Context(), what+" failed for now", "err", err)
	return errorf(http.StatusServiceUnavailable, codeUnavailable, "", "the provider is unavailable for now; %s", retry)
}
