package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
)

// aliases maps the headers people actually use to profile fields.
var aliases = map[string]string{
	"external_id": "external_id", "id": "external_id", "customer_id": "external_id", "externalid": "external_id",
	"email": "email", "e-mail": "email", "email_address": "email", "email address": "email", "mail": "email",
	"phone": "phone", "mobile": "phone", "phone_number": "phone", "phone number": "phone", "mobile number": "phone",
	"first_name": "first_name", "firstname": "first_name", "first name": "first_name", "given_name": "first_name", "given name": "first_name",
	"last_name": "last_name", "lastname": "last_name", "last name": "last_name", "surname": "last_name", "family_name": "last_name", "family name": "last_name",
	"locale": "locale", "language": "locale", "lang": "locale",
	"time_zone": "time_zone", "timezone": "time_zone", "tz": "time_zone", "time zone": "time_zone",
	"birthday": "birthday", "birthdate": "birthday", "birth_date": "birthday", "date_of_birth": "birthday", "dob": "birthday",
	"country": "country", "region": "region", "state": "region", "province": "region", "city": "city",
	"gender": "gender", "tags": "tags",
}

// csvReader maps each CSV record onto a CustomerInput through the header.
type csvReader struct {
	r      *csv.Reader
	fields []string // per column: field name, "attributes.x", or "-"
}

func newCSVReader(r io.Reader, mapping map[string]string) (*csvReader, error) {
	cr := csv.NewReader(skipBOM(r))
	cr.FieldsPerRecord = -1 // row width is checked per row, with its line
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("line 1: the file is empty; expected a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: read header: %w", err)
	}
	extra := map[string]string{}
	for k, v := range mapping {
		extra[strings.ToLower(strings.TrimSpace(k))] = v
	}
	fields := make([]string, len(header))
	seen := map[string]int{}
	var unknown []string
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		f, ok := extra[key]
		if !ok {
			f, ok = aliases[key]
		}
		if !ok && strings.HasPrefix(key, "attributes.") {
			f, ok = key, true
		}
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q (column %d)", h, i+1))
			continue
		}
		if _, known := aliases[f]; !known && f != "-" && !strings.HasPrefix(f, "attributes.") {
			return nil, fmt.Errorf("--map %s=%s: %q is not a field; use one of external_id, email, phone, first_name, last_name, locale, time_zone, birthday, country, region, city, gender, tags, attributes.NAME or -", h, f, f)
		}
		if prev, dup := seen[f]; dup && f != "-" {
			return nil, fmt.Errorf("line 1: columns %d and %d both map to %s", prev+1, i+1, f)
		}
		seen[f] = i
		fields[i] = f
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("line 1: unknown column %s; map it with --map 'COLUMN=FIELD' (a field, attributes.NAME, or - to ignore)", strings.Join(unknown, ", "))
	}
	if _, ok := seen["external_id"]; !ok {
		return nil, fmt.Errorf("line 1: no external_id column (the customer's ID in your system); name one or map it with --map 'COLUMN=external_id'")
	}
	return &csvReader{r: cr, fields: fields}, nil
}

func (c *csvReader) next() (row, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return row{}, io.EOF
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		// A malformed record (a stray quote) is this row's problem only.
		return row{line: perr.StartLine, err: fmt.Errorf("malformed CSV: %v", perr.Err)}, nil
	}
	if err != nil {
		return row{}, fmt.Errorf("read CSV: %w", err)
	}
	// FieldPos is only valid after a successful Read: a record that failed
	// on its first field has no positions at all.
	line, _ := c.r.FieldPos(0)
	if len(rec) != len(c.fields) {
		return row{line: line, err: fmt.Errorf("has %d columns, the header has %d", len(rec), len(c.fields))}, nil
	}
	in := store.CustomerInput{}
	for i, v := range rec {
		f := c.fields[i]
		v = strings.TrimSpace(v)
		if f == "-" || (v == "" && f != "external_id") {
			continue // an empty cell leaves the stored value alone
		}
		if name, ok := strings.CutPrefix(f, "attributes."); ok {
			if in.Attributes == nil {
				in.Attributes = map[string]any{}
			}
			in.Attributes[name] = v
			continue
		}
		setField(&in, f, v)
	}
	return row{line: line, input: in}, nil
}

// setField puts a text value into the named profile field.
func setField(in *store.CustomerInput, field, v string) {
	p := &v
	switch field {
	case "external_id":
		in.ExternalID = v
	case "email":
		in.Email = p
	case "phone":
		in.Phone = p
	case "first_name":
		in.FirstName = p
	case "last_name":
		in.LastName = p
	case "locale":
		in.Locale = p
	case "time_zone":
		in.TimeZone = p
	case "birthday":
		in.Birthday = p
	case "country":
		in.Country = p
	case "region":
		in.Region = p
	case "city":
		in.City = p
	case "gender":
		in.Gender = p
	case "tags":
		in.Tags = strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' || r == ',' })
	}
}
