package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

// Store is what the send path needs of the system of record.
type Store interface {
	SendFacts(ctx context.Context, q store.SendFactsQuery) (store.SendFacts, error)
	Suppress(ctx context.Context, sp store.Suppression) error
	ReserveMessage(ctx context.Context, m store.Message) (store.Message, bool, error)
	MessageByKey(ctx context.Context, key string) (store.Message, error)
	CompleteMessage(ctx context.Context, id string, o store.Outcome) error
	NoteAttemptError(ctx context.Context, id, reason string) error
}

// Renderer renders a named template for a locale and channel.
type Renderer interface {
	Render(name, locale, channel string, d templates.Data) (templates.Rendered, error)
}

// Mailer hands an email to the relay and returns its Message-ID.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (string, error)
}

// Texter hands an SMS to the provider.
type Texter interface {
	Send(ctx context.Context, m sms.Message) (sms.Receipt, error)
}

// Options is the send path's policy and identity.
type Options struct {
	// Topics maps topic names to their policy; nil means DefaultTopics().
	Topics map[string]Topic
	// QuietHours in the customer's time zone, "HH:MM-HH:MM"; "" means none.
	QuietHours string
	// DefaultLocale renders messages to internal addresses (Request.ToAddress).
	DefaultLocale string
	// PublicURL is the base of unsubscribe, preference and survey links.
	PublicURL string
	// UnsubscribeMailto is the mailbox offered in List-Unsubscribe.
	UnsubscribeMailto string
	Company           templates.Company
	Signer            *token.Signer
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the one send path (DESIGN.md, invariant 2).
type Service struct {
	store    Store
	renderer Renderer
	mailer   Mailer
	texter   Texter
	opt      Options
	quiet    quietHours
	uncapped []string
	now      func() time.Time
	log      *slog.Logger
}

// New builds the Service. mailer or texter may be nil when the channel is
// not configured; messages on it then fail permanently.
func New(st Store, r Renderer, mailer Mailer, texter Texter, opt Options) (*Service, error) {
	if opt.Topics == nil {
		opt.Topics = DefaultTopics()
	}
	if err := checkTopics(opt.Topics); err != nil {
		return nil, err
	}
	q, err := parseQuietHours(opt.QuietHours)
	if err != nil {
		return nil, err
	}
	if opt.Signer == nil {
		return nil, errors.New("delivery: a link signer is required")
	}
	opt.PublicURL = strings.TrimSuffix(opt.PublicURL, "/")
	s := &Service{
		store: st, renderer: r, mailer: mailer, texter: texter, opt: opt,
		quiet: q, uncapped: uncappedTopics(opt.Topics), now: opt.Now, log: opt.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// messageNamespace scopes the ledger IDs derived from idempotency keys.
var messageNamespace = uuid.MustParse("6f1f4a52-8d0e-4c43-9f7e-3b1d2c9a7e10")

// MessageID is the ledger ID a Request's key will get. It is known before the
// row exists, so rendered links (survey answers) can name the message.
func MessageID(idempotencyKey string) string {
	return uuid.NewSHA1(messageNamespace, []byte(idempotencyKey)).String()
}

// Send delivers req at most once per idempotency key. It returns Sent,
// Skipped (recorded with its reason) or Deferred (retry at DeferUntil) with
// a nil error; a *PermanentError for failures retrying cannot fix (with a
// Failed result when the provider refused the message); and any other error
// for temporary trouble, which the caller retries with backoff.
func (s *Service) Send(ctx context.Context, req Request) (Result, error) {
	topic, err := s.check(req)
	if err != nil {
		return Result{}, &PermanentError{Type: TypeInvalidRequest, Err: err}
	}
	now := s.now()
	caps := capsFor(topic, req.Channel)
	q := store.SendFactsQuery{CustomerID: req.CustomerID, Channel: req.Channel, Address: req.ToAddress, Exempt: s.uncapped}
	for _, cp := range caps {
		q.Since = append(q.Since, now.Add(-cp.Window))
	}
	facts, err := s.store.SendFacts(ctx, q)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, &PermanentError{Type: TypeCustomerNotFound, Err: err}
	}
	if err != nil {
		return Result{}, fmt.Errorf("load customer %s: %w", req.CustomerID, err)
	}
	c := facts.Customer
	row := store.Message{
		ID: MessageID(req.IdempotencyKey), IdempotencyKey: req.IdempotencyKey, CustomerID: c.ID,
		Journey: req.Journey, Step: req.Step, Channel: req.Channel, Template: req.Template,
		Topic: req.Topic, Locale: c.Locale, Recipient: s.recipient(req, c),
	}
	if req.ToAddress != "" && s.opt.DefaultLocale != "" {
		row.Locale = s.opt.DefaultLocale
	}
	if row.Recipient == "" {
		return s.skip(ctx, row, ReasonNoAddress)
	}
	if reason := s.refuse(req, topic, caps, facts); reason != "" {
		return s.skip(ctx, row, reason)
	}
	if !topic.Transactional && !topic.IgnoreQuietHours && !req.IgnoreQuietHours && req.ToAddress == "" {
		if until := s.quiet.next(now, c.Location()); until.After(now) {
			return s.deferUntil(ctx, row, until)
		}
	}

	r, err := s.renderer.Render(req.Template, row.Locale, req.Channel, s.data(req, c, row.ID, now))
	if err != nil {
		err = fmt.Errorf("render %s (%s, %s): %w", req.Template, row.Locale, req.Channel, err)
		if res, ferr := s.finish(ctx, row, store.StatusFailed, err.Error()); ferr != nil || res.Duplicate {
			return res, ferr
		}
		return Result{Status: Failed, Reason: err.Error(), MessageID: row.ID}, &PermanentError{Type: TypeRenderFailed, Err: err}
	}
	row.Locale, row.Segments = r.Locale, r.Segments

	got, created, err := s.store.ReserveMessage(ctx, row)
	if err != nil {
		return Result{}, err
	}
	if !created && got.Status != store.StatusQueued {
		return duplicate(got), nil
	}
	return s.deliver(ctx, req, c, got, r, now)
}

// check validates the request and returns its topic's policy.
func (s *Service) check(req Request) (Topic, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"customer_id", req.CustomerID}, {"channel", req.Channel}, {"template", req.Template},
		{"topic", req.Topic}, {"idempotency_key", req.IdempotencyKey},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Topic{}, fmt.Errorf("send request: %s required", strings.Join(missing, ", "))
	}
	if req.Channel != Email && req.Channel != SMS {
		return Topic{}, fmt.Errorf("send request: channel %q is neither %q nor %q", req.Channel, Email, SMS)
	}
	t, ok := s.opt.Topics[req.Topic]
	if !ok {
		return Topic{}, fmt.Errorf("send request: topic %q is not one of %s", req.Topic, strings.Join(topicNames(s.opt.Topics), ", "))
	}
	if _, err := uuid.Parse(req.CustomerID); err != nil {
		return Topic{}, fmt.Errorf("send request: customer_id %q is not a UUID", req.CustomerID)
	}
	if req.Transactional {
		t.Transactional = true
	}
	return t, nil
}

