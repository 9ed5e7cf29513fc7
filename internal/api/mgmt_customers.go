package api

import (
	"net/http"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

// searchCustomers is GET /v1/customers?q=&email=&phone=&external_id=&name=&tag=:
// customers matching every parameter given, in ID order, paged with after.
func (s *Server) searchCustomers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 50, 500)
	if err != nil {
		return err
	}
	page, err := s.mgmt.SearchCustomers(r.Context(), mgmt.CustomerQuery{
		Q: q.Get("q"), Email: q.Get("email"), Phone: q.Get("phone"), ExternalID: q.Get("external_id"),
		Name: q.Get("name"), Tag: q.Get("tag"), Region: s.opt.DefaultRegion, After: q.Get("after"), Limit: limit,
	})
	if err != nil {
		return outcome(err, "")
	}
	return answer(w, http.StatusOK, page)
}

// customerTimeline is GET /v1/customers/{customer}/timeline: the customer
// and their history, newest first, paged with after.
func (s *Server) customerTimeline(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 100, 500)
	if err != nil {
		return err
	}
	tl, err := s.mgmt.CustomerTimeline(r.Context(), r.PathValue("customer"), r.URL.Query().Get("after"), limit)
	return respond(w, tl, outcome(err, "customer"))
}
