package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
	"github.com/tidingsdev/tidings/internal/names"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

// Store is what the send path needs of the system of record.
type Store interface {
	SendFacts(ctx context.Context, qs []store.SendFactsQuery, exempt []string) ([]store.SendFacts, error)
	Suppress(ctx context.Context, sp store.Suppression) error
	ReserveMessages(ctx context.Context, ms []store.Message) ([]store.Message, []bool, error)
	MessagesByKey(ctx context.Context, keys []string) (map[string]store.Message, error)
	CompleteMessages(ctx context.Context, cs []store.Completion) error
	NoteAttemptError(ctx context.Context, id, reason string) error
	IssueCoupons(ctx context.Context, cs []store.Coupon) error
	DrawCoupon(ctx context.Context, d store.CouponDraw) (store.Coupon, error)
}

// Renderer renders a named template for a locale and channel.
type Renderer interface {
	Render(name, locale, channel string, d templates.Data) (templates.Rendered, error)
}

// Mailer hands an email to the relay and returns its Message-ID. It calls
// the message's Accept before the relay can take it (email.Message.Accept),
// which is where the send path bounds the emails whose outcome is not yet
// recorded.
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
	// Tracker, when set, rewrites links and keeps contents (tracking.go).
	Tracker Tracker
	// ChunkSize is how many messages of a SendBatch share one statement per
	// stage (default 50); ParallelChunks how many chunks are in flight at
	// once (default 8; give the database pool at least as many connections).
	ChunkSize      int
	ParallelChunks int
	// InFlight caps the emails the relay accepted whose outcome is not
	// recorded yet (default 4; give it the SMTP pool's size). Each message's
	// outcome is written right after the relay accepted it, and the next
	// email that needs its slot holds back its final dot until then, so a
	// crashed process sends at most InFlight messages again, each with the
	// same Message-ID.
	InFlight int
	// SMSConcurrency caps the SMS requests in flight (default 8), so a large
	// batch does not trip the provider's rate limit; like InFlight it also
	// bounds the SMS a crash can send twice.
	SMSConcurrency int
	// CouponSecret is the key CouponCode derives codes with: a message's
	// code is stored (and can be redeemed) when it is the one derived from
	// the message's idempotency key. Empty stores no derived codes.
	CouponSecret []byte
	// CouponValidity is how long a derived code stays valid after its
	// message is sent (default DefaultCouponValidity).
	CouponValidity time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Metrics counts every message's outcome (metrics.go); nil counts
	// nothing.
	Metrics *Metrics
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
	// mailSlots and smsSlots are the messages in flight per channel, each
	// held from the provider's acceptance (an SMS: from its request) until
	// its outcome is recorded; mailConns the emails in their dialogue.
	mailSlots, smsSlots, mailConns chan struct{}
	recorder                       *recorder
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
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = 50
	}
	if opt.ParallelChunks <= 0 {
		opt.ParallelChunks = 8
	}
	if opt.SMSConcurrency <= 0 {
		opt.SMSConcurrency = 8
	}
	if opt.InFlight <= 0 {
		opt.InFlight = 4
	}
	if opt.CouponValidity <= 0 {
		opt.CouponValidity = DefaultCouponValidity
	}
	s := &Service{
		store: st, renderer: r, mailer: mailer, texter: texter, opt: opt,
		quiet: q, uncapped: uncappedTopics(opt.Topics), now: opt.Now, log: opt.Logger,
		smsSlots: make(chan struct{}, opt.SMSConcurrency), mailSlots: make(chan struct{}, opt.InFlight),
		mailConns: make(chan struct{}, opt.InFlight),
		recorder:  &recorder{complete: st.CompleteMessages},
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
	res, errs := s.SendBatch(ctx, []Request{req})
	return res[0], errs[0]
}

// SendBatch is Send for many requests at once, as a campaign or the day's
// birthdays send them: the policy facts, the ledger reservations and the
// outcomes are each one statement for the whole batch, and the messages go
// out concurrently over the provider's connections. results[i] and errs[i]
// answer reqs[i] exactly as Send would.
func (s *Service) SendBatch(ctx context.Context, reqs []Request) (results []Result, errs []error) {
	results, errs = make([]Result, len(reqs)), make([]error, len(reqs))
	defer func() { s.opt.Metrics.observe(reqs, results, errs) }()
	s.opt.Metrics.begin(len(reqs))
	pending := make([]int, len(reqs))
	for i := range pending {
		pending[i] = i
	}
	// A key repeated within the batch waits for a later wave, so it sees
	// the first one's outcome instead of racing it.
	for len(pending) > 0 {
		seen := make(map[string]bool, len(pending))
		var current, later []int
		for _, i := range pending {
			if k := reqs[i].IdempotencyKey; seen[k] {
				later = append(later, i)
			} else {
				seen[k] = true
				current = append(current, i)
			}
		}
		s.runWave(ctx, reqs, current, results, errs)
		pending = later
	}
	return results, errs
}

