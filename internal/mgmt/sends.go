package mgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// Sender is the one send path; *delivery.Service implements it. Every
// message the management functions send goes through it, so consent,
// suppression, caps and the ledger apply as to any journey's.
type Sender interface {
	Send(ctx context.Context, req delivery.Request) (delivery.Result, error)
}

// ErrNoSender refuses a send when the send path is not configured here.
var ErrNoSender = errors.New("this process has no send path (SMTP and SMS are not configured)")

// Message is a message a shop's backend asks Tidings to send now, such as
// an order confirmation.
type Message struct {
	// Customer is the Tidings ID or external ID of the recipient.
	Customer string `json:"customer"`
	Template string `json:"template"`
	// Topic decides the policy: a transactional topic skips marketing
	// consent and caps, every topic respects the suppression list.
	Topic string `json:"topic"`
	// Channel is email (default) or sms.
	Channel string         `json:"channel,omitempty"`
	Vars    map[string]any `json:"vars,omitempty"`
	// IdempotencyKey is the caller's key for this message (an order
	// number, say): the same key never sends a second message.
	IdempotencyKey string `json:"idempotency_key"`
}

// maxKey bounds an idempotency key so a ledger row stays small.
const maxKey = 200

// SendMessage sends one message through the send path now, quiet hours
// aside (the caller decided when). The same idempotency key sends once:
// asking again returns the first outcome with Duplicate set. Bad input is
// validate.Errors naming the field, found before anything is written.
func (s *Service) SendMessage(ctx context.Context, m Message) (delivery.Result, error) {
	var errs validate.Errors
	if m.Channel == "" {
		m.Channel = delivery.Email
	}
	key := strings.TrimSpace(m.IdempotencyKey)
	switch {
	case key == "":
		errs.Add("idempotency_key", "is required; use a key of your own for this message, such as the order number")
	case len(key) > maxKey:
		errs.Add("idempotency_key", "is %d bytes; at most %d", len(key), maxKey)
	}
	c, err := s.recipient(ctx, m.Customer, &errs)
	if err != nil {
		return delivery.Result{}, err
	}
	s.checkMessage(m.Template, m.Topic, m.Channel, &errs)
	if err := errs.Err(); err != nil {
		return delivery.Result{}, err
	}
	send, err := s.sender(ctx)
	if err != nil {
		return delivery.Result{}, err
	}
	return send.Send(ctx, delivery.Request{
		CustomerID: c.ID, Journey: "api", Step: m.Template, Channel: m.Channel, Template: m.Template, Topic: m.Topic,
		Data: m.Vars, IdempotencyKey: "api/" + key, IgnoreQuietHours: true,
	})
}

// recipient finds the customer a message is for, adding a field error
// when there is none.
func (s *Service) recipient(ctx context.Context, key string, errs *validate.Errors) (store.Customer, error) {
	if strings.TrimSpace(key) == "" {
		errs.Add("customer", "is required (Tidings ID or external ID)")
		return store.Customer{}, nil
	}
	c, err := s.FindCustomer(ctx, key, false)
	if errors.Is(err, store.ErrNotFound) {
		errs.Add("customer", "%q: no such customer", key)
		return store.Customer{}, nil
	}
	return c, err
}

// checkMessage checks a template, topic and channel before a send.
func (s *Service) checkMessage(template, topic, channel string, errs *validate.Errors) {
	set, err := s.templateSet()
	if err != nil {
		errs.Add("template", "%v", err)
		return
	}
	info, err := set.Info(template)
	switch {
	case template == "":
		errs.Add("template", "is required")
	case err != nil:
		errs.Add("template", "%q: unknown template; see GET /v1/templates", template)
	case info.Internal:
		errs.Add("template", "%q goes to staff, not customers", template)
	case channel == delivery.SMS && !info.SMS:
		errs.Add("channel", "template %s has no SMS body", template)
	}
	if channel != delivery.Email && channel != delivery.SMS {
		errs.Add("channel", "%q: expected email or sms", channel)
	}
	names := s.topicNames()
	switch {
	case topic == "":
		errs.Add("topic", "is required; one of %s", strings.Join(names, ", "))
	case names != nil && !slices.Contains(names, topic):
		errs.Add("topic", "%q: expected one of %s", topic, strings.Join(names, ", "))
	}
}

// topicNames are the configured topics, sorted; nil when unknown (the send
// path then judges).
func (s *Service) topicNames() []string {
	if s.topics == nil {
		return nil
	}
	ts, err := s.topics()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// sender reaches the send path, on first use.
func (s *Service) sender(ctx context.Context) (Sender, error) {
	if s.send == nil {
		return nil, ErrNoSender
	}
	send, err := s.send(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSender, err)
	}
	return send, nil
}
