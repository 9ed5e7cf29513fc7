package email

import (
	"errors"
	"fmt"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Error is a failed send, classified so the caller knows whether to retry:
// 4xx replies and network trouble are temporary, 5xx replies and malformed
// addresses permanent, and a 5xx refusal of the recipient a hard bounce.
type Error struct {
	// Stage is the SMTP step that failed (e.g. "SMTP RCPT TO" or "connect").
	Stage string
	// Code is the SMTP reply code (0 for network errors).
	Code int
	// Enhanced is the RFC 3463 status such as "5.1.1", when the server sent one.
	Enhanced string
	Reason   string
	Err      error

	permanent, hardBounce bool
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.permanent {
		kind = "permanent"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "smtp %s failure", kind)
	if e.Stage != "" {
		fmt.Fprintf(&b, " at %s", e.Stage)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (%d", e.Code)
		if e.Enhanced != "" {
			fmt.Fprintf(&b, " %s", e.Enhanced)
		}
		b.WriteString(")")
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the go-mail error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports that retrying cannot help.
func (e *Error) Permanent() bool { return e.permanent }

// HardBounce reports that the relay refused the recipient address itself
// (5.1.x, or 550/551/553 to RCPT TO without an enhanced code): the address
// belongs on the suppression list.
func (e *Error) HardBounce() bool { return e.hardBounce }

// classify turns whatever go-mail returned into an *Error.
func classify(err error) *Error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		// Dialing, TLS or authentication: the relay or the network is
		// unwell, which retrying with backoff is for.
		return &Error{Stage: "connect", Err: err}
	}
	e := &Error{Stage: se.Reason.String(), Code: se.ErrorCode(), Enhanced: se.EnhancedStatusCode(), Err: err}
	switch {
	case se.Reason == gomail.ErrGetSender || se.Reason == gomail.ErrGetRcpts || se.Reason == gomail.ErrNoUnencoded:
		e.permanent, e.Reason = true, "invalid message"
	case e.Code >= 500 || strings.HasPrefix(e.Enhanced, "5."):
		e.permanent = true
		e.hardBounce = strings.HasPrefix(e.Enhanced, "5.1.") ||
			(se.Reason == gomail.ErrSMTPRcptTo && e.Enhanced == "" && (e.Code == 550 || e.Code == 551 || e.Code == 553))
	}
	return e
}

// connClosed reports an error after which the connection cannot be used
// again: the liveness check failed, a command got no SMTP reply at all
// (EOF, reset, timeout), or the relay answered 421, which RFC 5321 reserves
// for "closing the transmission channel" (an idle timeout, a shutdown).
func connClosed(err error) bool {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return true
	}
	return se.Reason == gomail.ErrConnCheck || se.ErrorCode() == 0 || se.ErrorCode() == 421
}

// duringData reports a failure after the relay agreed to take the message
// (DATA) and before it acknowledged the final dot.
func duringData(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) &&
		(se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrWriteContent || se.Reason == gomail.ErrSMTPDataClose)
}

// stage names the SMTP step an error happened at, for logs.
func stage(err error) string {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.Reason.String()
	}
	return "connect"
}
