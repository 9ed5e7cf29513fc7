package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// MaxBatch is the most customers or events one batch request may carry.
const MaxBatch = 1000

// customerResponse is a profile with its current consents.
type customerResponse struct {
	store.Customer
	Consents []store.Consent `json:"consents"`
}

type upsertResponse struct {
	Outcome  string         `json:"outcome"`
	Customer store.Customer `json:"customer"`
}

// upsertCustomer is POST /v1/customers: create or update one profile by its
// external_id.
func (s *Server) upsertCustomer(w http.ResponseWriter, r *http.Request) error {
	var in store.CustomerInput
	if err := decode(r, &in); err != nil {
		return err
	}
	return s.upsertOne(w, r, in)
}

// putCustomer is PUT /v1/customers/{external_id}; the body may omit
// external_id, and must not contradict the path.
func (s *Server) putCustomer(w http.ResponseWriter, r *http.Request) error {
	var in store.CustomerInput
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("external_id")
	if in.ExternalID != "" && in.ExternalID != id {
		return errorf(http.StatusUnprocessableEntity, codeInvalid, "external_id",
			"external_id: %q in the body contradicts %q in the path", in.ExternalID, id)
	}
	in.ExternalID = id
	return s.upsertOne(w, r, in)
}

func (s *Server) upsertOne(w http.ResponseWriter, r *http.Request, in store.CustomerInput) error {
	if err := s.validateCustomer(&in, ""); err != nil {
		return err
	}
	c, outcome, err := s.store.UpsertCustomer(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if outcome == store.Inserted {
		status = http.StatusCreated
	}
	return answer(w, status, upsertResponse{Outcome: outcome, Customer: c})
}

func (s *Server) validateCustomer(in *store.CustomerInput, prefix string) *Error {
	if es := validate.CustomerMalformed(in); len(es) > 0 {
		return malformed(prefix, es)
	}
	err := validate.Customer(in, validate.CustomerOptions{DefaultRegion: s.opt.DefaultRegion, Now: s.opt.Now()})
	if es, ok := validate.AsErrors(err); ok {
		return invalid(prefix, es)
	}
	if len(in.ExternalID) > len(store.ErasedPrefix) && in.ExternalID[:len(store.ErasedPrefix)] == store.ErasedPrefix {
		return invalid(prefix, validate.Errors{{Field: "external_id", Message: fmt.Sprintf("must not start with %q (reserved for erased customers)", store.ErasedPrefix)}})
	}
	return nil
}

type batchCustomers struct {
	Customers []store.CustomerInput `json:"customers"`
}

type batchCustomersResponse struct {
	Inserted  int            `json:"inserted"`
	Updated   int            `json:"updated"`
	Unchanged int            `json:"unchanged"`
	Results   []upsertResult `json:"results"`
}

type upsertResult struct {
	ExternalID string `json:"external_id"`
	ID         string `json:"id"`
	Outcome    string `json:"outcome"`
}

// upsertCustomers is POST /v1/customers/batch: up to MaxBatch profiles, all
// or nothing. Every invalid row is reported with its index
// ("customers[3].email") and none is written, so a client fixes and resends
// the batch without wondering which half landed.
func (s *Server) upsertCustomers(w http.ResponseWriter, r *http.Request) error {
	var in batchCustomers
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkBatchSize("customers", len(in.Customers)); err != nil {
		return err
	}
	var all validate.Errors
	status := http.StatusUnprocessableEntity
	first := map[string]int{}
	for i := range in.Customers {
		prefix := fmt.Sprintf("customers[%d].", i)
		if e := s.validateCustomer(&in.Customers[i], prefix); e != nil {
			all = append(all, fieldErrors(e)...)
			if e.Status == http.StatusBadRequest {
				status = e.Status // one malformed row makes the batch a 400
			}
			continue
		}
		id := in.Customers[i].ExternalID
		if j, dup := first[id]; dup {
			all.Add(prefix+"external_id", "%q appears twice in the batch (also customers[%d])", id, j)
			continue
		}
		first[id] = i
	}
	if len(all) > 0 {
		return withStatus(invalid("", all), status)
	}
	res, err := s.store.UpsertCustomers(r.Context(), in.Customers)
	if err != nil {
		return err
	}
	out := batchCustomersResponse{Results: make([]upsertResult, len(res))}
	for i, x := range res {
		out.Results[i] = upsertResult{ExternalID: x.ExternalID, ID: x.ID, Outcome: x.Outcome}
		switch x.Outcome {
		case store.Inserted:
			out.Inserted++
		case store.Updated:
			out.Updated++
		default:
			out.Unchanged++
		}
	}
	return answer(w, http.StatusOK, out)
}

func checkBatchSize(field string, n int) error {
	switch {
	case n == 0:
		return errorf(http.StatusUnprocessableEntity, codeInvalid, field, "%s: the batch is empty", field)
	case n > MaxBatch:
		return errorf(http.StatusUnprocessableEntity, codeInvalid, field, "%s: %d items, at most %d per batch", field, n, MaxBatch)
	}
	return nil
}

func fieldErrors(e *Error) validate.Errors {
	if len(e.Details) > 0 {
		return e.Details
	}
	return validate.Errors{{Field: e.Field, Message: e.Message[len(e.Field)+2:]}}
}

// getCustomer is GET /v1/customers/{customer}.
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	c, err := s.customer(r.Context(), r.PathValue("customer"), false)
	if err != nil {
		return err
	}
	consents, err := s.store.Consents(r.Context(), c.ID)
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, customerResponse{Customer: c, Consents: nonNil(consents)})
}

// exportCustomer is GET /v1/customers/{customer}/export: everything held on
// one person, for a data portability request. Every export is audited.
func (s *Server) exportCustomer(w http.ResponseWriter, r *http.Request) error {
	out, err := s.mgmt.ExportCustomer(r.Context(), principal(r), r.PathValue("customer"))
	if err != nil {
		return s.customerErr(err, r.PathValue("customer"))
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customer-%s.json"`, out.Customer.ID))
	return answer(w, http.StatusOK, out)
}

// eraseCustomer is DELETE /v1/customers/{customer}: a privacy erasure,
// audited. The personal data goes first (so nothing can be sent even if
// Temporal is down), then every running journey of the customer is
// cancelled. Repeating the request by Tidings ID repeats the cancellation,
// so a client can retry after a 503.
func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request) error {
	res, err := s.mgmt.EraseCustomer(r.Context(), principal(r), r.PathValue("customer"))
	if errors.Is(err, mgmt.ErrJourneysNotCancelled) {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "",
			"personal data of %s erased, but running journeys could not be cancelled (journey engine unreachable); retry DELETE /v1/customers/%s", res.ID, res.ID)
	}
	if err != nil {
		return s.customerErr(err, r.PathValue("customer"))
	}
	return answer(w, http.StatusOK, res)
}

// customer finds a customer by Tidings ID or external ID; an erased one only
// when allowErased. A key with a NUL byte names nobody (and PostgreSQL
// could not even compare it).
func (s *Server) customer(ctx context.Context, key string, allowErased bool) (store.Customer, error) {
	if strings.IndexByte(key, 0) >= 0 {
		return store.Customer{}, s.customerErr(store.ErrNotFound, key)
	}
	c, err := s.mgmt.FindCustomer(ctx, key, allowErased)
	if err != nil {
		return store.Customer{}, s.customerErr(err, key)
	}
	return c, nil
}

// customerErr is the 404 for a customer key that finds nobody.
func (s *Server) customerErr(err error, key string) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "customer", "no customer with ID or external ID %q", key)
	}
	return err
}
