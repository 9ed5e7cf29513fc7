package activities

import (
	"context"
	"errors"
	"fmt"
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
	if !other.RetryAt.IsZero() && (c.RetryAt.IsZero() || other.RetryAt.Before(c.RetryAt)) {
		c.RetryAt = other.RetryAt
	}
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

// sendEach sends one message per item, heartbeating the cursor after each.
// A message the provider refuses for good is counted and the batch goes on;
// any other error ends the attempt, and the retry resumes after the last
// item done.
func sendEach[T, C any](ctx context.Context, a *Activities, p *progress[C], items []T, next func(T) (delivery.Request, C)) error {
	for _, it := range items {
		r, cur := next(it)
		res, err := a.SendMessage(ctx, r)
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
			p.Counts.record(res)
		case errors.As(err, &appErr) && appErr.NonRetryable():
			activity.GetLogger(ctx).Warn("message refused", "key", r.IdempotencyKey, "error", err)
			p.Counts.Failed++
		default:
			return err
		}
		p.Cursor = cur
		activity.RecordHeartbeat(ctx, *p)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// BirthdayBatchInput asks for one page of birthday greetings.
type BirthdayBatchInput struct {
	// At is the sweep's instant; each customer's local date and time at At
	// decide whether it is their birthday and whether it is late enough.
	At time.Time `json:"at"`
	// SendMinute is the local time of day greetings start (540 = 09:00).
	SendMinute      int                  `json:"send_minute"`
	DiscountPercent int                  `json:"discount_percent"`
	Cursor          store.BirthdayCursor `json:"cursor"`
	BatchSize       int                  `json:"batch_size"`
}

// BirthdayBatchResult is where the next page starts and what this one did.
type BirthdayBatchResult struct {
	Cursor store.BirthdayCursor `json:"cursor"`
	Done   bool                 `json:"done"`
	Counts Counts               `json:"counts"`
}

// BirthdayJourney is the journey name in the ledger; its keys are
// birthday/<customer>/<local year>.
const BirthdayJourney = "birthday"

// BirthdayBatch greets one page of customers whose birthday it is. Each
// greeting's key is birthday/<customer>/<year>, so a second sweep, a retry
// or a crash greets nobody twice, and the coupon is derived from the same
// key, so it is unique to customer and year.
func (a *Activities) BirthdayBatch(ctx context.Context, in BirthdayBatchInput) (BirthdayBatchResult, error) {
	if in.BatchSize <= 0 {
		return BirthdayBatchResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("batch_size %d must be positive", in.BatchSize))
	}
	p := resume(ctx, in.Cursor)
	page, err := a.store.BirthdayPage(ctx, store.BirthdayQuery{
		At: in.At, SendMinute: in.SendMinute, KeyPrefix: BirthdayJourney + "/", After: p.Cursor, Limit: in.BatchSize,
	})
	if err != nil {
		return BirthdayBatchResult{}, err
	}
	err = sendEach(ctx, a, &p, page, func(c store.BirthdayCandidate) (delivery.Request, store.BirthdayCursor) {
		key := fmt.Sprintf("%s/%s/%d", BirthdayJourney, c.ID, c.LocalYear)
		return delivery.Request{
			CustomerID: c.ID, Journey: BirthdayJourney, Step: "greeting", Channel: delivery.Email,
			Template: "birthday", Topic: "marketing", IdempotencyKey: key,
			Data: map[string]any{"coupon": a.coupon("BDAY", key), "discount_percent": in.DiscountPercent},
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
	RunKey   string         `json:"run_key"`
	Template string         `json:"template"`
	Topic    string         `json:"topic"`
	Channel  string         `json:"channel"`
	Tag      string         `json:"tag,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	Cursor   string         `json:"cursor,omitempty"`
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

// CareBatch sends one page of a care message. Customers with a final ledger
// row for this run are left out by the query itself, so a second pass (after
// quiet-hour deferrals) only visits those still due.
func (a *Activities) CareBatch(ctx context.Context, in CareBatchInput) (CareBatchResult, error) {
	if in.BatchSize <= 0 || in.RunKey == "" || in.Template == "" {
		return CareBatchResult{}, nonRetryable(ErrInvalidInput,
			fmt.Errorf("care batch needs run_key, template and a positive batch_size, got %q, %q, %d", in.RunKey, in.Template, in.BatchSize))
	}
	prefix := CareJourney + "/" + in.RunKey + "/"
	p := resume(ctx, in.Cursor)
	ids, err := a.store.AudiencePage(ctx, store.AudienceQuery{Tag: in.Tag, KeyPrefix: prefix, After: p.Cursor, Limit: in.BatchSize})
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
	return CareBatchResult{Cursor: p.Cursor, Done: len(ids) < in.BatchSize, Counts: p.Counts}, nil
}
