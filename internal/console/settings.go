package console

import (
	"net/http"
	"strconv"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

type usersPage struct {
	Users []store.User
	Roles []access.Role
	// Created is the user just added and their generated password, shown
	// this once.
	Created *mgmt.CreatedUser
	// Form is what the admin typed, shown again with Errors beside it.
	Form   mgmt.NewUser
	Errors map[string]string
	Notice string
}

// users is GET /console/settings/users.
func (c *Console) users(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.showUsers(w, r, v, http.StatusOK, usersPage{Notice: noticeKey(r)})
}

func (c *Console) showUsers(w http.ResponseWriter, r *http.Request, v *view, status int, page usersPage) error {
	us, err := c.mgmt.Users(r.Context())
	if err != nil {
		return err
	}
	page.Users, page.Roles = us, access.Roles()
	v.Title, v.Nav = v.T("settings.users"), "settings"
	c.render(w, r, status, v, "users", page)
	return nil
}

// createUser is POST /console/settings/users; the generated password is
// shown once, on the page the post returns.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, v *view) error {
	in := mgmt.NewUser{Email: r.PostFormValue("email"), Role: r.PostFormValue("role")}
	u, err := c.mgmt.CreateUser(r.Context(), v.Who, in)
	if errs, ok := formErrors(v, err); ok {
		return c.showUsers(w, r, v, http.StatusBadRequest, usersPage{Form: in, Errors: errs})
	}
	if err != nil {
		return err
	}
	return c.showUsers(w, r, v, http.StatusCreated, usersPage{Created: &u})
}

// changeUser is POST /console/settings/users/{id}: a new role, or
// disabling and enabling the account.
func (c *Console) changeUser(w http.ResponseWriter, r *http.Request, v *view) error {
	var ch mgmt.UserChange
	if role := r.PostFormValue("role"); role != "" {
		ch.Role = &role
	}
	if d := r.PostFormValue("disabled"); d != "" {
		disabled := d == "true"
		ch.Disabled = &disabled
	}
	_, err := c.mgmt.ChangeUser(r.Context(), v.Who, r.PathValue("id"), ch)
	if errs, ok := formErrors(v, err); ok {
		return c.showUsers(w, r, v, http.StatusBadRequest, usersPage{Errors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"settings/users?done=saved", http.StatusSeeOther)
	return nil
}

type auditPage struct {
	Entries []store.AuditEntry
	// Next is the link to the following (older) page, "" on the last.
	Next   string
	Filter store.AuditQuery
}

// auditLog is GET /console/settings/audit, newest first, keyset-paginated
// by entry ID (?before=).
func (c *Console) auditLog(w http.ResponseWriter, r *http.Request, v *view) error {
	const per = 50
	q := store.AuditQuery{Actor: r.URL.Query().Get("actor"), Action: r.URL.Query().Get("action"), Limit: per + 1}
	if b := r.URL.Query().Get("before"); b != "" {
		id, err := strconv.ParseInt(b, 10, 64)
		if err != nil || id <= 0 {
			return &pageError{status: http.StatusBadRequest, key: "error.cursor"}
		}
		q.Before = id
	}
	es, err := c.mgmt.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	page := auditPage{Entries: es, Filter: q}
	if len(es) > per {
		page.Entries = es[:per]
		page.Next = pageLink(r, "before", strconv.FormatInt(es[per-1].ID, 10))
	}
	v.Title, v.Nav = v.T("settings.audit"), "settings"
	c.render(w, r, http.StatusOK, v, "audit", page)
	return nil
}

// formErrors turns a management function's field errors into messages per
// form field.
func formErrors(v *view, err error) (map[string]string, bool) {
	errs, ok := validate.AsErrors(err)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for _, e := range errs {
		out[e.Field] = v.Message(e.Format, e.Args, e.Message)
	}
	return out, true
}

// pageLink is the current page's URL with one query parameter replaced
// (the keyset cursor of the next page).
func pageLink(r *http.Request, key, value string) string {
	q := r.URL.Query()
	q.Set(key, value)
	return r.URL.Path + "?" + q.Encode()
}

// noticeKey is the catalog key of the confirmation a redirect after a
// successful post asks for (?done=saved), "" for none.
func noticeKey(r *http.Request) string {
	switch d := r.URL.Query().Get("done"); d {
	case "saved", "applied", "pause", "resume", "archive", "erased", "deleted",
		"schedule_pause", "schedule_unpause", "schedule_trigger":
		return "notice." + d
	}
	return ""
}

type keysPage struct {
	Keys    []store.APIKey
	Roles   []access.Role
	Created *mgmt.CreatedKey
	Form    mgmt.NewKey
	Errors  map[string]string
}

// keys is GET /console/settings/keys: every API key with its role, last
// use and state.
func (c *Console) keys(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.showKeys(w, r, v, http.StatusOK, keysPage{})
}

func (c *Console) showKeys(w http.ResponseWriter, r *http.Request, v *view, status int, page keysPage) error {
	ks, err := c.mgmt.Keys(r.Context())
	if err != nil {
		return err
	}
	page.Keys, page.Roles = ks, access.Roles()
	v.Title, v.Nav = v.T("settings.keys"), "settings"
	c.render(w, r, status, v, "keys", page)
	return nil
}

// createKey is POST /console/settings/keys; the secret is shown once.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request, v *view) error {
	in := mgmt.NewKey{Name: r.PostFormValue("name"), Role: r.PostFormValue("role")}
	k, err := c.mgmt.CreateKey(r.Context(), v.Who, in)
	if errs, ok := formErrors(v, err); ok {
		return c.showKeys(w, r, v, http.StatusBadRequest, keysPage{Form: in, Errors: errs})
	}
	if err != nil {
		return err
	}
	return c.showKeys(w, r, v, http.StatusCreated, keysPage{Created: &k})
}

// changeKey is POST /console/settings/keys/{id}: a new role (action
// scope) or revocation (action revoke).
func (c *Console) changeKey(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	var err error
	switch r.PostFormValue("action") {
	case "scope":
		_, err = c.mgmt.ScopeKey(r.Context(), v.Who, id, r.PostFormValue("role"))
	case "revoke":
		_, err = c.mgmt.RevokeKey(r.Context(), v.Who, id)
	default:
		return &pageError{status: http.StatusBadRequest, key: "error.action"}
	}
	if errs, ok := formErrors(v, err); ok {
		return c.showKeys(w, r, v, http.StatusBadRequest, keysPage{Errors: errs})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"settings/keys?done=saved", http.StatusSeeOther)
	return nil
}

type policyPage struct {
	Topics     []topicRow
	QuietHours string
	PolicyFile string
}

type topicRow struct {
	Name string
	delivery.Topic
	Channels []string
}

// policy is GET /console/settings/policy: the message topics with their
// consent rules and caps, and the quiet hours, as the send path applies
// them (read-only: they come from TIDINGS_POLICY_FILE and the settings).
func (c *Console) policy(w http.ResponseWriter, r *http.Request, v *view) error {
	page := policyPage{QuietHours: c.opt.QuietHours, PolicyFile: c.opt.PolicyFile}
	for _, name := range sortedKeys(c.topics) {
		page.Topics = append(page.Topics, topicRow{Name: name, Topic: c.topics[name], Channels: sortedKeys(c.topics[name].Consent)})
	}
	v.Title, v.Nav = v.T("settings.policy"), "settings"
	c.render(w, r, http.StatusOK, v, "policy", page)
	return nil
}
