package sms

import (
	"fmt"
	"net/http"
	"time"
)

// Provider error codes (Twilio's numbering) that say something about the
// recipient rather than the request.
const (
	CodeInvalidNumber = 21211 // the To number is not a valid phone number
	CodeNotMobile     = 21614 // the number cannot receive SMS (landline)
	CodeUnsubscribed  = 21610 // the recipient replied STOP
)

// Error is a refused or failed send. 429 and 5xx replies are temporary and
// carry the provider's Retry-After; other 4xx replies are permanent, with the
// provider's error code.
type Error struct {
	// HTTPStatus is 0 when the message was refused before any request.
	HTTPStatus int
	Code       int
	Message    string
	// Wait is the provider's Retry-After, when it sent one.
	Wait time.Duration
}

func (e *Error) Error() string {
	kind := "permanent"
	if !e.Permanent() {
		kind = "temporary"
	}
	s := "sms " + kind + " failure"
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.HTTPStatus)
		if e.Code != 0 {
			s += fmt.Sprintf(", code %d", e.Code)
		}
		s += ")"
	} else if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Wait > 0 {
		s += fmt.Sprintf("; retry after %s", e.Wait)
	}
	return s
}

// Permanent reports that retrying cannot help.
func (e *Error) Permanent() bool {
	return e.HTTPStatus != http.StatusTooManyRequests && e.HTTPStatus/100 != 5
}

// HardBounce reports that the number itself cannot receive messages, so it
// belongs on the suppression list.
func (e *Error) HardBounce() bool {
	return e.Code == CodeInvalidNumber || e.Code == CodeNotMobile
}

// OptedOut reports that the recipient unsubscribed at the carrier (STOP).
func (e *Error) OptedOut() bool { return e.Code == CodeUnsubscribed }

// RetryAfter is how long the provider asked to wait before trying again.
func (e *Error) RetryAfter() time.Duration { return e.Wait }
