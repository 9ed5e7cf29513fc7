// Package activities holds everything journeys do outside the workflow
// sandbox: loading a customer's time zone and consent, claiming journey runs,
// sending through the one send path, recording conversions and paging sweep
// audiences. Workflows call these methods by reference; the worker registers
// one *Activities built from its dependencies.
package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// Store is what the journeys need of the system of record.
type Store interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	ConsentStatus(ctx context.Context, customerID, channel, topic string) (string, error)
	CustomerEvents(ctx context.Context, customerID, typ string, since time.Time, limit int) ([]store.Event, error)
	CustomerEvent(ctx context.Context, customerID, eventID string) (store.Event, error)
	SurveyResponses(ctx context.Context, customerID string) ([]store.SurveyResponse, error)
	ClaimJourneyRun(ctx context.Context, r store.JourneyRun, window time.Duration) (bool, error)
	FinishJourneyRun(ctx context.Context, journey, runID, outcome string, at time.Time) error
	RecordConversion(ctx context.Context, c store.Conversion) error
	AddCustomerTag(ctx context.Context, customerID, tag string) error
	BirthdayPage(ctx context.Context, q store.BirthdayQuery) ([]store.BirthdayCandidate, error)
	AnniversaryPage(ctx context.Context, q store.BirthdayQuery) ([]store.BirthdayCandidate, error)
	LapsedCustomers(ctx context.Context, q store.LapsedQuery) ([]string, error)
	AudiencePage(ctx context.Context, q store.AudienceQuery) ([]string, error)
	AudienceTally(ctx context.Context, q store.AudienceQuery) (map[string]int, error)
	SegmentPage(ctx context.Context, name string, at time.Time, after string, limit int) ([]string, error)
}

// Sender is the one send path (delivery.Service): consent, suppression,
// caps, quiet hours, ledger and provider, in that order.
type Sender interface {
	Send(ctx context.Context, r delivery.Request) (delivery.Result, error)
}

// Settings are the few configured values journeys act on.
type Settings struct {
	// CareTeamEmail receives detractor alerts.
	CareTeamEmail string
	// CareWebhookURL, when set, also receives each detractor alert as JSON.
	CareWebhookURL string
	// ReviewURL is where promoters are asked to leave a review; empty means
	// promoters get the plain thank-you.
	ReviewURL string
	// CouponSecret keys coupon codes, so a code cannot be guessed from the
	// customer ID and is the same however often it is derived.
	CouponSecret []byte
}

// Activities is registered with the worker once; its methods are the
// journeys' activities.
type Activities struct {
	store     Store
	sender    Sender
	http      *http.Client
	settings  Settings
	audiences AudienceRecorder
	funnels   FunnelKeeper
}

// New builds the activities from their dependencies. hc posts care-team
// webhooks; nil means a client with a 10-second timeout.
func New(s Store, sender Sender, hc *http.Client, settings Settings) *Activities {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Activities{store: s, sender: sender, http: hc, settings: settings}
}

// Non-retryable error types. Workflows match them with
// temporal.ApplicationError.Type(); retrying would not change the answer.
// A permanent refusal by the send path keeps delivery's own type name
// (delivery.TypeRejected, TypeRenderFailed, ...).
const (
	// ErrCustomerNotFound: the customer was deleted; the journey ends.
	ErrCustomerNotFound = "CustomerNotFound"
	// ErrInvalidInput: the activity was called with input it cannot act on.
	ErrInvalidInput = "InvalidInput"
	// ErrWebhookRejected: the care webhook answered 4xx (other than 408/429).
	ErrWebhookRejected = "WebhookRejected"
	// ErrProviderBusy is retryable: the provider asked to be called again
	// after a delay, which the next attempt honours.
	ErrProviderBusy = "ProviderBusy"
)

// nonRetryable wraps err so Temporal stops retrying it.
func nonRetryable(kind string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), kind, err)
}

// storeErr turns a missing customer into a non-retryable error and leaves
// everything else (connection trouble) to the retry policy.
func storeErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nonRetryable(ErrCustomerNotFound, err)
	}
	return err
}

// ProfileInput names the customer and the topic whose SMS consent matters.
type ProfileInput struct {
	CustomerID string `json:"customer_id"`
	SMSTopic   string `json:"sms_topic,omitempty"`
}

