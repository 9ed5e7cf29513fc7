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

// GenericSignatureHeader carries the signature of the generic form:
// "t=UNIX_SECONDS,v1=HEX", v1 being the HMAC-SHA256 under the shared secret
// of "UNIX_SECONDS." followed by the raw body.
const GenericSignatureHeader = "X-Tidings-Signature"

// GenericReport is one report in the generic JSON form, for relays and
// in-house systems without a receiver of their own.
type GenericReport struct {
	// EventID is the sender's unique ID of this report (required).
	EventID string `json:"event_id"`
	// Type is hard_bounce, soft_bounce, complaint, delivered, undelivered
	// or failed.
	Type string `json:"type"`
	// MessageID is the ledger ID (the X-Tidings-Message-ID header);
	// ProviderMessageID the relay's ID or the Message-ID header. One of
	// them, or Recipient, is required.
	MessageID         string    `json:"message_id,omitempty"`
	ProviderMessageID string    `json:"provider_message_id,omitempty"`
	Recipient         string    `json:"recipient,omitempty"`
	Detail            string    `json:"detail,omitempty"`
	OccurredAt        time.Time `json:"occurred_at,omitzero"`
}

var genericKinds = map[string]string{
	"hard_bounce": store.FeedbackHard, "soft_bounce": store.FeedbackSoft, "complaint": store.FeedbackComplaint,
	"delivered": store.FeedbackDelivered, "undelivered": store.FeedbackUndelivered, "failed": store.FeedbackFailed,
}

// SignGeneric returns the signature header value for body at t, as a sender
// of the generic form computes it.
func SignGeneric(secret string, t time.Time, body []byte) string {
	ts := fmt.Sprint(t.Unix())
	return "t=" + ts + ",v1=" + genericMAC(secret, ts, body)
}

func genericMAC(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// ParseGeneric verifies and reads a generic report body: {"reports": [...]}.
func ParseGeneric(body []byte, header, secret string, now time.Time, maxAge time.Duration) ([]Report, error) {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	if secret == "" || ts == "" || !hmac.Equal([]byte(genericMAC(secret, ts, body)), []byte(strings.ToLower(sig))) {
		return nil, ErrSignature
	}
	if err := fresh(ts, now, maxAge); err != nil {
		return nil, err
	}
	var doc struct {
		Reports []GenericReport `json:"reports"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(doc.Reports) == 0 {
		return nil, fmt.Errorf("%w: reports is empty", ErrMalformed)
	}
	out := make([]Report, 0, len(doc.Reports))
	for i, g := range doc.Reports {
		kind, ok := genericKinds[g.Type]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: reports[%d].type %q is not one of hard_bounce, soft_bounce, complaint, delivered, undelivered, failed", ErrMalformed, i, g.Type)
		case g.EventID == "":
			return nil, fmt.Errorf("%w: reports[%d].event_id is required", ErrMalformed, i)
		case g.MessageID == "" && g.ProviderMessageID == "" && g.Recipient == "":
			return nil, fmt.Errorf("%w: reports[%d] needs message_id, provider_message_id or recipient", ErrMalformed, i)
		}
		out = append(out, Report{
			Ref:  Ref{LedgerID: g.MessageID, ProviderID: g.ProviderMessageID, Recipient: g.Recipient, At: g.OccurredAt},
			Kind: kind, ReceiptID: g.EventID, Address: g.Recipient, Detail: g.Detail, OccurredAt: g.OccurredAt,
		})
	}
	return out, nil
}