// runWave sends requests with distinct keys in chunks of ChunkSize, up to
// ParallelChunks at once, so one chunk's database work overlaps the others'
// SMTP and HTTP traffic. Two chunks at most prepare at once (policy facts,
// rendering, reservations): a batch's first messages go out as soon as
// its first chunk is ready instead of when every chunk in flight is, and
// each later chunk is ready before the connections run out of messages.
func (s *Service) runWave(ctx context.Context, reqs []Request, idx []int, results []Result, errs []error) {
	chunks := make(chan []int)
	prep := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for range min(s.opt.ParallelChunks, (len(idx)+s.opt.ChunkSize-1)/s.opt.ChunkSize) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				w := &wave{svc: s, results: results, errs: errs, prep: prep}
				w.run(ctx, reqs, chunk)
				s.opt.Metrics.done(len(chunk))
			}
		}()
	}
	for lo := 0; lo < len(idx); lo += s.opt.ChunkSize {
		chunks <- idx[lo:min(lo+s.opt.ChunkSize, len(idx))]
	}
	close(chunks)
	wg.Wait()
}

// item is one request on its way through a wave.
type item struct {
	i     int
	req   Request
	topic Topic
	caps  []Cap
	cust  store.Customer
	facts store.SendFacts
	row   store.Message
	until time.Time
	r     templates.Rendered
	// unsubscribe is the signed link rendered into the message, reused for
	// List-Unsubscribe.
	unsubscribe string
	err         error // the permanent error a finished item reports
}

// wave is a set of requests with distinct keys, sent together.
type wave struct {
	svc     *Service
	results []Result
	errs    []error
	now     time.Time
	// prep, when set, is held while the wave prepares (see runWave).
	prep     chan struct{}
	prepared bool
}

// ready ends the wave's preparation.
func (w *wave) ready() {
	if w.prep != nil && !w.prepared {
		w.prepared = true
		<-w.prep
	}
}

func (w *wave) fail(items []*item, err error) {
	for _, it := range items {
		w.errs[it.i] = err
	}
}

func (w *wave) run(ctx context.Context, reqs []Request, idx []int) {
	s := w.svc
	if w.prep != nil {
		select {
		case w.prep <- struct{}{}:
			defer w.ready()
		case <-ctx.Done():
			w.prep = nil // the statements fail on ctx, each chunk at once
		}
	}
	w.now = s.now()
	var items []*item
	var qs []store.SendFactsQuery
	for _, i := range idx {
		t, err := s.check(reqs[i])
		if err != nil {
			w.errs[i] = &PermanentError{Type: TypeInvalidRequest, Err: err}
			continue
		}
		it := &item{i: i, req: reqs[i], topic: t, caps: capsFor(t, reqs[i].Channel)}
		q := store.SendFactsQuery{CustomerID: it.req.CustomerID, Channel: it.req.Channel, Address: it.req.ToAddress, Key: it.req.IdempotencyKey}
		for _, cp := range it.caps {
			q.Since = append(q.Since, w.now.Add(-cp.Window))
		}
		items, qs = append(items, it), append(qs, q)
	}
	if len(items) == 0 {
		return
	}
	facts, err := s.store.SendFacts(ctx, qs, s.uncapped)
	if err != nil {
		w.fail(items, err)
		return
	}
	var finished, deferred, allowed, ready []*item
	for k, it := range items {
		f := facts[k]
		if f.ID == "" {
			w.errs[it.i] = &PermanentError{Type: TypeCustomerNotFound, Err: fmt.Errorf("customer %s: %w", it.req.CustomerID, store.ErrNotFound)}
			continue
		}
		it.cust, it.facts = f.Customer, f
		it.row = s.row(it.req, f.Customer)
		switch next := s.decide(it, f, w.now); next {
		case store.StatusSkipped:
			finished = append(finished, it)
		case Deferred:
			deferred = append(deferred, it)
		default:
			allowed = append(allowed, it)
		}
	}
	// Only a message that may go out now draws a pool's code, then renders.
	allowed, exhausted := w.drawCoupons(ctx, allowed)
	finished = append(finished, exhausted...)
	for _, it := range allowed {
		if s.render(it, w.now) {
			ready = append(ready, it)
		} else {
			finished = append(finished, it)
		}
	}
	w.finish(ctx, finished)
	w.deferUntil(ctx, deferred)
	w.deliver(ctx, ready)
}

