package bounces

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// SNSMessage is an Amazon SNS HTTP(S) delivery: a notification, or the
// confirmation of a subscription.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject"`
	Message          string `json:"Message"`
	SubscribeURL     string `json:"SubscribeURL"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
}

// SNS message types.
const (
	SNSNotification = "Notification"
	SNSSubscribe    = "SubscriptionConfirmation"
	SNSUnsubscribe  = "UnsubscribeConfirmation"
)

// awsSNSHost is the host of every SNS signing certificate and subscribe URL.
var awsSNSHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// SNSVerifier checks SNS signatures as AWS documents them: the signing
// certificate comes over HTTPS from an SNS host, chains to a trusted root,
// and its key verifies the signature (SHA1withRSA for SignatureVersion 1,
// SHA256withRSA for 2) over the message's fields in their fixed order.
type SNSVerifier struct {
	// HTTP fetches certificates and confirms subscriptions (default: a
	// client with a 10-second timeout).
	HTTP *http.Client
	// Roots the certificates must chain to (nil: the system's).
	Roots *x509.CertPool
	// Hosts allows certificate and subscribe URL hosts (nil: SNS's own,
	// sns.<region>.amazonaws.com).
	Hosts func(host string) bool
	// TopicARNs, when set, are the only topics accepted.
	TopicARNs []string
	// MaxAge is how old a message may be (default 1 hour; SNS signs each
	// message once, retries carry the first timestamp).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

func (v *SNSVerifier) defaults() {
	if v.HTTP == nil {
		v.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if v.Hosts == nil {
		v.Hosts = awsSNSHost.MatchString
	}
	if v.MaxAge <= 0 {
		v.MaxAge = time.Hour
	}
	if v.Now == nil {
		v.Now = time.Now
	}
}

// Verify checks m's signature, topic and age.
func (v *SNSVerifier) Verify(ctx context.Context, m SNSMessage) error {
	v.defaults()
	if len(v.TopicARNs) > 0 && !slices.Contains(v.TopicARNs, m.TopicArn) {
		return fmt.Errorf("%w: topic %s is not one this installation subscribed to", ErrSignature, m.TopicArn)
	}
	at, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: Timestamp %q", ErrMalformed, m.Timestamp)
	}
	if now := v.Now(); now.Sub(at) > v.MaxAge || at.Sub(now) > 5*time.Minute {
		return ErrStale
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: SignatureVersion %q", ErrSignature, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	cert, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: signing certificate has no RSA key", ErrSignature)
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(snsStringToSign(m)))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(snsStringToSign(m)))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return ErrSignature
	}
	return nil
}

// snsStringToSign lists the signed fields, name and value on their own
// lines, in the order AWS fixes per message type.
func snsStringToSign(m SNSMessage) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == SNSNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
		return b.String()
	}
	add("SubscribeURL", m.SubscribeURL)
	add("Timestamp", m.Timestamp)
	add("Token", m.Token)
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// allowed checks that a URL is HTTPS on an accepted host.
func (v *SNSVerifier) allowed(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !v.Hosts(u.Hostname()) {
		return nil, fmt.Errorf("%w: %q is not an HTTPS URL of Amazon SNS", ErrSignature, raw)
	}
	return u, nil
}

// cert fetches (once) and checks the signing certificate.
func (v *SNSVerifier) cert(ctx context.Context, raw string) (*x509.Certificate, error) {
	u, err := v.allowed(raw)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	c, ok := v.certs[u.String()]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch SNS signing certificate: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch SNS signing certificate: status %d: %v", resp.StatusCode, err)
	}
	block, rest := pem.Decode(body)
	if block == nil {
		return nil, fmt.Errorf("%w: signing certificate is not PEM", ErrSignature)
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate: %v", ErrSignature, err)
	}
	inter := x509.NewCertPool()
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if ic, err := x509.ParseCertificate(b.Bytes); err == nil {
			inter.AddCert(ic)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: v.Roots, Intermediates: inter, CurrentTime: v.Now()}); err != nil {
		return nil, fmt.Errorf("%w: signing certificate is not trusted: %v", ErrSignature, err)
	}
	v.mu.Lock()
	if v.certs == nil {
		v.certs = map[string]*x509.Certificate{}
	}
	v.certs[u.String()] = c
	v.mu.Unlock()
	return c, nil
}

// Confirm visits a verified SubscriptionConfirmation's SubscribeURL, which
// is how SNS learns the endpoint wants the topic's messages.
func (v *SNSVerifier) Confirm(ctx context.Context, m SNSMessage) error {
	v.defaults()
	u, err := v.allowed(m.SubscribeURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := v.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("confirm SNS subscription: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("confirm SNS subscription: status %d", resp.StatusCode)
	}
	return nil
}

// sesNotification is the Message of an SES notification (notificationType)
// or of an SES event publication (eventType).
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Mail             struct {
		MessageID     string `json:"messageId"`
		Timestamp     string `json:"timestamp"`
		Headers       []struct{ Name, Value string }
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		Timestamp         string `json:"timestamp"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		Timestamp             string `json:"timestamp"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp  string   `json:"timestamp"`
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
}

// ParseSES reads the SES notification an SNS Notification carries. A
// permanent bounce is hard, a transient or undetermined one soft.
func ParseSES(m SNSMessage) ([]Report, error) {
	var n sesNotification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		return nil, fmt.Errorf("%w: SES notification: %v", ErrMalformed, err)
	}
	ref := Ref{ProviderID: n.Mail.MessageID, MessageID: n.Mail.CommonHeaders.MessageID}
	for _, h := range n.Mail.Headers {
		switch strings.ToLower(h.Name) {
		case "x-tidings-message-id":
			ref.LedgerID = h.Value
		case "message-id":
			if ref.MessageID == "" {
				ref.MessageID = h.Value
			}
		}
	}
	if ref.ProviderID == "" && ref.MessageID == "" && ref.LedgerID == "" {
		return nil, fmt.Errorf("%w: SES notification names no message", ErrMalformed)
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	var out []Report
	add := func(k, addr, detail, at string, i int) {
		t, _ := time.Parse(time.RFC3339, at)
		out = append(out, Report{Ref: ref, Kind: k, Address: addr, Detail: detail, OccurredAt: t,
			ReceiptID: fmt.Sprintf("%s/%d", m.MessageID, i)})
	}
	switch kind {
	case "Bounce":
		if n.Bounce == nil {
			return nil, fmt.Errorf("%w: Bounce without bounce", ErrMalformed)
		}
		k := store.FeedbackSoft
		if n.Bounce.BounceType == "Permanent" {
			k = store.FeedbackHard
		}
		for i, r := range n.Bounce.BouncedRecipients {
			detail := strings.TrimSpace(strings.Join([]string{n.Bounce.BounceType, n.Bounce.BounceSubType, r.Status, r.DiagnosticCode}, " "))
			add(k, r.EmailAddress, detail, n.Bounce.Timestamp, i)
		}
	case "Complaint":
		if n.Complaint == nil {
			return nil, fmt.Errorf("%w: Complaint without complaint", ErrMalformed)
		}
		for i, r := range n.Complaint.ComplainedRecipients {
			add(store.FeedbackComplaint, r.EmailAddress, strings.TrimSpace("complaint "+n.Complaint.ComplaintFeedbackType), n.Complaint.Timestamp, i)
		}
	case "Delivery":
		if n.Delivery == nil {
			return nil, fmt.Errorf("%w: Delivery without delivery", ErrMalformed)
		}
		for i, r := range n.Delivery.Recipients {
			add(store.FeedbackDelivered, r, "", n.Delivery.Timestamp, i)
		}
	default:
		return nil, nil // opens, clicks, sends: Tidings tracks those itself
	}
	return out, nil
}
