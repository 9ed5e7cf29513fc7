package bounces

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// SendGrid's signed event webhook headers.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// ParseSendGridKey reads the verification key SendGrid shows for a signed
// event webhook: a base64 DER public key (ECDSA P-256).
func ParseSendGridKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("sendgrid verification key is not base64: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid verification key: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("sendgrid verification key is not an ECDSA key")
	}
	return pub, nil
}

// VerifySendGrid checks the ECDSA signature SendGrid makes over the
// timestamp header followed by the raw body, and that the timestamp is
// within maxAge of now.
func VerifySendGrid(pub *ecdsa.PublicKey, signature, timestamp string, body []byte, now time.Time, maxAge time.Duration) error {
	if err := fresh(timestamp, now, maxAge); err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || pub == nil {
		return ErrSignature
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(pub, h.Sum(nil), sig) {
		return ErrSignature
	}
	return nil
}

// fresh checks a Unix-seconds timestamp against the accepted window.
func fresh(ts string, now time.Time, maxAge time.Duration) error {
	secs, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrSignature, ts)
	}
	at := time.Unix(secs, 0)
	if now.Sub(at) > maxAge || at.Sub(now) > 5*time.Minute {
		return ErrStale
	}
	return nil
}

// sendGridEvent is one event of SendGrid's event webhook.
type sendGridEvent struct {
	Email            string `json:"email"`
	Timestamp        int64  `json:"timestamp"`
	Event            string `json:"event"`
	Type             string `json:"type"`
	Reason           string `json:"reason"`
	Status           string `json:"status"`
	SGEventID        string `json:"sg_event_id"`
	SGMessageID      string `json:"sg_message_id"`
	SMTPID           string `json:"smtp-id"`
	TidingsMessageID string `json:"tidings_message_id"`
}

// sendGridKinds is the feedback each SendGrid event reports; a "blocked"
// bounce is soft. Other events (opens, clicks, processed) are ignored.
var sendGridKinds = map[string]string{
	"bounce":     store.FeedbackHard,
	"deferred":   store.FeedbackSoft,
	"spamreport": store.FeedbackComplaint,
	"delivered":  store.FeedbackDelivered,
}

// ParseSendGrid reads an event webhook body (a JSON array). A bounce is
// hard, a "blocked" bounce and a deferral soft, a spam report a complaint;
// the ledger ID comes from the custom argument tidings_message_id when the
// sender set one, the message from smtp-id (the Message-ID) otherwise.
func ParseSendGrid(body []byte) ([]Report, error) {
	var evs []sendGridEvent
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("%w: SendGrid events: %v", ErrMalformed, err)
	}
	var out []Report
	for _, e := range evs {
		kind, ok := sendGridKinds[e.Event]
		if !ok {
			continue
		}
		if e.Event == "bounce" && e.Type == "blocked" {
			kind = store.FeedbackSoft
		}
		if e.SGEventID == "" {
			return nil, fmt.Errorf("%w: SendGrid event without sg_event_id", ErrMalformed)
		}
		pid, _, _ := strings.Cut(e.SGMessageID, ".")
		out = append(out, Report{
			Ref:  Ref{LedgerID: e.TidingsMessageID, ProviderID: pid, MessageID: e.SMTPID},
			Kind: kind, ReceiptID: e.SGEventID, Address: e.Email,
			Detail:     strings.TrimSpace(e.Event + " " + e.Status + " " + e.Reason),
			OccurredAt: time.Unix(e.Timestamp, 0),
		})
	}
	return out, nil
}
