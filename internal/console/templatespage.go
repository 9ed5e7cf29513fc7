package console

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

type templatesPage struct {
	Templates []mgmt.TemplateInfo
	Channel   string
	Locale    string
	Locales   []string
}

// templatesList is GET /console/templates?channel=&locale=: every template
// with its locales, channels and vars, narrowed to one channel or locale.
func (c *Console) templatesList(w http.ResponseWriter, r *http.Request, v *view) error {
	all, err := c.mgmt.Templates()
	if err != nil {
		return err
	}
	page := templatesPage{Channel: r.URL.Query().Get("channel"), Locale: r.URL.Query().Get("locale")}
	for _, t := range all {
		for _, l := range t.Locales {
			if !slices.Contains(page.Locales, l) {
				page.Locales = append(page.Locales, l)
			}
		}
		if (page.Channel == "" || slices.Contains(t.Channels, page.Channel)) && (page.Locale == "" || slices.Contains(t.Locales, page.Locale)) {
			page.Templates = append(page.Templates, t)
		}
	}
	slices.Sort(page.Locales)
	v.Title, v.Nav = v.T("nav.templates"), "templates"
	c.render(w, r, http.StatusOK, v, "templates", page)
	return nil
}

type templatePage struct {
	Info    mgmt.TemplateInfo
	Ask     mgmt.TemplatePreview
	Preview *mgmt.Preview
	// HTMLURL renders the same preview's HTML part for the frames.
	HTMLURL string
	Errors  map[string]string
	// Topics are the topics a test may be sent under; Test is the test
	// form as last posted, Sent what became of it, TestErrors its mistakes.
	Topics []string
	Test   mgmt.TestSend
	// Seeds is the seed addresses as typed, kept for the form.
	Seeds      string
	Sent       *mgmt.TestSent
	TestErrors map[string]string
}

// templatePreview is GET /console/templates/{name}?locale=&channel=&customer=:
// the template rendered with its sample data or a customer's profile, as
// the send path would, at desktop and mobile widths; for SMS, the segment
// count and encoding.
func (c *Console) templatePreview(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	info, err := c.templateInfo(name)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page := templatePage{Info: info, Ask: mgmt.TemplatePreview{Template: name, Locale: q.Get("locale"), Channel: q.Get("channel"), Customer: q.Get("customer")}}
	return c.showTemplate(w, r, v, http.StatusOK, page)
}

// templateInfo is one template's description, or a 404 page.
func (c *Console) templateInfo(name string) (mgmt.TemplateInfo, error) {
	all, err := c.mgmt.Templates()
	if err != nil {
		return mgmt.TemplateInfo{}, err
	}
	i := slices.IndexFunc(all, func(t mgmt.TemplateInfo) bool { return t.Name == name })
	if i < 0 {
		return mgmt.TemplateInfo{}, &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	return all[i], nil
}

// showTemplate renders a template's page with its preview as page.Ask
// asks for it.
func (c *Console) showTemplate(w http.ResponseWriter, r *http.Request, v *view, status int, page templatePage) error {
	name := page.Info.Name
	page.Topics = slices.Sorted(maps.Keys(c.topics))
	if page.Test.Topic == "" && slices.Contains(page.Topics, "marketing") {
		page.Test.Topic = "marketing"
	}
	v.Title, v.Nav = name, "templates"
	p, err := c.mgmt.PreviewTemplate(r.Context(), page.Ask)
	if errs, ok := formErrors(v, err); ok {
		page.Errors = errs
		c.render(w, r, http.StatusBadRequest, v, "template", page)
		return nil
	}
	if err != nil {
		return err
	}
	page.Preview = &p
	page.HTMLURL = Prefix + "templates/" + url.PathEscape(name) + "/html?" + url.Values{
		"locale": {page.Ask.Locale}, "customer": {page.Ask.Customer},
	}.Encode()
	c.render(w, r, status, v, "template", page)
	return nil
}

// sendTemplateTest is POST /console/templates/{name}/test: the template
// sent as a test through the send path, as `POST /v1/messages/test` does
// (SendTest: marked as a test in the ledger, counted in no report, audited
// as message.test) — to the customer named, or, given seed addresses, to
// each seed instead, rendered with that customer's profile; the page then
// says what became of each.
func (c *Console) sendTemplateTest(w http.ResponseWriter, r *http.Request, v *view) error {
	name := r.PathValue("name")
	info, err := c.templateInfo(name)
	if err != nil {
		return err
	}
	test := mgmt.TestSend{Template: name, Customer: r.PostFormValue("customer"), Channel: r.PostFormValue("channel"), Topic: r.PostFormValue("topic"),
		Seeds: seedList(r.PostFormValue("seeds"))}
	page := templatePage{Info: info, Ask: mgmt.TemplatePreview{Template: name, Channel: test.Channel, Customer: test.Customer}, Test: test,
		Seeds: r.PostFormValue("seeds")}
	sent, err := c.mgmt.SendTest(r.Context(), v.Who, test)
	if errs, ok := formErrors(v, err); ok {
		page.TestErrors, page.Ask.Customer = errs, ""
		return c.showTemplate(w, r, v, http.StatusUnprocessableEntity, page)
	}
	if errors.Is(err, mgmt.ErrNoSender) {
		return &pageError{status: http.StatusServiceUnavailable, key: "error.sender"}
	}
	if err != nil {
		return err
	}
	page.Sent = &sent
	return c.showTemplate(w, r, v, http.StatusOK, page)
}

// TestOutcome says in the reader's language what became of one test
// message: sent to its recipient, or not and why.
func (v *view) TestOutcome(s mgmt.TestSent) string {
	if s.Status == "sent" {
		return v.T("templates.test_sent", v.PII(s.Recipient))
	}
	return v.T("templates.test_not_sent", v.PII(s.Recipient), v.T("msgstatus."+s.Status), v.Reason(s.Reason))
}

// seedList splits the seed addresses as typed: one a line, or separated
// by commas, semicolons or spaces.
func seedList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// templateHTML is GET /console/templates/{name}/html: the preview's HTML
// part alone, for the sandboxed frames.
func (c *Console) templateHTML(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	p, err := c.mgmt.PreviewTemplate(r.Context(), mgmt.TemplatePreview{Template: r.PathValue("name"), Locale: q.Get("locale"), Customer: q.Get("customer")})
	if _, ok := formErrors(v, err); ok {
		return &pageError{status: http.StatusNotFound, key: "error.not_found"}
	}
	if err != nil {
		return err
	}
	writeFramedHTML(w, p.HTML)
	return nil
}

// writeFramedHTML serves an email's HTML for a sandboxed frame of a
// console page: its inline styles apply, nothing loads from elsewhere.
func writeFramedHTML(w http.ResponseWriter, html string) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox")
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(html))
}
