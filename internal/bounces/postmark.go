package bounces

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// postmarkRecord is one Postmark webhook body: a bounce, a spam complaint or
// a delivery.
type postmarkRecord struct {
	RecordType  string            `json:"RecordType"`
	ID          int64             `json:"ID"`
	Type        string            `json:"Type"`
	MessageID   string            `json:"MessageID"`
	Email       string            `json:"Email"`
	Recipient   string            `json:"Recipient"`
	BouncedAt   time.Time         `json:"BouncedAt"`
	DeliveredAt time.Time         `json:"DeliveredAt"`
	Description string            `json:"Description"`
	Details     string            `json:"Details"`
	Metadata    map[string]string `json:"Metadata"`
}

// postmarkSoft are the bounce types Postmark reports for trouble that may
// pass; every other bounce type is hard.
var postmarkSoft = []string{"SoftBounce", "Transient", "DnsError", "AutoResponder", "Challenge", "SpamNotification"}

// ParsePostmark reads a Postmark bounce, spam complaint or delivery webhook.
// Postmark does not sign its webhooks: the receiver checks the basic-auth
// credentials configured in the webhook's URL. The message is found by the
// metadata key tidings_message_id, Postmark's MessageID, or the recipient.
func ParsePostmark(body []byte) ([]Report, error) {
	var r postmarkRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: Postmark webhook: %v", ErrMalformed, err)
	}
	rep := Report{Ref: Ref{LedgerID: r.Metadata["tidings_message_id"], ProviderID: r.MessageID}}
	switch r.RecordType {
	case "Bounce":
		rep.Kind = store.FeedbackHard
		for _, t := range postmarkSoft {
			if r.Type == t {
				rep.Kind = store.FeedbackSoft
			}
		}
		if r.Type == "SpamComplaint" {
			rep.Kind = store.FeedbackComplaint
		}
		rep.Address, rep.OccurredAt = r.Email, r.BouncedAt
		rep.ReceiptID = fmt.Sprintf("bounce/%d", r.ID)
	case "SpamComplaint":
		rep.Kind, rep.Address, rep.OccurredAt = store.FeedbackComplaint, r.Email, r.BouncedAt
		rep.ReceiptID = fmt.Sprintf("complaint/%d", r.ID)
	case "Delivery":
		rep.Kind, rep.Address, rep.OccurredAt = store.FeedbackDelivered, r.Recipient, r.DeliveredAt
		rep.ReceiptID = "delivery/" + r.MessageID + "/" + r.Recipient
	default:
		return nil, nil
	}
	if r.ID == 0 && r.RecordType != "Delivery" {
		return nil, fmt.Errorf("%w: Postmark %s without ID", ErrMalformed, r.RecordType)
	}
	rep.Ref.Recipient, rep.Ref.At = rep.Address, rep.OccurredAt
	rep.Detail = strings.TrimSpace(r.Type + " " + r.Description + " " + r.Details)
	return []Report{rep}, nil
}
