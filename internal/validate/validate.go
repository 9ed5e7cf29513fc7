// Package validate checks customer and event input at the edge (CSV and JSON
// imports, the API, the CLI) so that nothing invalid reaches the database and
// every rejection names the field at fault.
package validate

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/tidingsdev/tidings/internal/spec"
)

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Format and Args are Message before formatting: the message's key, by
	// which a front door shows it in its reader's language.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Errors collects every problem of one input, so a user fixes a row once
// rather than one field per attempt.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Add records a problem with field. A check's spec.Problem passed whole
// ("%v", err) keeps its own key and values, so it still translates.
func (es *Errors) Add(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	format, args = spec.Unwrapped(format, args)
	*es = append(*es, FieldError{Field: field, Message: msg, Format: format, Args: args})
}

// Err returns es as an error, or nil when empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// AsErrors unwraps err into field errors when it carries them.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return Errors{fe}, true
	}
	return nil, false
}

// Email checks an address and returns it trimmed, with the domain lowercased.
// Display names ("Ann <ann@x.com>") are refused: a column holds an address.
func Email(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 254 {
		return "", spec.Problemf("is longer than 254 characters, the most an address can be")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", spec.Problemf("%q is not a valid email address", s)
	}
	local, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, ".") {
		return "", spec.Problemf("%q is not a valid email address: the domain needs a dot", s)
	}
	return local + "@" + strings.ToLower(domain), nil
}

// Phone parses a number, in E.164 or national form for defaultRegion (ISO
// 3166 alpha-2, e.g. "US", "CN"), and returns it in E.164.
func Phone(s, defaultRegion string) (string, error) {
	s = strings.TrimSpace(s)
	num, err := phonenumbers.Parse(s, strings.ToUpper(defaultRegion))
	if err != nil {
		return "", spec.Problemf("%q is not a phone number: %v", s, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", spec.Problemf("%q is not a valid phone number (use E.164, e.g. +14155550123)", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// IsE164 reports whether s is already a valid number in E.164 form.
func IsE164(s string) bool {
	if !e164.MatchString(s) {
		return false
	}
	got, err := Phone(s, "")
	return err == nil && got == s
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// TimeZone checks an IANA zone name (spec.TimeZone).
func TimeZone(s string) (string, error) { return spec.TimeZone(s) }

// Locale checks a BCP 47 tag and returns it canonical (spec.Locale).
func Locale(s string) (string, error) { return spec.Locale(s) }

// Date parses a calendar date in YYYY-MM-DD form.
func Date(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// Genders a profile may hold; anything else is a typo worth reporting.
var Genders = []string{"female", "male", "nonbinary", "other", "unknown"}

// Gender checks a gender value against Genders.
func Gender(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	i := sort.SearchStrings(Genders, s)
	if i < len(Genders) && Genders[i] == s {
		return s, nil
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(Genders, ", "))
}