// row is the ledger row a request will have.
func (s *Service) row(req Request, c store.Customer) store.Message {
	m := store.Message{
		ID: MessageID(req.IdempotencyKey), IdempotencyKey: req.IdempotencyKey, CustomerID: c.ID,
		Journey: req.Journey, Step: req.Step, Channel: req.Channel, Template: req.Template,
		Topic: req.Topic, Locale: c.Locale, Recipient: s.recipient(req, c),
	}
	if req.ToAddress != "" && !req.Seed && s.opt.DefaultLocale != "" {
		m.Locale = s.opt.DefaultLocale
	}
	return m
}

// decide applies the policy. It returns the ledger status the item ends
// with now (skipped), Deferred, or "" when it may go out now.
func (s *Service) decide(it *item, f store.SendFacts, now time.Time) string {
	reason := ""
	if it.row.Recipient == "" {
		reason = ReasonNoAddress
	} else {
		reason = s.refuse(it.req, it.topic, it.caps, f)
	}
	if reason != "" {
		it.row.Status, it.row.Reason = store.StatusSkipped, reason
		return store.StatusSkipped
	}
	if !it.topic.Transactional && !it.topic.IgnoreQuietHours && !it.req.IgnoreQuietHours && it.req.ToAddress == "" {
		if until := s.quiet.next(now, f.Location()); until.After(now) {
			it.until = until
			return Deferred
		}
	}
	return ""
}

// render renders the message, or marks it failed and reports false.
func (s *Service) render(it *item, now time.Time) bool {
	d := s.data(it.req, it.facts.Customer, it.row.ID, now)
	it.unsubscribe = d.Links.Unsubscribe
	r, err := s.renderer.Render(it.req.Template, it.row.Locale, it.req.Channel, d)
	if err != nil {
		err = fmt.Errorf("render %s (%s, %s): %w", it.req.Template, it.row.Locale, it.req.Channel, err)
		it.row.Status, it.row.Reason = store.StatusFailed, err.Error()
		it.err = &PermanentError{Type: TypeRenderFailed, Err: err}
		return false
	}
	it.r = r
	it.row.Locale, it.row.Segments = r.Locale, r.Segments
	s.track(it, it.facts)
	return true
}

// finish records final statuses decided without sending. A key that already
// had a row keeps its outcome (Duplicate), unless the row was left queued by
// a crashed attempt, which this decision now closes.
func (w *wave) finish(ctx context.Context, items []*item) {
	if len(items) == 0 {
		return
	}
	rows := make([]store.Message, len(items))
	for k, it := range items {
		rows[k] = it.row
	}
	got, created, err := w.svc.store.ReserveMessages(ctx, rows)
	if err != nil {
		w.fail(items, err)
		return
	}
	var closes []store.Completion
	for k, it := range items {
		if !created[k] && got[k].Status == store.StatusQueued {
			closes = append(closes, store.Completion{ID: got[k].ID, Outcome: store.Outcome{Status: it.row.Status, Reason: it.row.Reason}})
			created[k] = true
		}
	}
	if err := w.svc.store.CompleteMessages(ctx, closes); err != nil {
		w.fail(items, err)
		return
	}
	for k, it := range items {
		if !created[k] {
			w.results[it.i] = duplicate(got[k])
			continue
		}
		w.svc.log.InfoContext(ctx, "message not sent", "message_id", it.row.ID, "customer_id", it.row.CustomerID,
			"channel", it.row.Channel, "template", it.row.Template, "status", it.row.Status, "reason", it.row.Reason)
		w.results[it.i] = Result{Status: resultStatus(it.row.Status), Reason: it.row.Reason, MessageID: got[k].ID}
		w.errs[it.i] = it.err
	}
}

