package templates

import (
	"fmt"
	"strings"

	"github.com/tidingsdev/tidings/internal/names"
)

// view is the dot of every template: the Data's fields, plus methods for
// what depends on the recipient (their name, their links). Functions that
// only format values are in funcs.go. The fields are Data's, copied rather
// than embedded: text/template looks a field up by name on every use, and
// a promoted field takes reflect's slow path (a breadth-first search that
// allocates), a fifth of a render's time.
type view struct {
	Customer Customer
	Company  Company
	Links    Links
	Vars     map[string]any
	// Locale is the variant being rendered.
	Locale string
}

func newView(d Data, locale string) view {
	return view{Customer: d.Customer, Company: d.Company, Links: d.Links, Vars: d.Vars, Locale: locale}
}

// Greeting opens a message by name in the locale's manner ("Hi Ann,",
// "王芳，您好！"), or warmly without a name when none is known.
func (v view) Greeting() string {
	first, last := strings.TrimSpace(v.Customer.FirstName), strings.TrimSpace(v.Customer.LastName)
	return styleFor(v.Locale).greet(first, last)
}

// Name is the customer's full name as the name is written ("Ann Lee",
// "王芳", in any locale), or "" when unknown.
func (v view) Name() string {
	return names.Full(v.Customer.FirstName, v.Customer.LastName)
}

// UnsubscribeURL is the signed one-click unsubscribe link of this message.
func (v view) UnsubscribeURL() (string, error) {
	return need("Links.Unsubscribe", v.Links.Unsubscribe)
}

// PreferencesURL is the signed link to the customer's preference page.
func (v view) PreferencesURL() (string, error) {
	return need("Links.Preferences", v.Links.Preferences)
}

// SurveyURL is the survey's landing page, where any score can be chosen.
func (v view) SurveyURL() (string, error) {
	return need("Links.Survey", v.Links.Survey)
}

// ScoreURL is the survey link with ?score=n: the page opens with n
// preselected, and records it when the customer sends the form.
func (v view) ScoreURL(n int) (string, error) {
	base, err := v.SurveyURL()
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sscore=%d", base, sep, n), nil
}

// need fails rendering when the send path left a link out, rather than
// printing an empty href.
func need(field, value string) (string, error) {
	if value == "" {
		return "", fmt.Errorf("%s is empty", field)
	}
	return value, nil
}

// Greeting is the salutation a template's {{.Greeting}} prints for a
// customer in a locale, for code that builds messages outside templates.
func Greeting(locale string, c Customer) string {
	loc, err := CanonicalLocale(locale)
	if err != nil {
		loc = "en"
	}
	return newView(Data{Customer: c}, loc).Greeting()
}
