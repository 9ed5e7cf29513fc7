package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/campaign"
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
	return reach(ctx, s.send, ErrNoSender)
}

// TestSend asks for a test of a template, or of a campaign's send step, to
// a customer (a staff member's own record, say) or to seed addresses.
// Tests are marked in the ledger (journey "test"), count in no report,
// skip consent, caps and quiet hours, and still never reach a suppressed
// address.
type TestSend struct {
	// Customer (Tidings ID or external ID) gets the message, rendered with
	// their profile; with Seeds, the seeds get it instead, rendered with
	// this customer's profile and locale.
	Customer string `json:"customer"`
	// Seeds are addresses (email, or phone numbers for SMS) the test goes
	// to instead of the customer: the team's own inboxes, a deliverability
	// checker's. Their unsubscribe, preference and survey links open a page
	// saying the message was a test, and change no one's consent.
	Seeds []string `json:"seeds,omitempty"`
	// Template, Topic, Channel and Vars say what to send; or Campaign and
	// Step name a send step of the campaign's current version (the
	// customer's A/B variant).
	Template string         `json:"template,omitempty"`
	Topic    string         `json:"topic,omitempty"`
	Channel  string         `json:"channel,omitempty"`
	Vars     map[string]any `json:"vars,omitempty"`
	Campaign string         `json:"campaign,omitempty"`
	Step     string         `json:"step,omitempty"`
}

// TestSent is what became of a test: of the message to the customer, or,
// for a test to seeds, of each seed's message in Seeds.
type TestSent struct {
	Recipient string     `json:"recipient,omitempty"`
	Status    string     `json:"status,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	MessageID string     `json:"message_id,omitempty"`
	Seeds     []TestSent `json:"seeds,omitempty"`
}

// MaxSeeds bounds the seed addresses of one test.
const MaxSeeds = 10

// SendTest sends a test through the send path, audited as message.test.
// Bad input is validate.Errors naming the field, found before anything is
// sent.
func (s *Service) SendTest(ctx context.Context, p access.Principal, in TestSend) (TestSent, error) {
	var errs validate.Errors
	c, err := s.recipient(ctx, in.Customer, &errs)
	if err != nil {
		return TestSent{}, err
	}
	req, err := s.testRequest(ctx, in, c, &errs)
	if err != nil {
		return TestSent{}, err
	}
	seeds := seedAddresses(in.Seeds, req.Channel, &errs)
	if err := errs.Err(); err != nil {
		return TestSent{}, err
	}
	send, err := s.sender(ctx)
	if err != nil {
		return TestSent{}, err
	}
	if err := s.audit(ctx, p, "message.test", c.ID, map[string]any{"template": req.Template, "campaign": in.Campaign, "step": in.Step, "seeds": len(seeds)}); err != nil {
		return TestSent{}, err
	}
	if len(seeds) == 0 {
		recipient := c.Email
		if req.Channel == delivery.SMS {
			recipient = c.Phone
		}
		return sendOneTest(ctx, send, req, recipient)
	}
	var out TestSent
	for _, seed := range seeds {
		r := req
		r.ToAddress, r.Seed = seed, true
		sent, err := sendOneTest(ctx, send, r, seed)
		if err != nil {
			return out, err
		}
		out.Seeds = append(out.Seeds, sent)
	}
	return out, nil
}

// sendOneTest sends one test message under a key of its own; a permanent
// refusal (a suppressed address) is its outcome, not an error.
func sendOneTest(ctx context.Context, send Sender, req delivery.Request, recipient string) (TestSent, error) {
	req.IdempotencyKey = "test/" + uuid.NewString()
	res, err := send.Send(ctx, req)
	var perm *delivery.PermanentError
	if err != nil && !errors.As(err, &perm) {
		return TestSent{}, err
	}
	return TestSent{Recipient: recipient, Status: res.Status, Reason: res.Reason, MessageID: res.MessageID}, nil
}

// seedAddresses checks a test's seeds, by index, and returns them in the
// form the suppression list holds: email addresses for email, E.164 phone
// numbers for SMS; each once.
func seedAddresses(seeds []string, channel string, errs *validate.Errors) []string {
	if len(seeds) > MaxSeeds {
		errs.Add("seeds", "%d addresses; at most %d per test", len(seeds), MaxSeeds)
		return nil
	}
	var out []string
	for i, seed := range seeds {
		field := fmt.Sprintf("seeds[%d]", i)
		var a string
		var err error
		if channel == delivery.SMS {
			a, err = validate.Phone(seed, "")
		} else {
			a, err = validate.Email(seed)
		}
		switch {
		case err != nil:
			errs.Add(field, "%v", err)
		case !slices.Contains(out, a):
			out = append(out, a)
		}
	}
	return out
}

// testRequest is the message a test sends: the template asked for, or the
// campaign step's (the customer's variant), marked as a test.
func (s *Service) testRequest(ctx context.Context, in TestSend, c store.Customer, errs *validate.Errors) (delivery.Request, error) {
	var req delivery.Request
	switch {
	case in.Campaign != "" && in.Template != "":
		errs.Add("template", "give a template or a campaign step, not both")
		return req, nil
	case in.Campaign != "":
		v, err := s.store.CampaignVersion(ctx, in.Campaign, 0)
		if errors.Is(err, store.ErrNotFound) {
			errs.Add("campaign", "%q: no such campaign", in.Campaign)
			return req, nil
		}
		if err != nil {
			return req, err
		}
		var sp campaign.Spec
		if err := json.Unmarshal(v.Spec, &sp); err != nil {
			return req, fmt.Errorf("campaign %s version %d: %w", in.Campaign, v.Version, err)
		}
		var step *campaign.Step
		var ids []string
		campaign.Walk(sp.Steps, func(st *campaign.Step) {
			if st.Send != nil {
				ids = append(ids, st.ID)
				if st.ID == in.Step {
					step = st
				}
			}
		})
		if step == nil {
			errs.Add("step", "%q: campaign %s has no send step of that ID; its send steps are %s", in.Step, in.Campaign, strings.Join(ids, ", "))
			return req, nil
		}
		req = campaign.Message(in.Campaign, v.Version, c.ID, *step, campaign.PickVariant(in.Campaign, c.ID, step.Send), 0)
		req.Step = "campaign/" + in.Campaign + "/" + req.Step
	default:
		if in.Channel == "" {
			in.Channel = delivery.Email
		}
		s.checkMessage(in.Template, in.Topic, in.Channel, errs)
		req = delivery.Request{Channel: in.Channel, Template: in.Template, Topic: in.Topic, Data: in.Vars, Step: in.Template}
	}
	req.CustomerID, req.Journey, req.Transactional, req.IgnoreQuietHours = c.ID, store.JourneyTest, true, true
	return req, nil
}