// deferUntil answers "not yet", unless the key was already settled.
func (w *wave) deferUntil(ctx context.Context, items []*item) {
	if len(items) == 0 {
		return
	}
	keys := make([]string, len(items))
	for k, it := range items {
		keys[k] = it.req.IdempotencyKey
	}
	existing, err := w.svc.store.MessagesByKey(ctx, keys)
	if err != nil {
		w.fail(items, err)
		return
	}
	for _, it := range items {
		if m, ok := existing[it.req.IdempotencyKey]; ok && m.Status != store.StatusQueued {
			w.results[it.i] = duplicate(m)
			continue
		}
		w.svc.log.InfoContext(ctx, "message deferred for quiet hours", "message_id", it.row.ID,
			"customer_id", it.row.CustomerID, "channel", it.row.Channel, "until", it.until)
		w.results[it.i] = Result{Status: Deferred, Reason: "quiet_hours", MessageID: it.row.ID, DeferUntil: it.until}
	}
}

// deliver reserves the ledger rows, hands the messages to their providers
// concurrently and records every outcome.
func (w *wave) deliver(ctx context.Context, items []*item) {
	if len(items) == 0 {
		return
	}
	s := w.svc
	rows := make([]store.Message, len(items))
	for k, it := range items {
		rows[k] = it.row
	}
	got, created, err := s.store.ReserveMessages(ctx, rows)
	if err != nil {
		w.fail(items, err)
		return
	}
	var sending []*item
	for k, it := range items {
		if !created[k] && got[k].Status != store.StatusQueued {
			w.results[it.i] = duplicate(got[k])
			continue
		}
		it.row = got[k]
		sending = append(sending, it)
	}
	if err := w.issueCoupons(ctx, sending); err != nil {
		// Nothing was handed over: the rows stay queued for the retry.
		w.fail(sending, err)
		return
	}
	w.ready()

	ids := make([]string, len(sending))
	errs := make([]error, len(sending))
	recorded := make([]error, len(sending))
	var wg sync.WaitGroup
	for k, it := range sending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[k], errs[k], recorded[k] = s.handOver(ctx, it)
		}()
	}
	wg.Wait()
	for k, it := range sending {
		if recorded[k] != nil {
			// The provider has the message; a retry finds the row queued and
			// sends again with the same Message-ID, which receivers
			// deduplicate.
			w.errs[it.i] = recorded[k]
			continue
		}
		w.results[it.i], w.errs[it.i] = s.outcome(ctx, it, ids[k], errs[k])
	}
}

// handOver gives one message to its provider and records what the provider
// said. At most InFlight emails (SMSConcurrency SMS) are ever accepted by
// their provider with their outcome not yet in the ledger, and those are all
// a crash can send twice: an SMS takes its slot before the request, an email
// just before its final dot (email.Message.Accept), so an SMTP connection
// goes through its next message's dialogue while the outcome of the one
// before is written, and only the relay's acceptance waits for it. The
// outcome is recorded even when the caller has given up meanwhile (a worker
// stopping mid-batch), since a row left queued would be sent again.
func (s *Service) handOver(ctx context.Context, it *item) (providerID string, err, recordErr error) {
	slot := &sendSlot{slots: s.mailSlots, channel: it.req.Channel, metrics: s.opt.Metrics}
	conns := s.mailConns
	if it.req.Channel == SMS {
		slot.slots, conns = s.smsSlots, nil
		if err := slot.take(ctx); err != nil {
			return "", err, nil
		}
	}
	defer slot.release()
	if conns != nil {
		// One dialogue per SMTP connection, so none waits for a
		// connection inside the relay's time.
		select {
		case conns <- struct{}{}:
		case <-ctx.Done():
			return "", ctx.Err(), nil
		}
	}
	start := time.Now()
	providerID, err = s.hand(ctx, it, slot.take)
	s.opt.Metrics.slot(it.req.Channel, slotRelay, start.Add(slot.waited))
	if conns != nil {
		<-conns
	}
	var o store.Outcome
	switch {
	case err == nil:
		o = store.Outcome{Status: store.StatusSent, ProviderMessageID: providerID, Segments: it.r.Segments}
	case isPermanent(err):
		o = store.Outcome{Status: store.StatusFailed, Reason: err.Error()}
	default:
		return providerID, err, nil // still queued: the retry sends it
	}
	if it.req.Channel == SMS {
		defer s.opt.Metrics.slot(it.req.Channel, slotRecord, time.Now())
	}
	return providerID, err, s.recorder.record(store.Completion{ID: it.row.ID, Outcome: o})
}

// sendSlot is one message's place among those a provider may accept with
// their outcome unrecorded. It is taken once and held until the outcome is
// written.
type sendSlot struct {
	slots   chan struct{}
	channel string
	metrics *Metrics
	held    bool
	// waited is how long an email's connection waited for the slot, time
	// it spent on the outcomes before its message rather than on the relay.
	waited time.Duration
}

