// Package catcher is where `tidings dev` sends mail and SMS instead of real
// recipients: an in-process SMTP server and a Twilio-compatible SMS endpoint
// that keep what they receive in memory, and web pages under /dev/ that show
// each message the way a customer would see it.
package catcher

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DefaultCapacity is how many messages an Inbox keeps when none is given:
// enough for a demo run, small enough to stay a few hundred MB at most.
const DefaultCapacity = 5000

// Channel says how a message was delivered; the values match delivery.Email
// and delivery.SMS.
type Channel string

// Channels the catcher receives on.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Header is one header line, its value decoded to UTF-8, in message order.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment describes a non-body part; its content is not kept.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

// Message is one caught email or SMS. For an SMS, Text holds the body and
// Subject stays empty.
type Message struct {
	ID       int64     `json:"id"`
	Channel  Channel   `json:"channel"`
	Received time.Time `json:"received"`
	// From and To are the SMTP envelope for email, the form fields for SMS.
	From        string       `json:"from"`
	To          []string     `json:"to"`
	Subject     string       `json:"subject,omitempty"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Headers     []Header     `json:"headers,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Size is the raw message size in bytes (the body length for SMS).
	Size int `json:"size"`
	// ParseError is set when an email could not be fully parsed; the raw
	// message is then in Text so nothing is hidden.
	ParseError string `json:"parse_error,omitempty"`

	// SID, Segments and StatusCallback are set for SMS only.
	SID            string `json:"sid,omitempty"`
	Segments       int    `json:"segments,omitempty"`
	StatusCallback string `json:"status_callback,omitempty"`
}

// Header returns the first value of the named header, case-insensitively,
// or "" when the message has none.
func (m Message) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Filter selects messages; zero fields match everything.
type Filter struct {
	Channel Channel
	// To matches a recipient exactly, ignoring case.
	To string
	// Limit caps how many are returned, newest first.
	Limit int
}

func (f Filter) match(m *Message) bool {
	if f.Channel != "" && m.Channel != f.Channel {
		return false
	}
	if f.To == "" {
		return true
	}
	for _, to := range m.To {
		if strings.EqualFold(to, f.To) {
			return true
		}
	}
	return false
}

// Inbox keeps the most recent messages in a fixed-size ring, so a long dev
// session never grows without bound. It is safe for concurrent use.
type Inbox struct {
	mu      sync.Mutex
	ring    []Message
	next    int   // ring index the next message goes to
	count   int   // messages held, at most len(ring)
	lastID  int64 // ID of the newest message ever added
	changed chan struct{}
	now     func() time.Time
}

// NewInbox returns an empty inbox holding at most capacity messages
// (DefaultCapacity when capacity <= 0); older ones are dropped first.
func NewInbox(capacity int) *Inbox {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Inbox{ring: make([]Message, capacity), changed: make(chan struct{}), now: time.Now}
}

// Capacity is how many messages the inbox holds before dropping the oldest.
func (b *Inbox) Capacity() int { return len(b.ring) }

// add stores m, assigning its ID and (when unset) its received time.
func (b *Inbox) add(m Message) Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastID++
	m.ID = b.lastID
	if m.Received.IsZero() {
		m.Received = b.now()
	}
	b.ring[b.next] = m
	b.next = (b.next + 1) % len(b.ring)
	if b.count < len(b.ring) {
		b.count++
	}
	close(b.changed)
	b.changed = make(chan struct{})
	return m
}

// at returns the i-th newest message; the lock must be held.
func (b *Inbox) at(i int) *Message {
	n := len(b.ring)
	return &b.ring[((b.next-1-i)%n+n)%n]
}

// Messages returns the messages f selects, newest first.
func (b *Inbox) Messages(f Filter) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for i := 0; i < b.count; i++ {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		if m := b.at(i); f.match(m) {
			out = append(out, *m)
		}
	}
	return out
}

// Message returns the message with the given ID, if it is still held.
func (b *Inbox) Message(id int64) (Message, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.lastID - id // 0 is the newest
	if id <= 0 || i < 0 || i >= int64(b.count) {
		return Message{}, false
	}
	return *b.at(int(i)), true
}

// Len is how many messages are held.
func (b *Inbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// Clear drops every message; IDs keep counting up so old links never point
// at a different message.
func (b *Inbox) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.ring)
	b.count = 0
	close(b.changed)
	b.changed = make(chan struct{})
}

// Wait blocks until at least n held messages match f and returns them
// (newest first), or returns ctx's error. Tests use it to wait for a journey
// to send without sleeping.
func (b *Inbox) Wait(ctx context.Context, f Filter, n int) ([]Message, error) {
	f.Limit = 0
	for {
		b.mu.Lock()
		changed := b.changed
		b.mu.Unlock()
		if got := b.Messages(f); len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}
