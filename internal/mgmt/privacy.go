package mgmt

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/store"
)

// CustomerStore finds, erases and exports customers; *store.Store
// implements it.
type CustomerStore interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	CustomerByExternalID(ctx context.Context, externalID string) (store.Customer, error)
	EraseCustomer(ctx context.Context, id string) error
	ExportCustomer(ctx context.Context, id string) (store.CustomerExport, error)
}

// FindCustomer finds a customer by Tidings ID or external ID. An erased
// customer's tombstone is found only with allowErased; otherwise, like an
// unknown key, it is store.ErrNotFound.
func (s *Service) FindCustomer(ctx context.Context, key string, allowErased bool) (store.Customer, error) {
	c, err := s.lookup(ctx, key)
	if err == nil && store.IsErased(c) && !allowErased {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("customer %q: %w", key, err)
	}
	return c, nil
}

func (s *Service) lookup(ctx context.Context, key string) (store.Customer, error) {
	if _, err := uuid.Parse(key); err == nil {
		c, err := s.store.Customer(ctx, key)
		if !errors.Is(err, store.ErrNotFound) {
			return c, err
		}
	}
	return s.store.CustomerByExternalID(ctx, key)
}

// ErrJourneysNotCancelled means a customer's personal data is erased but
// their running journeys could not be cancelled (the journey engine is
// unreachable); erasing again retries the cancellation.
var ErrJourneysNotCancelled = errors.New("personal data erased, but running journeys could not be cancelled (journey engine unreachable)")

// Erased is what an erasure did.
type Erased struct {
	ID                string `json:"id"`
	Erased            bool   `json:"erased"`
	JourneysCancelled bool   `json:"journeys_cancelled"`
}

// EraseCustomer erases a customer's personal data (found by Tidings ID or
// external ID) and cancels their running journeys. The request is audited
// before anything is touched, so no erasure goes unrecorded. The personal
// data goes first, so nothing can be sent even if the journey engine is
// down; erasing an erased customer again (by Tidings ID) repeats the
// cancellation, so a caller can retry after ErrJourneysNotCancelled.
func (s *Service) EraseCustomer(ctx context.Context, p access.Principal, key string) (Erased, error) {
	c, err := s.FindCustomer(ctx, key, true)
	if err != nil {
		return Erased{}, err
	}
	already := store.IsErased(c)
	if err := s.audit(ctx, p, "customer.erase", "customer:"+c.ID, map[string]any{"already_erased": already}); err != nil {
		return Erased{}, err
	}
	if !already {
		if err := s.store.EraseCustomer(ctx, c.ID); err != nil {
			return Erased{}, err
		}
		s.log.InfoContext(ctx, "customer erased", "customer_id", c.ID, "actor", p.String())
	}
	if err := s.journeys.CancelJourneys(ctx, c.ID); err != nil {
		s.log.WarnContext(ctx, "erasure: cancelling journeys failed", "customer_id", c.ID, "err", err)
		return Erased{ID: c.ID, Erased: true}, fmt.Errorf("customer %s: %w", c.ID, ErrJourneysNotCancelled)
	}
	return Erased{ID: c.ID, Erased: true, JourneysCancelled: true}, nil
}

// ExportCustomer gathers everything held on a customer (found by Tidings ID
// or external ID) for a data portability request. The export is audited
// before the data is read, so none leaves unrecorded.
func (s *Service) ExportCustomer(ctx context.Context, p access.Principal, key string) (store.CustomerExport, error) {
	c, err := s.FindCustomer(ctx, key, false)
	if err != nil {
		return store.CustomerExport{}, err
	}
	if err := s.audit(ctx, p, "customer.export", "customer:"+c.ID, nil); err != nil {
		return store.CustomerExport{}, err
	}
	return s.store.ExportCustomer(ctx, c.ID)
}
