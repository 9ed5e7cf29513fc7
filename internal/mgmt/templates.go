package mgmt

import (
	"context"
	"errors"
	"maps"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

// TemplateInfo is one template as people choose among them: its locales,
// whether it has an SMS body, the vars it reads, and whether it goes to
// staff rather than customers.
type TemplateInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Locales     []string `json:"locales"`
	Channels    []string `json:"channels"`
	Vars        []string `json:"vars"`
	Internal    bool     `json:"internal,omitempty"`
}

// Templates lists every template by name.
func (s *Service) Templates() ([]TemplateInfo, error) {
	set, err := s.templateSet()
	if err != nil {
		return nil, err
	}
	out := []TemplateInfo{}
	for _, name := range set.Names() {
		info, err := set.Info(name)
		if err != nil {
			return nil, err
		}
		t := TemplateInfo{Name: name, Description: info.Description, Locales: info.Locales, Channels: []string{templates.ChannelEmail},
			Vars: info.Vars, Internal: info.Internal}
		if info.SMS {
			t.Channels = append(t.Channels, templates.ChannelSMS)
		}
		if t.Vars == nil {
			t.Vars = []string{}
		}
		out = append(out, t)
	}
	return out, nil
}

// TemplateCheck is what checking the templates found: every template
// parsed and rendered against its sample data in every locale when the
// process loaded them (a broken one stops the process at start, naming its
// file and line).
type TemplateCheck struct {
	OK            bool   `json:"ok"`
	Templates     int    `json:"templates"`
	Variants      int    `json:"variants"`
	WithSMS       int    `json:"with_sms"`
	DefaultLocale string `json:"default_locale"`
}

// CheckTemplates reports on the loaded template set.
func (s *Service) CheckTemplates() (TemplateCheck, error) {
	set, err := s.templateSet()
	if err != nil {
		return TemplateCheck{}, err
	}
	out := TemplateCheck{OK: true, Templates: len(set.Names()), DefaultLocale: set.DefaultLocale()}
	for _, name := range set.Names() {
		info, _ := set.Info(name)
		out.Variants += len(info.Locales)
		if info.SMS {
			out.WithSMS++
		}
	}
	return out, nil
}

// TemplatePreview asks for a template rendered for a customer or its sample
// data, in a locale and on a channel.
type TemplatePreview struct {
	Template string `json:"-"`
	// Customer (Tidings ID or external ID) renders with their profile and,
	// unless Locale is given, in their locale.
	Customer string `json:"customer,omitempty"`
	Locale   string `json:"locale,omitempty"`
	// Channel is email (default) or sms.
	Channel string `json:"channel,omitempty"`
	// Vars are laid over the template's sample vars.
	Vars map[string]any `json:"vars,omitempty"`
}

// Preview is a rendered template; TooLong is set when an SMS is over the
// segment limit (it is rendered anyway, so the copy can be fixed).
type Preview struct {
	Template string `json:"template"`
	// Locale is the variant rendered, after fallback.
	Locale   string `json:"locale"`
	Channel  string `json:"channel"`
	Subject  string `json:"subject,omitempty"`
	HTML     string `json:"html,omitempty"`
	Text     string `json:"text,omitempty"`
	SMS      string `json:"sms,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Segments int    `json:"segments,omitempty"`
	TooLong  bool   `json:"too_long,omitempty"`
}

func preview(r templates.Rendered, channel string, tooLong bool) Preview {
	return Preview{Template: r.Template, Locale: r.Locale, Channel: channel, Subject: r.Subject, HTML: r.HTML, Text: r.Text,
		SMS: r.SMS, Encoding: r.Encoding, Segments: r.Segments, TooLong: tooLong}
}

// PreviewTemplate renders a template with its sample data, or with a real
// customer's profile, as the send path would (links are samples). An
// unknown template, customer or channel is validate.Errors naming the field.
func (s *Service) PreviewTemplate(ctx context.Context, in TemplatePreview) (Preview, error) {
	set, err := s.templateSet()
	if err != nil {
		return Preview{}, err
	}
	if _, err := set.Info(in.Template); err != nil {
		return Preview{}, fieldError("template", "%q: unknown template; see GET /v1/templates", in.Template)
	}
	if in.Channel == "" {
		in.Channel = templates.ChannelEmail
	}
	if in.Channel != templates.ChannelEmail && in.Channel != templates.ChannelSMS {
		return Preview{}, fieldError("channel", "%q: expected email or sms", in.Channel)
	}
	var cust *store.Customer
	if in.Customer != "" {
		c, err := s.FindCustomer(ctx, in.Customer, false)
		if errors.Is(err, store.ErrNotFound) {
			return Preview{}, fieldError("customer", "%q: no such customer", in.Customer)
		}
		if err != nil {
			return Preview{}, err
		}
		cust = &c
		if in.Locale == "" {
			in.Locale = c.Locale
		}
	}
	if in.Locale == "" {
		in.Locale = set.DefaultLocale()
	}
	d, err := set.Sample(in.Template, in.Locale)
	if err != nil {
		return Preview{}, fieldError("locale", "%v", err)
	}
	if cust != nil {
		d.Customer = TemplateCustomer(*cust)
	}
	if d.Vars == nil {
		d.Vars = map[string]any{}
	}
	maps.Copy(d.Vars, in.Vars)
	d.Company.Name, d.Company.PostalAddress = s.company.Name, s.company.PostalAddress
	r, err := set.Render(in.Template, in.Locale, in.Channel, d)
	switch {
	case errors.Is(err, templates.ErrNoSMSVariant):
		return Preview{}, fieldError("channel", "template %s has no SMS body", in.Template)
	case errors.Is(err, templates.ErrTooLong):
		return preview(r, in.Channel, true), nil
	case err != nil:
		return Preview{}, fieldError("vars", "%v", err)
	}
	return preview(r, in.Channel, false), nil
}

// TemplateCustomer is the part of a profile templates may show.
func TemplateCustomer(c store.Customer) templates.Customer {
	return templates.Customer{
		ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Locale: c.Locale,
		TimeZone: c.TimeZone, City: c.City, Country: c.Country,
		OrdersCount: c.OrdersCount, TotalSpent: c.TotalSpent,
	}
}
