package mgmt

import (
	"context"
	"errors"
	"regexp"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// CustomerSearchStore finds customers and reads their history;
// *store.Store implements it.
type CustomerSearchStore interface {
	SearchCustomers(ctx context.Context, q store.CustomerSearch) ([]store.Customer, string, error)
	CustomerTimeline(ctx context.Context, customerID, after string, limit int) ([]store.TimelineItem, string, error)
}

// CustomerQuery is a customer search as people type it. Q is one box that
// takes anything: an email address, a phone number, an external ID or the
// start of a name. The other fields narrow by one thing each; every field
// set must match.
type CustomerQuery struct {
	Q          string
	Email      string
	Phone      string
	ExternalID string
	Name       string
	Tag        string
	// Region reads phone numbers written without a country code.
	Region string
	// After is the Next of the previous page; Limit at most 500 (default 50).
	After string
	Limit int
}

// CustomerPage is one page of a search; Next is the After of the next page,
// "" on the last.
type CustomerPage struct {
	Customers []store.Customer `json:"customers"`
	Next      string           `json:"next,omitempty"`
}

// looksLikePhone is what a phone number typed into a search box looks like.
var looksLikePhone = regexp.MustCompile(`^\+?[0-9(][0-9 ()./-]{5,}$`)

// SearchCustomers finds customers, keyset-paginated in ID order. A bad
// phone number or cursor is validate.Errors naming the field.
func (s *Service) SearchCustomers(ctx context.Context, q CustomerQuery) (CustomerPage, error) {
	if q.Limit < 0 || q.Limit > 500 {
		return CustomerPage{}, fieldError("limit", "%d: want 1 to 500", q.Limit)
	}
	sq := store.CustomerSearch{ExternalID: strings.TrimSpace(q.ExternalID), Name: q.Name, Tag: strings.TrimSpace(q.Tag), After: q.After, Limit: q.Limit}
	var errs validate.Errors
	email, phone, field := strings.TrimSpace(q.Email), strings.TrimSpace(q.Phone), "phone"
	switch box := strings.TrimSpace(q.Q); {
	case box == "":
	case strings.Contains(box, "@"):
		email = box
	case looksLikePhone.MatchString(box):
		phone, field = box, "q"
	default:
		// An exact external ID wins; otherwise the start of a name.
		if c, err := s.store.CustomerByExternalID(ctx, box); err == nil && !store.IsErased(c) && sq.ExternalID == "" {
			sq.ExternalID = box
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return CustomerPage{}, err
		} else if sq.Name == "" {
			sq.Name = box
		}
	}
	if email != "" {
		sq.Email = email
	}
	if phone != "" {
		p, err := validate.Phone(phone, q.Region)
		if err != nil {
			errs.Add(field, "%v", err)
		}
		sq.Phone = p
	}
	if err := errs.Err(); err != nil {
		return CustomerPage{}, err
	}
	cs, next, err := s.store.SearchCustomers(ctx, sq)
	if err != nil {
		return CustomerPage{}, cursorErr(err, "search")
	}
	return CustomerPage{Customers: nonNil(cs), Next: next}, nil
}

// Timeline is a customer with one page of their history, newest first.
type Timeline struct {
	Customer store.Customer       `json:"customer"`
	Items    []store.TimelineItem `json:"items"`
	// Next is the after= of the next page; "" on the last.
	Next string `json:"next,omitempty"`
}

// CustomerTimeline returns a customer (by Tidings ID or external ID) and
// their history in one call: events, messages with status and reason,
// journey runs and campaign entries with outcomes, conversions, consent
// changes and survey answers, newest first (limit at most 500, default 100).
func (s *Service) CustomerTimeline(ctx context.Context, key, after string, limit int) (Timeline, error) {
	if limit < 0 || limit > 500 {
		return Timeline{}, fieldError("limit", "%d: want 1 to 500", limit)
	}
	c, err := s.FindCustomer(ctx, key, false)
	if err != nil {
		return Timeline{}, err
	}
	items, next, err := s.store.CustomerTimeline(ctx, c.ID, after, limit)
	if err != nil {
		return Timeline{}, cursorErr(err, "timeline")
	}
	return Timeline{Customer: c, Items: nonNil(items), Next: next}, nil
}

// cursorErr makes an after= that no page of this listing handed out a
// field error; other errors pass.
func cursorErr(err error, listing string) error {
	if errors.Is(err, store.ErrBadCursor) {
		return fieldError("after", "not a cursor this %s handed out", listing)
	}
	return err
}

// nonNil makes a nil list encode as [], so clients can range over it.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
