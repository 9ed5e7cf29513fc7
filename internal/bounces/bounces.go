// Package bounces reads what mail relays, SMS carriers and bounce mailboxes
// report after a message was accepted, in each provider's own format, with
// each provider's own signature checked, and records it: the outcome on the
// ledger row, hard bounces, complaints and repeated soft bounces on the
// suppression list, and a complaint's withdrawal of marketing consent.
//
// Providers: Amazon SES through SNS (sns.go), SendGrid's event webhook
// (sendgrid.go), Mailgun (mailgun.go), Postmark (postmark.go), a documented
// generic JSON form (generic.go) and RFC 3464 delivery status notifications
// (dsn.go), posted raw or read from a mailbox.
package bounces

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
)

// Report is one provider's statement about one message.
type Report struct {
	// Ref says which message it is about, in whatever the provider knows.
	Ref Ref
	// Kind is a store.Feedback* kind.
	Kind string
	// ReceiptID is the provider's ID of this notification (replays of it
	// change nothing).
	ReceiptID string
	// Address is the recipient the report is about, when it says.
	Address string
	Detail  string
	// Suppress, when set, suppresses the address for this reason (hard
	// bounces and complaints always are).
	Suppress   string
	OccurredAt time.Time
}

// Ref names a message the ways providers can: the ledger ID (our
// X-Tidings-Message-ID header, a VERP address, custom arguments), the
// provider's own message ID or the Message-ID header.
type Ref struct {
	LedgerID   string
	ProviderID string
	MessageID  string
	// Recipient, with At, is the last resort: the newest message sent to
	// that address in the days before (providers whose reports carry no ID
	// of ours).
	Recipient string
	At        time.Time
}

// Errors the receivers return; callers answer them with 4xx.
var (
	// ErrSignature: the request is not signed by the provider.
	ErrSignature = errors.New("signature does not verify")
	// ErrStale: the signed timestamp is outside the accepted window.
	ErrStale = errors.New("signed timestamp is too old or in the future")
	// ErrMalformed: the body is not what the provider sends.
	ErrMalformed = errors.New("malformed notification")
)

// Store is what recording needs; *store.Store implements it.
type Store interface {
	RecordFeedback(ctx context.Context, fs []store.Feedback, soft store.SoftBouncePolicy) ([]store.FeedbackResult, error)
	MessageIDByProviderID(ctx context.Context, providerID string) (string, error)
	MessageByID(ctx context.Context, id string) (store.Message, error)
	LatestMessageTo(ctx context.Context, channel, address string, at time.Time, window time.Duration) (string, error)
}

// Recorder turns reports into ledger outcomes and suppressions.
type Recorder struct {
	store Store
	soft  store.SoftBouncePolicy
}

// NewRecorder returns a Recorder that suppresses after soft.Max soft bounces
// within soft.Window.
func NewRecorder(st Store, soft store.SoftBouncePolicy) *Recorder {
	return &Recorder{store: st, soft: soft}
}

// Outcome says what a batch of reports did.
type Outcome struct {
	// Recorded reports changed something; Duplicates were seen before;
	// Unknown named no message of ours and were left alone.
	Recorded   int `json:"recorded"`
	Duplicates int `json:"duplicates"`
	Unknown    int `json:"unknown"`
	// Suppressed lists the reasons of addresses put on the list now.
	Suppressed       []string `json:"suppressed,omitempty"`
	ConsentWithdrawn int      `json:"consent_withdrawn,omitempty"`
}

// recipientWindow is how far back a report that names only its recipient
// looks for the message.
const recipientWindow = 3 * 24 * time.Hour

// Record resolves each report's message and records the known ones in one
// transaction. Reports naming no message of ours are counted as Unknown and
// change nothing.
func (r *Recorder) Record(ctx context.Context, provider, channel string, reports []Report) (Outcome, error) {
	var out Outcome
	var fs []store.Feedback
	for _, rep := range reports {
		id, err := r.resolve(ctx, channel, rep.Ref)
		if errors.Is(err, store.ErrNotFound) {
			out.Unknown++
			continue
		}
		if err != nil {
			return out, err
		}
		fs = append(fs, store.Feedback{
			MessageID: id, Kind: rep.Kind, Provider: provider, ReceiptID: rep.ReceiptID,
			Address: rep.Address, Detail: rep.Detail, Suppress: rep.Suppress, OccurredAt: rep.OccurredAt,
		})
	}
	if len(fs) == 0 {
		return out, nil
	}
	res, err := r.store.RecordFeedback(ctx, fs, r.soft)
	if err != nil {
		return out, err
	}
	for _, x := range res {
		switch {
		case x.Duplicate:
			out.Duplicates++
			continue
		case x.Suppressed != "":
			out.Suppressed = append(out.Suppressed, x.Suppressed)
		}
		if x.ConsentWithdrawn {
			out.ConsentWithdrawn++
		}
		out.Recorded++
	}
	return out, nil
}

// resolve finds the ledger row a reference names.
func (r *Recorder) resolve(ctx context.Context, channel string, ref Ref) (string, error) {
	if _, err := uuid.Parse(ref.LedgerID); err == nil {
		m, err := r.store.MessageByID(ctx, ref.LedgerID)
		if err == nil {
			return m.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	for _, pid := range []string{ref.ProviderID, ref.MessageID} {
		if pid == "" {
			continue
		}
		id, err := r.store.MessageIDByProviderID(ctx, pid)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return id, err
		}
	}
	if ref.Recipient != "" {
		at := ref.At
		if at.IsZero() {
			at = time.Now()
		}
		return r.store.LatestMessageTo(ctx, channel, ref.Recipient, at, recipientWindow)
	}
	return "", fmt.Errorf("report names no message: %w", store.ErrNotFound)
}
