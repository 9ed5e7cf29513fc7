package delivery

import (
	"errors"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// Types of PermanentError. They are stable names: the activity layer hands
// them to Temporal as non-retryable application error types, and dashboards
// and retry policies match on them.
const (
	TypeInvalidRequest   = "DeliveryInvalidRequest"
	TypeCustomerNotFound = "DeliveryCustomerNotFound"
	TypeRenderFailed     = "DeliveryRenderFailed"
	TypeRejected         = "DeliveryRejected"
	TypeNoProvider       = "DeliveryNoProvider"
	// TypeCouponPoolExhausted: the message was to carry a code of a pool
	// that has no unused code left (or none at all).
	TypeCouponPoolExhausted = "DeliveryCouponPoolExhausted"
)

// PermanentError is a failure that retrying cannot fix: the provider refused
// the message for good, the request or template is broken, or the customer
// does not exist. Any other error from Send is temporary and worth retrying
// with backoff.
type PermanentError struct {
	Type string
	Err  error
}

func (e *PermanentError) Error() string { return e.Err.Error() }

// Permanent marks the error as not worth retrying.
func (e *PermanentError) Permanent() bool { return true }

// Unwrap exposes the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err (or an error it wraps) is permanent, and
// returns its type.
func IsPermanent(err error) (string, bool) {
	var pe *PermanentError
	if errors.As(err, &pe) {
		return pe.Type, true
	}
	return "", false
}

// RetryAfter is how long a provider asked to wait before the next attempt
// (an HTTP Retry-After), or 0 to leave the backoff to the retry policy.
func RetryAfter(err error) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter()
	}
	return 0
}

// Interfaces the channel errors implement; declared here, where they are used.
type (
	permanent  interface{ Permanent() bool }
	hardBounce interface{ HardBounce() bool }
	optedOut   interface{ OptedOut() bool }
)

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

// suppressionFor says which suppression a permanent failure calls for, if any.
func suppressionFor(err error) string {
	var hb hardBounce
	if errors.As(err, &hb) && hb.HardBounce() {
		return store.HardBounce
	}
	var oo optedOut
	if errors.As(err, &oo) && oo.OptedOut() {
		return store.Unsubscribe
	}
	return ""
}