func (s *Service) recipient(req Request, c store.Customer) string {
	switch {
	case req.ToAddress != "":
		return req.ToAddress
	case req.Channel == Email:
		return c.Email
	default:
		return c.Phone
	}
}

// capsFor lists the topic's caps on a channel.
func capsFor(t Topic, channel string) []Cap {
	if t.Transactional || t.Uncapped {
		return nil
	}
	var out []Cap
	for _, c := range t.Caps {
		if c.Channel == channel {
			out = append(out, c)
		}
	}
	return out
}

// refuse returns why the message must never go out, or "": consent for the
// topic (a denial under TopicAll covers every topic on the channel), the
// suppression list, which nothing bypasses, then the frequency caps.
func (s *Service) refuse(req Request, t Topic, caps []Cap, f store.SendFacts) string {
	if req.ToAddress == "" && !t.Transactional {
		rule, ok := t.Consent[req.Channel]
		if !ok {
			rule = OptIn
		}
		status := f.Consents[req.Topic]
		switch {
		case f.Consents[TopicAll] == store.Denied || status == store.Denied:
			return ReasonOptedOut
		case rule == OptIn && status != store.Granted:
			return ReasonNoOptIn
		}
	}
	if f.Suppressed != "" {
		return ReasonSuppressed + ":" + f.Suppressed
	}
	if req.ToAddress != "" {
		return ""
	}
	for i, cp := range caps {
		if i < len(f.Recent) && f.Recent[i] >= cp.Max {
			return fmt.Sprintf("%s: %d %s in %s", ReasonFrequencyCap, f.Recent[i], req.Channel, cp.Window)
		}
	}
	return ""
}

