package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

type customersPage struct {
	Query  mgmt.CustomerQuery
	Result *mgmt.CustomerPage
	Errors map[string]string
}

// customers is GET /console/customers?q=&tag=&after=: the search box takes
// an email, a phone number, an external ID or the start of a name, as
// GET /v1/customers does; results page by customer ID.
func (c *Console) customers(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	page := customersPage{Query: mgmt.CustomerQuery{Q: q.Get("q"), Tag: q.Get("tag"), After: q.Get("after"), Limit: 50}}
	v.Title, v.Nav = v.T("nav.customers"), "customers"
	if page.Query.Q == "" && page.Query.Tag == "" && page.Query.After == "" {
		c.render(w, r, http.StatusOK, v, "customers", page)
		return nil
	}
	res, err := c.mgmt.SearchCustomers(r.Context(), page.Query)
	if errs, ok := formErrors(v, err); ok {
		page.Errors = errs
		c.render(w, r, http.StatusBadRequest, v, "customers", page)
		return nil
	}
	if err != nil {
		return err
	}
	if res.Next != "" {
		res.Next = pageLink(r, "after", res.Next)
	}
	page.Result = &res
	c.render(w, r, http.StatusOK, v, "customers", page)
	return nil
}

type customerPage struct {
	mgmt.Timeline
	mgmt.CustomerProfile
	Attributes []attribute
}

type attribute struct{ Key, Value string }

// customer is GET /console/customers/{key}?after=: the profile, scores,
// consents with their history, and one page of the timeline, newest first.
func (c *Console) customer(w http.ResponseWriter, r *http.Request, v *view) error {
	tl, err := c.mgmt.CustomerTimeline(r.Context(), r.PathValue("key"), r.URL.Query().Get("after"), 100)
	if _, ok := formErrors(v, err); ok {
		return &pageError{status: http.StatusBadRequest, key: "error.cursor"}
	}
	if err != nil {
		return err
	}
	prof, err := c.mgmt.CustomerProfile(r.Context(), tl.Customer.ID)
	if err != nil {
		return err
	}
	if tl.Next != "" {
		tl.Next = pageLink(r, "after", tl.Next)
	}
	page := customerPage{Timeline: tl, CustomerProfile: prof}
	for _, k := range sortedKeys(tl.Customer.Attributes) {
		b, _ := json.Marshal(tl.Customer.Attributes[k])
		page.Attributes = append(page.Attributes, attribute{k, strings.Trim(string(b), `"`)})
	}
	v.Title, v.Nav = displayName(tl.Customer), "customers"
	c.render(w, r, http.StatusOK, v, "customer", page)
	return nil
}

// eraseCustomer is POST /console/customers/{key}/erase (admin): the form
// asks to type the external ID, so a slip of the mouse erases nobody.
func (c *Console) eraseCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	cust, err := c.mgmt.FindCustomer(r.Context(), r.PathValue("key"), false)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != cust.ExternalID {
		return &pageError{status: http.StatusBadRequest, key: "error.erase_confirm", args: []any{cust.ExternalID}}
	}
	if _, err := c.mgmt.EraseCustomer(r.Context(), v.Who, cust.ID); err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"customers?done=erased", http.StatusSeeOther)
	return nil
}

// exportCustomer is POST /console/customers/{key}/export (admin):
// everything stored about the customer as a JSON download, audited as the
// API's export is.
func (c *Console) exportCustomer(w http.ResponseWriter, r *http.Request, v *view) error {
	exp, err := c.mgmt.ExportCustomer(r.Context(), v.Who, r.PathValue("key"))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customer-%s.json"`, exp.Customer.ID))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
	return nil
}

// displayName is how a customer is titled: their name as their language
// writes it (林怡君, Ada Lovelace), else their external ID.
func displayName(c store.Customer) string {
	n := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if strings.HasPrefix(c.Locale, "zh") || strings.HasPrefix(c.Locale, "ja") || strings.HasPrefix(c.Locale, "ko") {
		n = strings.TrimSpace(c.LastName + c.FirstName)
	}
	if n != "" {
		return n
	}
	return c.ExternalID
}

// Name is a customer's name as displayName writes it.
func (v *view) Name(c store.Customer) string { return displayName(c) }

// Detail reads one field of a timeline item's detail as text.
func (v *view) Detail(d map[string]any, key string) string {
	x, ok := d[key]
	if !ok || x == nil {
		return ""
	}
	if s, ok := x.(string); ok {
		return s
	}
	b, _ := json.Marshal(x)
	return string(b)
}
