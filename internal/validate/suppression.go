package validate

import (
	"slices"
	"strings"

	"github.com/tidingsdev/tidings/internal/store"
)

// Suppression checks a suppression someone adds by hand (API, CLI, an
// import) and returns it with its address in the form the list holds:
// channel email or sms, an email address or a phone number (national forms
// read for defaultRegion), and a known reason (default manual).
func Suppression(sp store.Suppression, defaultRegion string) (store.Suppression, error) {
	var es Errors
	if sp.Reason == "" {
		sp.Reason = store.Manual
	}
	switch sp.Channel {
	case "email":
		if a, err := Email(sp.Address); err != nil {
			es.Add("address", "%v", err)
		} else {
			sp.Address = a
		}
	case "sms":
		if p, err := Phone(sp.Address, defaultRegion); err != nil {
			es.Add("address", "%v", err)
		} else {
			sp.Address = p
		}
	default:
		es.Add("channel", "%q is not email or sms", sp.Channel)
	}
	if !slices.Contains(store.SuppressionReasons, sp.Reason) {
		es.Add("reason", "%q is not one of %s", sp.Reason, strings.Join(store.SuppressionReasons, ", "))
	}
	if len(sp.Detail) > 1000 {
		es.Add("detail", "is longer than 1000 characters")
	}
	return sp, es.Err()
}
