package bounces

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// mailgunWebhook is the body Mailgun posts for each event.
type mailgunWebhook struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData struct {
		ID        string  `json:"id"`
		Event     string  `json:"event"`
		Severity  string  `json:"severity"`
		Reason    string  `json:"reason"`
		Timestamp float64 `json:"timestamp"`
		Recipient string  `json:"recipient"`
		Message   struct {
			Headers map[string]string `json:"headers"`
		} `json:"message"`
		DeliveryStatus struct {
			Code        int    `json:"code"`
			Message     string `json:"message"`
			Description string `json:"description"`
		} `json:"delivery-status"`
		UserVariables map[string]any `json:"user-variables"`
	} `json:"event-data"`
}

// mailgunKinds is the feedback each Mailgun event reports; a failure is
// soft unless its severity is permanent. Other events are ignored.
var mailgunKinds = map[string]string{
	"failed":     store.FeedbackSoft,
	"complained": store.FeedbackComplaint,
	"delivered":  store.FeedbackDelivered,
}

// ParseMailgun verifies and reads a Mailgun webhook: the signature is the
// hex HMAC-SHA256, under the webhook signing key, of the timestamp and the
// token; the token is the receipt, so a replay changes nothing.
func ParseMailgun(body []byte, signingKey string, now time.Time, maxAge time.Duration) ([]Report, error) {
	var w mailgunWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: Mailgun webhook: %v", ErrMalformed, err)
	}
	sig := w.Signature
	mac := hmac.New(sha256.New, []byte(signingKey))
	mac.Write([]byte(sig.Timestamp + sig.Token))
	want := hex.EncodeToString(mac.Sum(nil))
	if signingKey == "" || sig.Token == "" || !hmac.Equal([]byte(want), []byte(strings.ToLower(sig.Signature))) {
		return nil, ErrSignature
	}
	if err := fresh(sig.Timestamp, now, maxAge); err != nil {
		return nil, err
	}
	e := w.EventData
	kind, ok := mailgunKinds[e.Event]
	if !ok {
		return nil, nil
	}
	if e.Event == "failed" && e.Severity == "permanent" {
		kind = store.FeedbackHard
	}
	ref := Ref{MessageID: e.Message.Headers["message-id"]}
	if id, ok := e.UserVariables["tidings_message_id"].(string); ok {
		ref.LedgerID = id
	}
	detail := strings.TrimSpace(fmt.Sprintf("%s %s %s", e.Event, e.Severity, e.Reason))
	if e.DeliveryStatus.Code != 0 {
		detail += fmt.Sprintf(": %d %s %s", e.DeliveryStatus.Code, e.DeliveryStatus.Message, e.DeliveryStatus.Description)
	}
	return []Report{{
		Ref: ref, Kind: kind, ReceiptID: sig.Token, Address: e.Recipient,
		Detail: strings.TrimSpace(detail), OccurredAt: time.Unix(int64(e.Timestamp), 0),
	}}, nil
}
