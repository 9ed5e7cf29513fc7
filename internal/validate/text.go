package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
)

// Malformed input is not a wrong value but one that cannot be stored or
// carried at all: PostgreSQL holds no NUL byte, a line break or other
// control character in a name ends up in mail headers where no receiver can
// use it, and an amount past what a total holds overflows it. It is checked
// before anything else, and the API answers it 400.

// CustomerMalformed reports NUL bytes in any text of a profile and control
// characters in its one-line fields (IDs, names, places, tags).
func CustomerMalformed(c *store.CustomerInput) Errors {
	var errs Errors
	line := func(field string, s *string) {
		if s != nil {
			oneLine(&errs, field, *s)
		}
	}
	oneLine(&errs, "external_id", c.ExternalID)
	line("first_name", c.FirstName)
	line("last_name", c.LastName)
	line("city", c.City)
	line("region", c.Region)
	for _, f := range []struct {
		name string
		v    *string
	}{{"email", c.Email}, {"phone", c.Phone}, {"locale", c.Locale}, {"time_zone", c.TimeZone},
		{"birthday", c.Birthday}, {"country", c.Country}, {"gender", c.Gender}} {
		if f.v != nil {
			noNUL(&errs, f.name, *f.v)
		}
	}
	for i, t := range c.Tags {
		oneLine(&errs, fmt.Sprintf("tags[%d]", i), t)
	}
	jsonText(&errs, "attributes", c.Attributes)
	return errs
}

// MaxAmount bounds one purchase: customers.total_spent holds 12 digits
// before the point, and no single order comes near this.
const MaxAmount = 1e10

// EventMalformed reports NUL bytes in an event's ID, customer key, type and
// properties, control characters in its ID, and a purchase amount too large
// to add up.
func EventMalformed(e *store.EventInput) Errors {
	var errs Errors
	oneLine(&errs, "event_id", e.EventID)
	noNUL(&errs, "customer", e.CustomerID)
	noNUL(&errs, "type", e.Type)
	jsonText(&errs, "properties", e.Properties)
	if v, ok := e.Properties["amount"].(float64); ok && strings.TrimSpace(e.Type) == store.PurchaseEvent && v >= MaxAmount {
		errs.Add("properties.amount", "%g is too large: one purchase is less than %.0f", v, float64(MaxAmount))
	}
	return errs
}

// ValuesMalformed reports NUL bytes in the keys and strings of a JSON value
// (a message's template variables, say), naming each by its path.
func ValuesMalformed(path string, v any) Errors {
	var errs Errors
	jsonText(&errs, path, v)
	return errs
}

// Malformed reports a NUL byte in one free-text field (a consent source, say).
func Malformed(field, s string) Errors {
	var errs Errors
	noNUL(&errs, field, s)
	return errs
}

func noNUL(errs *Errors, field, s string) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		errs.Add(field, "contains a NUL byte (U+0000) at byte %d; text cannot hold it", i)
	}
}

// oneLine refuses the C0 and C1 control characters (line breaks, tabs, NUL,
// escape, DEL ...) in a value that is one line of text.
func oneLine(errs *Errors, field, s string) {
	for i, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			errs.Add(field, "contains the control character %U at byte %d; it must be one line of printable text", r, i)
			return
		}
	}
}

// jsonText walks a JSON value and names the first NUL in each key or string
// by its path ("attributes.notes[2]").
func jsonText(errs *Errors, path string, v any) {
	switch x := v.(type) {
	case string:
		noNUL(errs, path, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				errs.Add(path, "has a key with a NUL byte (U+0000); keys cannot hold it")
				continue
			}
			jsonText(errs, path+"."+k, x[k])
		}
	case []any:
		for i, e := range x {
			jsonText(errs, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}