func (sl *sendSlot) take(ctx context.Context) error {
	if sl.held {
		return nil
	}
	start := time.Now()
	select {
	case sl.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	sl.held = true
	if sl.channel == Email {
		sl.waited = time.Since(start)
		sl.metrics.slot(sl.channel, slotRecord, start)
	}
	return nil
}

func (sl *sendSlot) release() {
	if sl.held {
		<-sl.slots
	}
}

// outcome turns one provider answer into the caller's Result and error, and
// suppresses addresses that bounced hard.
func (s *Service) outcome(ctx context.Context, it *item, providerID string, err error) (Result, error) {
	m, req := it.row, it.req
	if err == nil {
		s.log.InfoContext(ctx, "message sent", "message_id", m.ID, "customer_id", m.CustomerID, "channel", req.Channel,
			"template", req.Template, "journey", req.Journey, "attempt", m.Attempts)
		return Result{Status: Sent, MessageID: m.ID}, nil
	}
	if !isPermanent(err) {
		if nerr := s.store.NoteAttemptError(ctx, m.ID, err.Error()); nerr != nil {
			s.log.WarnContext(ctx, "note attempt error", "message_id", m.ID, "error", nerr)
		}
		s.log.WarnContext(ctx, "send failed, will retry", "message_id", m.ID, "customer_id", m.CustomerID, "channel", req.Channel, "error", err)
		return Result{MessageID: m.ID}, fmt.Errorf("send %s message %s: %w", req.Channel, m.ID, err)
	}
	if why := suppressionFor(err); why != "" {
		if serr := s.store.Suppress(ctx, store.Suppression{Channel: req.Channel, Address: m.Recipient, Reason: why, Detail: err.Error()}); serr != nil {
			return Result{}, serr
		}
	}
	s.log.WarnContext(ctx, "message refused", "message_id", m.ID, "customer_id", m.CustomerID, "channel", req.Channel, "error", err)
	typ, ok := IsPermanent(err)
	if !ok {
		typ = TypeRejected
	}
	return Result{Status: Failed, Reason: err.Error(), MessageID: m.ID},
		&PermanentError{Type: typ, Err: fmt.Errorf("send %s message %s: %w", req.Channel, m.ID, err)}
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
		if req.Seed {
			d.Links = SeedLinks(s.opt.PublicURL, c.Locale)
		}
		return d // an internal alert or a seed must not carry the customer's links
	}
	year := now.AddDate(1, 0, 0)
	d.Links.Unsubscribe = s.link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: c.ID, Channel: req.Channel, Topic: req.Topic}, year)
	d.Links.Preferences = s.link("p", token.Claims{Purpose: token.Preferences, CustomerID: c.ID}, year)
	if kind, _ := d.Vars["survey"].(string); kind != "" {
		d.Links.Survey = s.link("s", token.Claims{Purpose: token.Survey, CustomerID: c.ID, MessageID: messageID, Survey: kind}, now.AddDate(0, 0, 30))
	}
	return d
}

// SeedPath is where the links of a seed test lead: a public page, per
// link kind, saying the message was a test and nothing changed.
const SeedPath = "/seed/"

// SeedLinks are a seed test's links, in the locale it was rendered in.
func SeedLinks(publicURL, locale string) templates.Links {
	q := "?lang=" + url.QueryEscape(locale)
	return templates.Links{
		Unsubscribe: publicURL + SeedPath + "unsubscribe" + q,
		Preferences: publicURL + SeedPath + "preferences" + q,
		Survey:      publicURL + SeedPath + "survey" + q,
	}
}

func (s *Service) link(path string, c token.Claims, expires time.Time) string {
	return s.opt.PublicURL + "/" + path + "/" + s.opt.Signer.Sign(c, expires)
}

// hand calls the channel's provider and returns the provider's message ID;
// accept is called just before the relay can take an email.
func (s *Service) hand(ctx context.Context, it *item, accept func(context.Context) error) (string, error) {
	req, c, m, r := it.req, it.cust, it.row, it.r
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
		IdempotencyKey: req.IdempotencyKey, LedgerID: m.ID, Accept: accept,
	}
	if req.ToAddress == "" {
		msg.ToName = names.Full(c.FirstName, c.LastName)
		if !it.topic.Transactional {
			msg.UnsubscribeURL = it.unsubscribe
			msg.UnsubscribeMailto = s.opt.UnsubscribeMailto
		}
	}
	return s.mailer.Send(ctx, msg)
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
