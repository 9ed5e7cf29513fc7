package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// Counts tallies what a batch of sends became.
type Counts struct {
	Sent     int `json:"sent"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
	Deferred int `json:"deferred"`
	// RetryAt is the earliest DeferUntil among deferred messages.
	RetryAt time.Time `json:"retry_at,omitempty"`
}

// Add folds other into c.
func (c *Counts) Add(other Counts) {
	c.Sent += other.Sent
	c.Skipped += other.Skipped
	c.Failed += other.Failed
	c.Deferred += other.Deferred
	c.RetryAt = earliest(c.RetryAt, other.RetryAt)
}

// earliest is the earlier of two times, a zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (c *Counts) record(r delivery.Result) {
	switch r.Status {
	case delivery.Sent:
		c.Sent++
	case delivery.Deferred:
		c.Add(Counts{Deferred: 1, RetryAt: r.DeferUntil})
	case delivery.Failed:
		c.Failed++
	default:
		c.Skipped++
	}
}

// progress is what a batch heartbeats: where it is and what it did so far.
// A retried attempt resumes from it instead of from the batch's start.
type progress[C any] struct {
	Cursor C      `json:"cursor"`
	Counts Counts `json:"counts"`
}

// resume returns the last heartbeated progress, or start on a first attempt.
func resume[C any](ctx context.Context, start C) progress[C] {
	p := progress[C]{Cursor: start}
	if activity.HasHeartbeatDetails(ctx) {
		var saved progress[C]
		if err := activity.GetHeartbeatDetails(ctx, &saved); err == nil {
			p = saved
		}
	}
	return p
}

// batchSender is a Sender that also takes a whole page at once, as
// delivery.Service does: one statement per stage for the page and its
// messages in flight together instead of one round trip after another.
type batchSender interface {
	SendBatch(ctx context.Context, reqs []delivery.Request) ([]delivery.Result, []error)
}

// sendEach sends one message per item, through SendBatch when the sender
// has it, and heartbeats the cursor. A message the provider refuses for good
// is counted and the batch goes on; any other error ends the attempt, and
// the retry resumes after the last item done in order (keys make the
// messages after it that did go out duplicates, not second sends).
func sendEach[T, C any](ctx context.Context, a *Activities, p *progress[C], items []T, next func(T) (delivery.Request, C)) error {
	reqs, curs := make([]delivery.Request, len(items)), make([]C, len(items))
	for i, it := range items {
		reqs[i], curs[i] = next(it)
	}
	bs, batched := a.sender.(batchSender)
	if !batched {
		for i, r := range reqs {
			res, err := a.SendMessage(ctx, r)
			if err := tally(ctx, &p.Counts, r, res, err); err != nil {
				return err
			}
			p.Cursor = curs[i]
			activity.RecordHeartbeat(ctx, *p)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if len(reqs) == 0 {
		return nil
	}
	hb := startHeartbeat(ctx, *p)
	defer hb.end()
	results, errs := bs.SendBatch(ctx, reqs)
	for i, r := range reqs {
		err := errs[i]
		if err != nil {
			err = sendErr(r.IdempotencyKey, err)
		}
		if err := tally(ctx, &p.Counts, r, results[i], err); err != nil {
			hb.set(*p)
			return err
		}
		p.Cursor = curs[i]
	}
	hb.set(*p)
	return stopping(ctx)
}

// tally counts one send's outcome; it returns the error that must end the
// attempt (temporary trouble), or nil.
func tally(ctx context.Context, c *Counts, r delivery.Request, res delivery.Result, err error) error {
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		c.record(res)
	case errors.As(err, &appErr) && appErr.NonRetryable():
		activity.GetLogger(ctx).Warn("message refused", "key", r.IdempotencyKey, "error", err)
		c.Failed++
	default:
		return err
	}
	return nil
}

// BirthdayBatchInput asks for one page of a date sweep's greetings
// (birthdays, purchase anniversaries).
type BirthdayBatchInput struct {
	// At is the sweep's instant; each customer's local date and time at At
	// decide whether it is their birthday and whether it is late enough.
	At time.Time `json:"at"`
	// SendMinute is the local time of day greetings start (540 = 09:00).
	SendMinute      int `json:"send_minute"`
	DiscountPercent int `json:"discount_percent"`
	// CouponPool, when set, names the imported pool each greeting draws its
	// code from (the send path draws it and stores it against the message);
	// otherwise the code is derived from the greeting's key.
	CouponPool string               `json:"coupon_pool,omitempty"`
	Cursor     store.BirthdayCursor `json:"cursor"`
	BatchSize  int                  `json:"batch_size"`
}

// BirthdayBatchResult is where the next page starts and what this one did.
type BirthdayBatchResult struct {
	Cursor store.BirthdayCursor `json:"cursor"`
	Done   bool                 `json:"done"`
	Counts Counts               `json:"counts"`
}

// BirthdayJourney and AnniversaryJourney are the journey names of the date
// sweeps in the ledger; their keys are <journey>/<customer>/<local year>.
const (
	BirthdayJourney    = "birthday"
	AnniversaryJourney = "anniversary"
)

// BirthdayBatch greets one page of customers whose birthday it is. Each
// greeting's key is birthday/<customer>/<year>, so a second sweep, a retry
// or a crash greets nobody twice, and the coupon is derived from the same
// key, so it is unique to customer and year.
func (a *Activities) BirthdayBatch(ctx context.Context, in BirthdayBatchInput) (BirthdayBatchResult, error) {
	return a.dateBatch(ctx, in, occasion{journey: BirthdayJourney, template: "birthday", coupon: "BDAY", page: a.store.BirthdayPage})
}

// AnniversaryBatch thanks one page of customers on the anniversary of their
// first purchase, as BirthdayBatch greets birthdays: keys
// anniversary/<customer>/<year>, a coupon unique to both.
func (a *Activities) AnniversaryBatch(ctx context.Context, in BirthdayBatchInput) (BirthdayBatchResult, error) {
	return a.dateBatch(ctx, in, occasion{journey: AnniversaryJourney, template: "anniversary", coupon: "THANKS", page: a.store.AnniversaryPage,
		vars: func(c store.BirthdayCandidate) map[string]any {
			return map[string]any{"years": c.Years, "first_anniversary": c.Years == 1}
		}})
}

// occasion is what a date sweep sends: to whom (page), under which journey
// and template, with which coupon prefix and extra template variables.
type occasion struct {
	journey, template, coupon string
	page                      func(context.Context, store.BirthdayQuery) ([]store.BirthdayCandidate, error)
	vars                      func(store.BirthdayCandidate) map[string]any
}

func (a *Activities) dateBatch(ctx context.Context, in BirthdayBatchInput, o occasion) (BirthdayBatchResult, error) {
	if in.BatchSize <= 0 {
		return BirthdayBatchResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("batch_size %d must be positive", in.BatchSize))
	}
	p := resume(ctx, in.Cursor)
	page, err := o.page(ctx, store.BirthdayQuery{
		At: in.At, SendMinute: in.SendMinute, KeyPrefix: o.journey + "/", After: p.Cursor, Limit: in.BatchSize,
	})
	if err != nil {
		return BirthdayBatchResult{}, err
	}
	err = sendEach(ctx, a, &p, page, func(c store.BirthdayCandidate) (delivery.Request, store.BirthdayCursor) {
		key := fmt.Sprintf("%s/%s/%d", o.journey, c.ID, c.LocalYear)
		data := a.couponVars(in.CouponPool, o.coupon, key, in.DiscountPercent)
		if o.vars != nil {
			maps.Copy(data, o.vars(c))
		}
		return delivery.Request{
			CustomerID: c.ID, Journey: o.journey, Step: "greeting", Channel: delivery.Email,
			Template: o.template, Topic: "marketing", IdempotencyKey: key, Data: data,
		}, store.BirthdayCursor{MonthDay: c.MonthDay, ID: c.ID}
	})
	if err != nil {
		return BirthdayBatchResult{}, err
	}
	return BirthdayBatchResult{Cursor: p.Cursor, Done: len(page) < in.BatchSize, Counts: p.Counts}, nil
}

// LapsedInput asks for one page of customers due a win-back.
type LapsedInput struct {
	Journey string    `json:"journey"`
	At      time.Time `json:"at"`
	// LapsedAfter: no purchase for this long makes a customer lapsed.
	LapsedAfter time.Duration `json:"lapsed_after"`
	// Cooldown: a win-back that started within it rules a customer out.
	Cooldown  time.Duration `json:"cooldown"`
	After     string        `json:"after,omitempty"`
	BatchSize int           `json:"batch_size"`
}

// LapsedResult lists the page's customer IDs.
type LapsedResult struct {
	CustomerIDs []string `json:"customer_ids"`
	Done        bool     `json:"done"`
}

// LapsedCustomers pages the win-back audience. It only reads: each started
// journey claims its own run, so the 180-day rule holds however the journey
// was started.
func (a *Activities) LapsedCustomers(ctx context.Context, in LapsedInput) (LapsedResult, error) {
	if in.BatchSize <= 0 {
		return LapsedResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("batch_size %d must be positive", in.BatchSize))
	}
	ids, err := a.store.LapsedCustomers(ctx, store.LapsedQuery{
		Journey: in.Journey, LastPurchaseBefore: in.At.Add(-in.LapsedAfter), NoRunSince: in.At.Add(-in.Cooldown),
		After: in.After, Limit: in.BatchSize,
	})
	if err != nil {
		return LapsedResult{}, err
	}
	return LapsedResult{CustomerIDs: ids, Done: len(ids) < in.BatchSize}, nil
}

// CareBatchInput asks for one page of a care send.
type CareBatchInput struct {
	// RunKey identifies the run: keys are care/<run key>/<customer>, so a
	// re-triggered run sends nothing twice.
	RunKey   string `json:"run_key"`
	Template string `json:"template"`
	Topic    string `json:"topic"`
	Channel  string `json:"channel"`
	Tag      string `json:"tag,omitempty"`
	// Segment, instead of Tag, names a saved segment as the audience; its
	// relative conditions are evaluated as of At, the run's start, so every
	// page sees the same audience.
	Segment string         `json:"segment,omitempty"`
	At      time.Time      `json:"at,omitzero"`
	Data    map[string]any `json:"data,omitempty"`
	Cursor  string         `json:"cursor,omitempty"`
	// BatchSize is the page size.
	BatchSize int `json:"batch_size"`
}

// CareBatchResult is where the next page starts and what this one did.
type CareBatchResult struct {
	Cursor string `json:"cursor"`
	Done   bool   `json:"done"`
	Counts Counts `json:"counts"`
}

// CareJourney is the journey name care sends carry in the ledger.
const CareJourney = "care"

// CarePagesPerCall is how many pages one CareBatch call sends before it
// hands its cursor back to the workflow. Each page heartbeats its cursor,
// so a retry resumes after the last page done; the workflow task between
// calls (about 10 ms, with the SMTP connections idle) comes every few
// thousand customers instead of every page.
const CarePagesPerCall = 4

// CareBatch sends the next pages of a care message, up to
// CarePagesPerCall. Customers with a final ledger row for this run are
// left out by the query itself, so a second pass (after quiet-hour
// deferrals) only visits those still due.
func (a *Activities) CareBatch(ctx context.Context, in CareBatchInput) (CareBatchResult, error) {
	if in.BatchSize <= 0 || in.RunKey == "" || in.Template == "" {
		return CareBatchResult{}, nonRetryable(ErrInvalidInput,
			fmt.Errorf("care batch needs run_key, template and a positive batch_size, got %q, %q, %d", in.RunKey, in.Template, in.BatchSize))
	}
	prefix := careKeyPrefix(in.RunKey)
	p := resume(ctx, in.Cursor)
	for page := 1; ; page++ {
		ids, err := a.carePage(ctx, in, prefix, p.Cursor)
		if err != nil {
			return CareBatchResult{}, err
		}
		err = sendEach(ctx, a, &p, ids, func(id string) (delivery.Request, string) {
			return delivery.Request{
				CustomerID: id, Journey: CareJourney, Step: in.Template, Channel: in.Channel,
				Template: in.Template, Topic: in.Topic, Data: in.Data, IdempotencyKey: prefix + id,
			}, id
		})
		if err != nil {
			return CareBatchResult{}, err
		}
		if done := len(ids) < in.BatchSize; done || page == CarePagesPerCall {
			return CareBatchResult{Cursor: p.Cursor, Done: done, Counts: p.Counts}, nil
		}
	}
}

// carePage is the next page of a care run's audience: a saved segment's
// members, or every customer (or those with the tag) still due this run.
// A segment page includes customers already done; their keys answer with
// the earlier outcome instead of a second message.
func (a *Activities) carePage(ctx context.Context, in CareBatchInput, prefix, after string) ([]string, error) {
	if in.Segment == "" {
		return a.store.AudiencePage(ctx, store.AudienceQuery{Tag: in.Tag, KeyPrefix: prefix, After: after, Limit: in.BatchSize})
	}
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	ids, err := a.store.SegmentPage(ctx, in.Segment, at, after, in.BatchSize)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nonRetryable(ErrInvalidInput, fmt.Errorf("care audience: %w", err))
	}
	return ids, err
}

// CareTallyInput names a care run and its audience.
type CareTallyInput struct {
	RunKey string `json:"run_key"`
	Tag    string `json:"tag,omitempty"`
	// Since is when the run started: messages an earlier run with the same
	// key sent are not this run's.
	Since time.Time `json:"since"`
}

// CareTally counts a care run's messages from the ledger. Batches count what
// they did, but an attempt cut short by a crash loses its count with it;
// the ledger holds every message the run handled, once.
func (a *Activities) CareTally(ctx context.Context, in CareTallyInput) (Counts, error) {
	if in.RunKey == "" {
		return Counts{}, nonRetryable(ErrInvalidInput, errors.New("care tally needs a run_key"))
	}
	by, err := a.store.AudienceTally(ctx, store.AudienceQuery{Tag: in.Tag, KeyPrefix: careKeyPrefix(in.RunKey), Since: in.Since})
	if err != nil {
		return Counts{}, err
	}
	return Counts{Sent: by[store.StatusSent], Skipped: by[store.StatusSkipped], Failed: by[store.StatusFailed]}, nil
}

// careKeyPrefix is the idempotency-key prefix of a care run's messages.
func careKeyPrefix(runKey string) string { return CareJourney + "/" + runKey + "/" }
