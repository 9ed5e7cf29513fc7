// Package delivery is the one send path (DESIGN.md, invariants 2–4): every
// email and SMS goes through Service.Send, which checks consent, suppression,
// frequency caps and quiet hours, renders the template, reserves a ledger row
// by idempotency key, calls the provider and records the outcome.
package delivery

import "time"

// Channels.
const (
	Email = "email"
	SMS   = "sms"
)

// Request is one intended message. It carries IDs, never an address: the
// recipient is loaded from the store, so workflows stay free of PII.
type Request struct {
	CustomerID string `json:"customer_id"`
	Journey    string `json:"journey"`
	Step       string `json:"step"`
	Channel    string `json:"channel"`
	Template   string `json:"template"`
	Topic      string `json:"topic"`
	// Data is merged into the template data next to the customer's profile.
	Data map[string]any `json:"data,omitempty"`
	// IdempotencyKey is a business key (journey/customer/step/occurrence):
	// the same key never produces a second message.
	IdempotencyKey string `json:"idempotency_key"`
	// Transactional messages (receipts, alerts the customer asked for) skip
	// marketing consent, frequency caps and quiet hours, never suppression.
	Transactional bool `json:"transactional,omitempty"`
	// ToAddress, when set, sends to a fixed internal address (the care
	// team's alert mailbox) instead of the customer's own.
	ToAddress string `json:"to_address,omitempty"`
	// Seed marks a test sent to a seed address (ToAddress): it renders with
	// the customer's data and locale, and its unsubscribe, preference and
	// survey links open a page that says the message was a test, so a
	// click there changes no one's consent.
	Seed bool `json:"seed,omitempty"`
	// IgnoreQuietHours sends now even inside the customer's quiet hours.
	IgnoreQuietHours bool `json:"ignore_quiet_hours,omitempty"`
}

// Outcomes of Send.
const (
	Sent     = "sent"     // the provider accepted the message
	Skipped  = "skipped"  // it must not go out (no consent, suppressed, capped); Reason says why
	Failed   = "failed"   // the provider refused it permanently; Reason says why
	Deferred = "deferred" // it may not go out yet (quiet hours); retry at DeferUntil
)

// Result is what became of a Request.
type Result struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// MessageID is the ledger row's ID (also in the X-Tidings-Message-ID header).
	MessageID string `json:"message_id,omitempty"`
	// DeferUntil is when a Deferred message may be tried again.
	DeferUntil time.Time `json:"defer_until,omitempty"`
	// Duplicate is true when the key had been sent before and nothing was sent now.
	Duplicate bool `json:"duplicate,omitempty"`
}
