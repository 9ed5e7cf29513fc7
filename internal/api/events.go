package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
	"github.com/tidingsdev/tidings/workflows"
)

// eventBody is one event as clients send it (the same shape `tidings events
// send --file` reads). Customer is the Tidings ID or the external ID.
type eventBody struct {
	EventID    string         `json:"event_id"`
	Customer   string         `json:"customer"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties,omitempty"`
	// OccurredAt is RFC 3339, parsed here so a bad one is named.
	OccurredAt *string `json:"occurred_at,omitempty"`
}

// eventResult says what became of one event: Duplicate when its event_id was
// stored before (nothing changed, nothing routed again), Routed when it
// reached its journeys now (false: it waits in the outbox and is delivered
// as soon as the journey engine is reachable).
type eventResult struct {
	EventID    string `json:"event_id"`
	CustomerID string `json:"customer_id"`
	Type       string `json:"type"`
	Duplicate  bool   `json:"duplicate"`
	Routed     bool   `json:"routed"`
}

type batchEvents struct {
	Events []eventBody `json:"events"`
}

type batchEventsResponse struct {
	Recorded   int           `json:"recorded"`
	Duplicates int           `json:"duplicates"`
	Results    []eventResult `json:"results"`
}

// postEvent is POST /v1/events: store one event, then route it.
func (s *Server) postEvent(w http.ResponseWriter, r *http.Request) error {
	var body eventBody
	if err := decode(r, &body); err != nil {
		return err
	}
	in, err := s.eventInput(r.Context(), body, "", map[string]string{})
	if err != nil {
		return err
	}
	res, err := s.recordAndRoute(r.Context(), []store.EventInput{in})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if res[0].Duplicate {
		status = http.StatusOK
	}
	return answer(w, status, res[0])
}

// postEvents is POST /v1/events/batch: up to MaxBatch events, validated all
// before any is stored.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) error {
	var body batchEvents
	if err := decode(r, &body); err != nil {
		return err
	}
	if err := checkBatchSize("events", len(body.Events)); err != nil {
		return err
	}
	var all validate.Errors
	status := http.StatusUnprocessableEntity
	ins := make([]store.EventInput, 0, len(body.Events))
	resolved, err := s.resolveCustomers(r.Context(), body.Events)
	if err != nil {
		return err
	}
	for i, b := range body.Events {
		in, err := s.eventInput(r.Context(), b, fmt.Sprintf("events[%d].", i), resolved)
		if e, ok := err.(*Error); ok && e.Code == codeInvalid {
			all = append(all, fieldErrors(e)...)
			if e.Status == http.StatusBadRequest {
				status = e.Status // one malformed event makes the batch a 400
			}
			continue
		}
		if err != nil {
			return err
		}
		ins = append(ins, in)
	}
	if len(all) > 0 {
		return withStatus(invalid("", all), status)
	}
	res, err := s.recordAndRoute(r.Context(), ins)
	if err != nil {
		return err
	}
	out := batchEventsResponse{Results: res}
	for _, x := range res {
		if x.Duplicate {
			out.Duplicates++
		} else {
			out.Recorded++
		}
	}
	return answer(w, http.StatusOK, out)
}

// resolveCustomers looks up every customer a batch names in one query, so
// a batch of 500 events costs one lookup rather than one per customer. It
// maps each key to a customer ID; keys it does not map (unknown or erased
// customers) are looked up again, one by one, by eventInput, which reports
// them.
func (s *Server) resolveCustomers(ctx context.Context, evs []eventBody) (map[string]string, error) {
	keys := make([]string, 0, len(evs))
	for _, b := range evs {
		if b.Customer != "" && strings.IndexByte(b.Customer, 0) < 0 {
			keys = append(keys, b.Customer)
		}
	}
	return s.store.CustomerIDsByKey(ctx, keys)
}

// eventInput validates one event body and resolves its customer; resolved
// caches customer keys across a batch. Malformed text or an unreadable
// occurred_at is a 400 before anything else is looked at.
func (s *Server) eventInput(ctx context.Context, b eventBody, prefix string, resolved map[string]string) (store.EventInput, error) {
	in := store.EventInput{EventID: b.EventID, CustomerID: b.Customer, Type: b.Type, Properties: b.Properties}
	bad := validate.EventMalformed(&in)
	if b.OccurredAt != nil {
		at, err := time.Parse(time.RFC3339, *b.OccurredAt)
		if err != nil {
			bad.Add("occurred_at", "%q is not an RFC 3339 timestamp (e.g. 2026-05-01T14:30:00Z or 2026-05-01T22:30:00+08:00)", *b.OccurredAt)
		}
		in.OccurredAt = at
	}
	if len(bad) > 0 {
		return in, malformed(prefix, bad)
	}
	var errs validate.Errors
	if es, ok := validate.AsErrors(validate.Event(&in, s.opt.Now())); ok {
		errs = es
	}
	if b.Customer != "" {
		id, ok := resolved[b.Customer]
		if !ok {
			c, err := s.customer(ctx, b.Customer, false)
			if e, isAPI := err.(*Error); isAPI && e.Status == http.StatusNotFound {
				errs.Add("customer", "no customer with ID or external ID %q (create it first with PUT /v1/customers/{external_id})", b.Customer)
			} else if err != nil {
				return in, err
			}
			id = c.ID
			resolved[b.Customer] = id
		}
		in.CustomerID = id
	}
	if len(errs) > 0 {
		return in, invalid(prefix, errs)
	}
	return in, nil
}

// recordAndRoute stores events (idempotent by event_id) and routes the new
// ones. A routing failure is not the client's problem: the events are stored
// and the outbox drainer delivers them later.
func (s *Server) recordAndRoute(ctx context.Context, ins []store.EventInput) ([]eventResult, error) {
	for i, in := range ins {
		ev := workflows.Event{EventID: in.EventID, Type: in.Type, Properties: in.Properties, OccurredAt: in.OccurredAt}
		ins[i].Unrouted = !s.router.Concerns(ctx, in.CustomerID, ev)
	}
	recs, err := s.store.RecordEvents(ctx, ins)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22003" { // numeric_value_out_of_range
		// Each amount is bounded; only a customer's running total can
		// still overflow, and nothing was stored.
		return nil, errorf(http.StatusBadRequest, codeInvalid, "properties.amount",
			"properties.amount: the purchase would take the customer's total spent past 999999999999.99")
	}
	if err != nil {
		return nil, err
	}
	var fresh []int64
	for _, rec := range recs {
		if rec.Created && rec.RoutedAt == nil {
			fresh = append(fresh, rec.ID)
		}
	}
	routed := map[int64]bool{}
	if len(fresh) > 0 {
		ids, err := s.router.Route(ctx, fresh...)
		if err != nil {
			s.log.WarnContext(ctx, "events stored, routing deferred to the outbox", "events", len(fresh), "routed", len(ids), "err", err)
		}
		for _, id := range ids {
			routed[id] = true
		}
	}
	out := make([]eventResult, len(recs))
	for i, rec := range recs {
		out[i] = eventResult{EventID: rec.EventID, CustomerID: rec.CustomerID, Type: rec.Type,
			Duplicate: !rec.Created, Routed: rec.RoutedAt != nil || routed[rec.ID]}
	}
	return out, nil
}