// data is what templates see. Links are signed so the public pages can trust
// them without a session.
func (s *Service) data(req Request, c store.Customer, messageID string, now time.Time) templates.Data {
	d := templates.Data{
		Customer: templates.Customer{
			ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Locale: c.Locale,
			TimeZone: c.TimeZone, City: c.City, Country: c.Country,
			OrdersCount: c.OrdersCount, TotalSpent: c.TotalSpent,
		},
		Company: s.opt.Company,
		Vars:    req.Data,
	}
	if d.Vars == nil {
		d.Vars = map[string]any{}
	}
	if req.ToAddress != "" {
		return d // an internal alert must not carry the customer's links
	}
	year := now.AddDate(1, 0, 0)
	d.Links.Unsubscribe = s.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: c.ID, Channel: req.Channel, Topic: req.Topic}, year)
	d.Links.Preferences = s.link("p", token.Claims{Purpose: token.Preferences, CustomerID: c.ID}, year)
	if kind, _ := d.Vars["survey"].(string); kind != "" {
		d.Links.Survey = s.link("s", token.Claims{Purpose: token.Survey, CustomerID: c.ID, MessageID: messageID, Survey: kind}, now.AddDate(0, 0, 30))
	}
	return d
}

func (s *Service) link(path string, c token.Claims, expires time.Time) string {
	return s.opt.PublicURL + "/" + path + "/" + s.opt.Signer.Sign(c, expires)
}

// deliver hands a reserved message to its provider and records the outcome.
func (s *Service) deliver(ctx context.Context, req Request, c store.Customer, m store.Message, r templates.Rendered, now time.Time) (Result, error) {
	providerID, err := s.hand(ctx, req, c, m, r, now)
	if err == nil {
		if err := s.store.CompleteMessage(ctx, m.ID, store.Outcome{Status: store.StatusSent, ProviderMessageID: providerID, Segments: r.Segments}); err != nil {
			// The provider has it; a retry finds the row queued and sends
			// again with the same Message-ID, which receivers deduplicate.
			return Result{}, err
		}
		s.log.InfoContext(ctx, "message sent", "message_id", m.ID, "customer_id", c.ID, "channel", req.Channel,
			"template", req.Template, "journey", req.Journey, "attempt", m.Attempts)
		return Result{Status: Sent, MessageID: m.ID}, nil
	}
	if !isPermanent(err) {
		if nerr := s.store.NoteAttemptError(ctx, m.ID, err.Error()); nerr != nil {
			s.log.WarnContext(ctx, "note attempt error", "message_id", m.ID, "error", nerr)
		}
		s.log.WarnContext(ctx, "send failed, will retry", "message_id", m.ID, "customer_id", c.ID, "channel", req.Channel, "error", err)
		return Result{MessageID: m.ID}, fmt.Errorf("send %s message %s: %w", req.Channel, m.ID, err)
	}
	reason := err.Error()
	if err := s.store.CompleteMessage(ctx, m.ID, store.Outcome{Status: store.StatusFailed, Reason: reason}); err != nil {
		return Result{}, err
	}
	if why := suppressionFor(err); why != "" {
		if err := s.store.Suppress(ctx, store.Suppression{Channel: req.Channel, Address: m.Recipient, Reason: why, Detail: reason}); err != nil {
			return Result{}, err
		}
	}
	s.log.WarnContext(ctx, "message refused", "message_id", m.ID, "customer_id", c.ID, "channel", req.Channel, "error", err)
	typ, ok := IsPermanent(err)
	if !ok {
		typ = TypeRejected
	}
	return Result{Status: Failed, Reason: reason, MessageID: m.ID},
		&PermanentError{Type: typ, Err: fmt.Errorf("send %s message %s: %w", req.Channel, m.ID, err)}
}

