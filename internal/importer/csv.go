package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
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

// Attribute types a mapping may name; without one a cell's type is
// inferred.
const (
	typeText    = "text"
	typeNumber  = "number"
	typeBoolean = "boolean"
)

// csvReader maps each CSV record onto a CustomerInput through the header.
type csvReader struct {
	r      *csv.Reader
	text   *text
	fields []string // per column: field name, "attributes.x", or "-"
	types  []string // per attribute column: its type, or "" to infer
}

func newCSVReader(src *text, mapping map[string]string) (*csvReader, error) {
	cr := csv.NewReader(src.r)
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
	types := make([]string, len(header))
	seen := map[string]int{}
	var unknown []string
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		own, ok := aliases[key]
		if !ok && strings.HasPrefix(key, "attributes.") {
			own, ok = key, true
		}
		f, typ := own, ""
		if m, mapped := extra[key]; mapped {
			f, typ, _ = strings.Cut(m, ":")
			if f == "" {
				f = own
			}
			ok = f != ""
		}
		if !ok {
			if _, mapped := extra[key]; mapped {
				return nil, fmt.Errorf("--map %s=%s: name the field before the type, e.g. %q", h, extra[key], h+"=attributes.NAME"+extra[key])
			}
			unknown = append(unknown, fmt.Sprintf("%q (column %d)", h, i+1))
			continue
		}
		if _, known := aliases[f]; !known && f != "-" && !strings.HasPrefix(f, "attributes.") {
			return nil, fmt.Errorf("--map %s=%s: %q is not a field; use one of external_id, email, phone, first_name, last_name, locale, time_zone, birthday, country, region, city, gender, tags, attributes.NAME or -", h, extra[key], f)
		}
		if typ != "" {
			if !strings.HasPrefix(f, "attributes.") {
				return nil, fmt.Errorf("--map %s=%s: only attributes.NAME columns take a type", h, extra[key])
			}
			if typ != typeText && typ != typeNumber && typ != typeBoolean {
				return nil, fmt.Errorf("--map %s=%s: type %q is not one of text, number or boolean", h, extra[key], typ)
			}
		}
		types[i] = typ
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
	return &csvReader{r: cr, text: src, fields: fields, types: types}, nil
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
	var problems validate.Errors
	for i, v := range rec {
		f := c.fields[i]
		v = strings.TrimSpace(v)
		if f == "-" || (v == "" && f != "external_id") {
			continue // an empty cell leaves the stored value alone
		}
		if p := c.text.problem(v); p != "" {
			problems.Add(f, "%s", p)
			continue
		}
		if name, ok := strings.CutPrefix(f, "attributes."); ok {
			val, err := attributeValue(v, c.types[i])
			if err != nil {
				problems.Add(f, "%v", err)
				continue
			}
			if in.Attributes == nil {
				in.Attributes = map[string]any{}
			}
			in.Attributes[name] = val
			continue
		}
		setField(&in, f, v)
	}
	if err := problems.Err(); err != nil {
		return row{line: line, err: err}, nil
	}
	return row{line: line, input: in}, nil
}

// plainNumber is how a number is written when nobody named the column's
// type: no sign but minus, no leading zero, no exponent, no thousands
// separator. Codes such as "007" or a postcode "02134" stay text.
var plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// writtenNumber is what a column typed as a number accepts.
var writtenNumber = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// maxInferredDigits keeps longer digit strings (account and card numbers,
// IDs) as text: a float64 holds 15 significant digits exactly.
const maxInferredDigits = 15

// attributeValue turns one attribute cell into its JSON value. With a type
// the cell must be one; without, a plain number becomes a number and
// true or false a boolean, the way a segment file writes them unquoted, so
// `points: {gte: 100}` matches a column of points. Anything else is text.
func attributeValue(v, typ string) (any, error) {
	switch typ {
	case typeText:
		return v, nil
	case typeNumber:
		if !writtenNumber.MatchString(v) {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is out of range for a number", v)
		}
		return f, nil
	case typeBoolean:
		switch strings.ToLower(v) {
		case "true", "yes", "y", "1":
			return true, nil
		case "false", "no", "n", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false (or yes, no, 1, 0)", v)
	}
	if plainNumber.MatchString(v) && len(strings.TrimLeft(strings.Map(digitsOnly, v), "0")) <= maxInferredDigits {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f, nil
		}
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return v, nil
}

func digitsOnly(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
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
