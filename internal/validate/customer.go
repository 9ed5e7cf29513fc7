package validate

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// maxName bounds names, places and tags, which are indexed and shown in
// one line: far longer than any real one, well inside what an index holds.
const maxName = 200

// CustomerOptions tune how lenient customer validation is.
type CustomerOptions struct {
	// DefaultRegion parses phone numbers written without a country code.
	DefaultRegion string
	// Now bounds birthdays (none in the future); zero means time.Now.
	Now time.Time
}

// Customer checks and normalises a profile in place and returns every field
// problem at once; malformed text (CustomerMalformed) is reported alone, before
// the values are looked at.
func Customer(c *store.CustomerInput, opt CustomerOptions) error {
	if errs := CustomerMalformed(c); len(errs) > 0 {
		return errs
	}
	var errs Errors
	c.ExternalID = strings.TrimSpace(c.ExternalID)
	if c.ExternalID == "" {
		errs.Add("external_id", "is required")
	} else if len(c.ExternalID) > 200 {
		errs.Add("external_id", "is longer than 200 characters")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"first_name", c.FirstName}, {"last_name", c.LastName}, {"city", c.City}, {"region", c.Region}} {
		if f.v != nil && utf8.RuneCountInString(*f.v) > maxName {
			errs.Add(f.name, "is longer than %d characters", maxName)
		}
	}
	if c.Email != nil && *c.Email != "" {
		if v, err := Email(*c.Email); err != nil {
			errs.Add("email", "%v", err)
		} else {
			c.Email = &v
		}
	}
	if c.Phone != nil && *c.Phone != "" {
		if v, err := Phone(*c.Phone, opt.DefaultRegion); err != nil {
			errs.Add("phone", "%v", err)
		} else {
			c.Phone = &v
		}
	}
	if c.Locale != nil {
		if v, err := Locale(*c.Locale); err != nil {
			errs.Add("locale", "%v", err)
		} else {
			c.Locale = &v
		}
	}
	if c.TimeZone != nil {
		if v, err := TimeZone(*c.TimeZone); err != nil {
			errs.Add("time_zone", "%v", err)
		} else {
			c.TimeZone = &v
		}
	}
	if c.Birthday != nil && *c.Birthday != "" {
		now := opt.Now
		if now.IsZero() {
			now = time.Now()
		}
		d, err := Date(*c.Birthday)
		switch {
		case err != nil:
			errs.Add("birthday", "%v", err)
		case d.After(now):
			errs.Add("birthday", "%s is in the future", *c.Birthday)
		case d.Year() < 1900:
			errs.Add("birthday", "%s is before 1900", *c.Birthday)
		default:
			v := d.Format(time.DateOnly)
			c.Birthday = &v
		}
	} else if c.Birthday != nil {
		c.Birthday = nil
	}
	if c.Gender != nil && *c.Gender != "" {
		if v, err := Gender(*c.Gender); err != nil {
			errs.Add("gender", "%v", err)
		} else {
			c.Gender = &v
		}
	}
	if c.Country != nil && *c.Country != "" {
		v := strings.ToUpper(strings.TrimSpace(*c.Country))
		if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
			errs.Add("country", "%q is not an ISO 3166 two-letter country code", *c.Country)
		} else {
			c.Country = &v
		}
	}
	for i, t := range c.Tags {
		t = strings.TrimSpace(t)
		if t == "" {
			errs.Add("tags", "tag %d is empty", i+1)
		} else if utf8.RuneCountInString(t) > maxName {
			errs.Add("tags", "tag %d is longer than %d characters", i+1, maxName)
		}
		c.Tags[i] = t
	}
	return errs.Err()
}

// Event checks an event before it is stored; malformed text (EventMalformed) is
// reported alone.
func Event(e *store.EventInput, now time.Time) error {
	if errs := EventMalformed(e); len(errs) > 0 {
		return errs
	}
	var errs Errors
	e.EventID = strings.TrimSpace(e.EventID)
	e.Type = strings.TrimSpace(e.Type)
	if e.EventID == "" {
		errs.Add("event_id", "is required (it makes sending the same event twice safe)")
	} else if len(e.EventID) > 200 {
		errs.Add("event_id", "is longer than 200 characters")
	}
	if e.CustomerID == "" {
		errs.Add("customer", "is required")
	}
	if e.Type == "" {
		errs.Add("type", "is required")
	} else if err := spec.CheckEventType(e.Type); err != nil {
		errs.Add("type", "%v", err)
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	} else if e.OccurredAt.After(now.Add(24 * time.Hour)) {
		errs.Add("occurred_at", "%s is more than a day in the future", e.OccurredAt.Format(time.RFC3339))
	}
	if e.Type == store.PurchaseEvent {
		switch v := e.Properties["amount"].(type) {
		case nil:
		case float64:
			if v < 0 {
				errs.Add("properties.amount", "must not be negative")
			}
		default:
			errs.Add("properties.amount", "must be a number, got %T", v)
		}
	}
	return errs.Err()
}