// hand calls the channel's provider and returns the provider's message ID.
func (s *Service) hand(ctx context.Context, req Request, c store.Customer, m store.Message, r templates.Rendered, now time.Time) (string, error) {
	if req.Channel == SMS {
		if s.texter == nil {
			return "", &PermanentError{Type: TypeNoProvider, Err: errors.New("no SMS provider is configured")}
		}
		rec, err := s.texter.Send(ctx, sms.Message{To: m.Recipient, Body: r.SMS})
		return rec.SID, err
	}
	if s.mailer == nil {
		return "", &PermanentError{Type: TypeNoProvider, Err: errors.New("no SMTP relay is configured")}
	}
	msg := email.Message{
		To: m.Recipient, Subject: r.Subject, HTML: r.HTML, Text: r.Text,
		IdempotencyKey: req.IdempotencyKey, LedgerID: m.ID,
	}
	if req.ToAddress == "" {
		msg.ToName = strings.TrimSpace(c.FirstName + " " + c.LastName)
		if t := s.opt.Topics[req.Topic]; !t.Transactional && !req.Transactional {
			msg.UnsubscribeURL = s.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: c.ID, Channel: Email, Topic: req.Topic}, now.AddDate(1, 0, 0))
			msg.UnsubscribeMailto = s.opt.UnsubscribeMailto
		}
	}
	return s.mailer.Send(ctx, msg)
}

// skip records a message that must not go out, with its reason.
func (s *Service) skip(ctx context.Context, row store.Message, reason string) (Result, error) {
	s.log.InfoContext(ctx, "message skipped", "message_id", row.ID, "customer_id", row.CustomerID,
		"channel", row.Channel, "template", row.Template, "reason", reason)
	return s.finish(ctx, row, store.StatusSkipped, reason)
}

// finish records a final status without sending. A row the key already had
// keeps its outcome (Duplicate), unless it was left queued by a crashed
// attempt, which this decision now closes.
func (s *Service) finish(ctx context.Context, row store.Message, status, reason string) (Result, error) {
	row.Status, row.Reason = status, reason
	got, created, err := s.store.ReserveMessage(ctx, row)
	if err != nil {
		return Result{}, err
	}
	if !created && got.Status == store.StatusQueued {
		if err := s.store.CompleteMessage(ctx, got.ID, store.Outcome{Status: status, Reason: reason}); err != nil {
			return Result{}, err
		}
		created = true
	}
	if !created {
		return duplicate(got), nil
	}
	return Result{Status: resultStatus(status), Reason: reason, MessageID: got.ID}, nil
}

// deferUntil answers "not yet", unless the key was already settled.
func (s *Service) deferUntil(ctx context.Context, row store.Message, until time.Time) (Result, error) {
	got, err := s.store.MessageByKey(ctx, row.IdempotencyKey)
	switch {
	case err == nil && got.Status != store.StatusQueued:
		return duplicate(got), nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return Result{}, err
	}
	s.log.InfoContext(ctx, "message deferred for quiet hours", "message_id", row.ID, "customer_id", row.CustomerID,
		"channel", row.Channel, "until", until)
	return Result{Status: Deferred, Reason: "quiet_hours", MessageID: row.ID, DeferUntil: until}, nil
}

func duplicate(m store.Message) Result {
	return Result{Status: resultStatus(m.Status), Reason: m.Reason, MessageID: m.ID, Duplicate: true}
}

func resultStatus(ledger string) string {
	switch ledger {
	case store.StatusSent:
		return Sent
	case store.StatusSkipped:
		return Skipped
	default:
		return Failed
	}
}
