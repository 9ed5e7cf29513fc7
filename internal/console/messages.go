package console

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
)

type messagesPage struct {
	Filter   store.MessageFilter
	Customer string
	Since    string
	Messages []store.LoggedMessage
	Next     string
	Errors   map[string]string
}

// messages is GET /console/messages: the ledger, newest first, filtered as
// GET /v1/messages filters it, keyset-paginated (?after=).
func (c *Console) messages(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	page := messagesPage{Customer: q.Get("customer"), Since: q.Get("since"), Filter: store.MessageFilter{
		Campaign: q.Get("campaign"), Journey: q.Get("journey"), Template: q.Get("template"), Channel: q.Get("channel"),
		Status: q.Get("status"), Reason: q.Get("reason"), Delivery: q.Get("delivery"), After: q.Get("after"), Limit: 50,
	}}
	v.Title, v.Nav = v.T("nav.messages"), "messages"
	bad := func(field, key string) error {
		page.Errors = map[string]string{field: v.T(key)}
		c.render(w, r, http.StatusBadRequest, v, "messages", page)
		return nil
	}
	if page.Since != "" {
		// The date picker gives a day in the reader's time zone.
		t, err := time.ParseInLocation("2006-01-02", page.Since, v.zone)
		if err != nil {
			return bad("since", "messages.bad_since")
		}
		page.Filter.Since = t
	}
	if page.Customer != "" {
		cust, err := c.mgmt.FindCustomer(r.Context(), page.Customer, true)
		if errors.Is(err, store.ErrNotFound) {
			return bad("customer", "messages.no_customer")
		}
		if err != nil {
			return err
		}
		page.Filter.CustomerID = cust.ID
	}
	ms, next, err := c.store.ListMessages(r.Context(), page.Filter)
	if errors.Is(err, store.ErrBadCursor) {
		return &pageError{status: http.StatusBadRequest, key: "error.cursor"}
	}
	if err != nil {
		return err
	}
	page.Messages = ms
	if next != "" {
		page.Next = pageLink(r, "after", next)
	}
	c.render(w, r, http.StatusOK, v, "messages", page)
	return nil
}

type messagePage struct {
	store.MessageRecord
	Headers []attribute
}

// message is GET /console/messages/{id}: the ledger row, what went out
// (headers, parts), attempts, clicks, opens and what came back.
func (c *Console) message(w http.ResponseWriter, r *http.Request, v *view) error {
	rec, err := c.messageRecord(r)
	if err != nil {
		return err
	}
	page := messagePage{MessageRecord: rec}
	if rec.Content != nil {
		for _, k := range sortedKeys(rec.Content.Headers) {
			page.Headers = append(page.Headers, attribute{k, rec.Content.Headers[k]})
		}
	}
	v.Title, v.Nav = v.T("message.title", rec.Message.Template), "messages"
	c.render(w, r, http.StatusOK, v, "message", page)
	return nil
}

// messageHTML is GET /console/messages/{id}/html: the HTML part as it went
// out, shown in a sandboxed frame of the message page. Its own policy lets
// the email's inline styles apply and loads nothing from elsewhere.
func (c *Console) messageHTML(w http.ResponseWriter, r *http.Request, v *view) error {
	rec, err := c.messageRecord(r)
	if err != nil {
		return err
	}
	if rec.Content == nil || rec.Content.HTML == "" {
		return &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	writeFramedHTML(w, rec.Content.HTML)
	return nil
}

func (c *Console) messageRecord(r *http.Request) (store.MessageRecord, error) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		return store.MessageRecord{}, &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	return c.store.MessageRecordByID(r.Context(), id)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