// ProfileResult is what a journey may know of a customer: no contact details.
type ProfileResult struct {
	TimeZone string `json:"time_zone"`
	Locale   string `json:"locale"`
	// SMSConsent is true when the customer granted SMS for SMSTopic and has a
	// phone number.
	SMSConsent bool `json:"sms_consent"`
}

// LoadProfile reads the customer's time zone, locale and SMS consent, so a
// workflow can schedule in local time and pick a channel without ever
// holding an address.
func (a *Activities) LoadProfile(ctx context.Context, in ProfileInput) (ProfileResult, error) {
	c, err := a.store.Customer(ctx, in.CustomerID)
	if err != nil {
		return ProfileResult{}, storeErr(err)
	}
	out := ProfileResult{TimeZone: c.TimeZone, Locale: c.Locale}
	if in.SMSTopic != "" && c.Phone != "" {
		st, err := a.store.ConsentStatus(ctx, c.ID, delivery.SMS, in.SMSTopic)
		if err != nil {
			return ProfileResult{}, err
		}
		out.SMSConsent = st == store.Granted
	}
	return out, nil
}

// SendMessage hands one message to the send path. A permanent refusal
// becomes a non-retryable error; a Deferred result is returned as is, and the
// workflow waits with a durable timer until DeferUntil.
func (a *Activities) SendMessage(ctx context.Context, r delivery.Request) (delivery.Result, error) {
	if r.CustomerID == "" || r.Template == "" || r.IdempotencyKey == "" {
		return delivery.Result{}, nonRetryable(ErrInvalidInput,
			fmt.Errorf("send request needs customer_id, template and idempotency_key, got %q, %q, %q", r.CustomerID, r.Template, r.IdempotencyKey))
	}
	res, err := a.sender.Send(ctx, r)
	if err != nil {
		return delivery.Result{}, sendErr(r.IdempotencyKey, err)
	}
	return res, nil
}

// sendErr classifies a send-path error: a missing customer or a permanent
// refusal (delivery.PermanentError, whose Type becomes the application error
// type) stops retries; anything else is left to the retry policy.
func sendErr(key string, err error) error {
	err = fmt.Errorf("send %s: %w", key, err)
	typ, permanent := delivery.IsPermanent(err)
	switch {
	case typ == delivery.TypeCustomerNotFound || errors.Is(err, store.ErrNotFound):
		return nonRetryable(ErrCustomerNotFound, err)
	case permanent:
		return nonRetryable(typ, err)
	}
	if wait := delivery.RetryAfter(err); wait > 0 {
		// The provider said when to come back (HTTP 429 Retry-After):
		// the next attempt waits that long instead of the backoff's guess.
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrProviderBusy,
			temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: wait})
	}
	return err
}

// CouponInput names what a coupon is for: a business key such as
// "winback/<customer>/<run>/offer".
type CouponInput struct {
	Key    string `json:"key"`
	Prefix string `json:"prefix"`
}

// CouponResult carries the code.
type CouponResult struct {
	Code string `json:"code"`
}

// IssueCoupon derives the coupon code for a key. The same key always gives
// the same code, so a retried step or a replayed sweep hands out one code.
func (a *Activities) IssueCoupon(_ context.Context, in CouponInput) (CouponResult, error) {
	if in.Key == "" {
		return CouponResult{}, nonRetryable(ErrInvalidInput, errors.New("coupon key is empty"))
	}
	return CouponResult{Code: a.coupon(in.Prefix, in.Key)}, nil
}

// couponVars are the template variables of a message with a coupon: a code
// of the pool, drawn by the send path for the message, when a pool is
// named; otherwise the code derived for the key.
func (a *Activities) couponVars(pool, prefix, key string, percent int) map[string]any {
	if pool != "" {
		return map[string]any{delivery.VarCouponPool: pool, delivery.VarDiscount: percent}
	}
	return map[string]any{delivery.VarCoupon: a.coupon(prefix, key), delivery.VarDiscount: percent}
}

// coupon is the code delivery.CouponCode derives for the key; the send
// path stores it with the message that carries it.
func (a *Activities) coupon(prefix, key string) string {
	return delivery.CouponCode(a.settings.CouponSecret, prefix, key)
}
