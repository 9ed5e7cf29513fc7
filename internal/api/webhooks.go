package api

import (
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/bounces"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// Webhooks configures the receivers of what providers report after a
// message left. A provider left unconfigured has no receiver: its requests
// get 404.
type Webhooks struct {
	// SNS verifies Amazon SNS deliveries of SES notifications.
	SNS *bounces.SNSVerifier
	// SendGridKey verifies SendGrid's signed event webhook.
	SendGridKey *ecdsa.PublicKey
	// MailgunKey is Mailgun's webhook signing key.
	MailgunKey string
	// PostmarkAuth is the "user:password" Postmark's webhook URL carries.
	PostmarkAuth string
	// GenericSecret signs the generic JSON form.
	GenericSecret string
	// TwilioAuthToken verifies SMS status callbacks and inbound messages.
	TwilioAuthToken string
	// SoftBounces suppresses an address after Max soft bounces in Window.
	SoftBounces store.SoftBouncePolicy
	// MaxAge is how old a signed timestamp may be (default 24h).
	MaxAge time.Duration
}

// Error codes of the receivers.
const (
	codeSignature = "invalid_signature"
	codeReplayed  = "replayed"
	codeUnknown   = "unknown_message"
)

// maxWebhookBody bounds a provider's request.
const maxWebhookBody = 1 << 20

func (s *Server) webhookBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || len(body) > maxWebhookBody:
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "", "request body is larger than %d bytes", maxWebhookBody)
	case err != nil:
		return nil, errorf(http.StatusBadRequest, codeInvalid, "", "read request body: %v", err)
	}
	return body, nil
}

// webhookError turns a receiver's error into the 4xx it is, or passes an
// internal one on.
func webhookError(err error) error {
	switch {
	case errors.Is(err, bounces.ErrSignature):
		return errorf(http.StatusUnauthorized, codeSignature, "", "%v", err)
	case errors.Is(err, bounces.ErrStale):
		return errorf(http.StatusUnauthorized, codeSignature, "", "%v: replayed or delayed request", err)
	case errors.Is(err, bounces.ErrMalformed):
		return errorf(http.StatusBadRequest, codeInvalid, "", "%v", err)
	}
	return err
}

func notConfigured(provider, setting string) error {
	return errorf(http.StatusNotFound, codeNotFound, "provider", "the %s receiver is not configured (set %s)", provider, setting)
}

// bounceWebhook is POST /v1/webhooks/bounces/{provider}: ses, sendgrid,
// mailgun, postmark or generic. Each request is verified the provider's own
// way before anything is read from it; the reports then change the ledger,
// the suppression list and consent in one transaction. A request whose
// every report was handled before answers 409, one naming no message of
// ours 422; neither changes anything.
func (s *Server) bounceWebhook(w http.ResponseWriter, r *http.Request) error {
	provider := r.PathValue("provider")
	body, err := s.webhookBody(r)
	if err != nil {
		return err
	}
	now := s.opt.Now()
	wh := s.opt.Webhooks
	var reports []bounces.Report
	switch provider {
	case "ses":
		if wh.SNS == nil {
			return notConfigured("Amazon SES", "TIDINGS_SES_TOPIC_ARNS")
		}
		var m bounces.SNSMessage
		if err := json.Unmarshal(body, &m); err != nil || m.Type == "" {
			return errorf(http.StatusBadRequest, codeInvalidJSON, "", "not an SNS message")
		}
		if err := wh.SNS.Verify(r.Context(), m); err != nil {
			return webhookError(err)
		}
		switch m.Type {
		case bounces.SNSSubscribe:
			if err := wh.SNS.Confirm(r.Context(), m); err != nil {
				return err
			}
			s.log.InfoContext(r.Context(), "SNS subscription confirmed", "topic", m.TopicArn)
			return answer(w, http.StatusOK, map[string]string{"status": "subscribed", "topic": m.TopicArn})
		case bounces.SNSUnsubscribe:
			s.log.WarnContext(r.Context(), "SNS subscription ended", "topic", m.TopicArn)
			return answer(w, http.StatusOK, map[string]string{"status": "unsubscribed", "topic": m.TopicArn})
		}
		reports, err = bounces.ParseSES(m)
	case "sendgrid":
		if wh.SendGridKey == nil {
			return notConfigured("SendGrid", "TIDINGS_SENDGRID_WEBHOOK_KEY")
		}
		if err := bounces.VerifySendGrid(wh.SendGridKey, r.Header.Get(bounces.SendGridSignatureHeader),
			r.Header.Get(bounces.SendGridTimestampHeader), body, now, wh.maxAge()); err != nil {
			return webhookError(err)
		}
		reports, err = bounces.ParseSendGrid(body)
	case "mailgun":
		if wh.MailgunKey == "" {
			return notConfigured("Mailgun", "TIDINGS_MAILGUN_WEBHOOK_KEY")
		}
		reports, err = bounces.ParseMailgun(body, wh.MailgunKey, now, wh.maxAge())
	case "postmark":
		if wh.PostmarkAuth == "" {
			return notConfigured("Postmark", "TIDINGS_POSTMARK_WEBHOOK_AUTH")
		}
		user, pass, _ := r.BasicAuth()
		if subtle.ConstantTimeCompare([]byte(user+":"+pass), []byte(wh.PostmarkAuth)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="tidings-postmark"`)
			return errorf(http.StatusUnauthorized, codeSignature, "", "Postmark webhooks must carry the configured basic-auth credentials")
		}
		reports, err = bounces.ParsePostmark(body)
	case "generic":
		if wh.GenericSecret == "" {
			return notConfigured("generic", "TIDINGS_BOUNCE_WEBHOOK_SECRET")
		}
		reports, err = bounces.ParseGeneric(body, r.Header.Get(bounces.GenericSignatureHeader), wh.GenericSecret, now, wh.maxAge())
	default:
		return errorf(http.StatusNotFound, codeNotFound, "provider", "no bounce receiver for %q; expected ses, sendgrid, mailgun, postmark, generic or dsn", provider)
	}
	if err != nil {
		return webhookError(err)
	}
	return s.recordReports(w, r, provider, delivery.Email, reports)
}

func (wh Webhooks) maxAge() time.Duration {
	if wh.MaxAge <= 0 {
		return 24 * time.Hour
	}
	return wh.MaxAge
}

// bounceDSN is POST /v1/webhooks/bounces/dsn: a delivery status
// notification as raw mail (message/rfc822), posted by the bounce mailbox's
// server with an API key.
func (s *Server) bounceDSN(w http.ResponseWriter, r *http.Request) error {
	body, err := s.webhookBody(r)
	if err != nil {
		return err
	}
	reports, err := bounces.ParseDSN(body)
	if err != nil {
		return webhookError(err)
	}
	return s.recordReports(w, r, "dsn", delivery.Email, reports)
}

// recordReports records what a receiver read and answers for it.
func (s *Server) recordReports(w http.ResponseWriter, r *http.Request, provider, channel string, reports []bounces.Report) error {
	if len(reports) == 0 {
		return answer(w, http.StatusOK, bounces.Outcome{})
	}
	out, err := bounces.NewRecorder(s.store, s.opt.Webhooks.SoftBounces).Record(r.Context(), provider, channel, reports)
	if err != nil {
		return err
	}
	switch {
	case out.Recorded == 0 && out.Duplicates > 0:
		return errorf(http.StatusConflict, codeReplayed, "", "every report in this request was received before; nothing changed")
	case out.Recorded == 0:
		return errorf(http.StatusUnprocessableEntity, codeUnknown, "", "the request names no message Tidings sent; nothing changed")
	}
	s.log.InfoContext(r.Context(), "delivery reports recorded", "provider", provider, "recorded", out.Recorded,
		"duplicates", out.Duplicates, "unknown", out.Unknown, "suppressed", len(out.Suppressed))
	return answer(w, http.StatusOK, out)
}

// twilioForm verifies a Twilio request against the public URL it was sent
// to and returns its form.
func (s *Server) twilioForm(r *http.Request) (url.Values, error) {
	if s.opt.Webhooks.TwilioAuthToken == "" {
		return nil, notConfigured("Twilio", "TIDINGS_SMS_AUTH_TOKEN")
	}
	body, err := s.webhookBody(r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalid, "", "body is not a form: %v", err)
	}
	full := strings.TrimSuffix(s.opt.PublicURL, "/") + r.URL.RequestURI()
	if err := bounces.VerifyTwilio(s.opt.Webhooks.TwilioAuthToken, full, form, r.Header.Get(bounces.TwilioSignatureHeader)); err != nil {
		return nil, errorf(http.StatusUnauthorized, codeSignature, "", "X-Twilio-Signature does not verify for %s", full)
	}
	return form, nil
}

// smsStatus is POST /v1/webhooks/sms/status: a Twilio-compatible status
// callback. delivered, undelivered and failed are recorded on the ledger
// row; numbers that can never receive SMS are suppressed.
func (s *Server) smsStatus(w http.ResponseWriter, r *http.Request) error {
	form, err := s.twilioForm(r)
	if err != nil {
		return err
	}
	reports, err := bounces.ParseTwilioStatus(form, s.opt.Now())
	if err != nil {
		return errorf(http.StatusBadRequest, codeInvalid, "MessageSid", "a status callback needs MessageSid and MessageStatus")
	}
	return s.recordReports(w, r, "twilio", delivery.SMS, reports)
}

// Consent evidence of SMS replies.
const sourceSMSReply = "sms_reply"

// stopNumber suppresses a number that replied STOP, since the carrier
// refuses every message to it from then on (receipts included), and lifts
// that suppression, and only that one, on START.
func (s *Server) stopNumber(r *http.Request, number string, stop bool) error {
	ctx := r.Context()
	if stop {
		return s.store.Suppress(ctx, store.Suppression{Channel: delivery.SMS, Address: number, Reason: store.Unsubscribe,
			Source: sourceSMSReply, Detail: "replied STOP", Actor: actorCustomer})
	}
	sp, err := s.store.Suppression(ctx, delivery.SMS, number)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sp.Source != sourceSMSReply) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.store.RemoveSuppression(ctx, delivery.SMS, number, actorCustomer, "replied START")
	return err
}

// smsInbound is POST /v1/webhooks/sms/inbound: a customer's reply. STOP,
// UNSUBSCRIBE, 退订, 取消, TD (and the carriers' other stop words) deny
// every SMS topic for every customer with that number, START grants it
// again; each is a consent change with the reply as its evidence. Other
// replies change nothing. The answer is an empty TwiML document: the
// carrier's own confirmation reaches the customer.
func (s *Server) smsInbound(w http.ResponseWriter, r *http.Request) error {
	form, err := s.twilioForm(r)
	if err != nil {
		return err
	}
	sid, from := form.Get("MessageSid"), form.Get("From")
	if sid == "" || from == "" {
		return errorf(http.StatusBadRequest, codeInvalid, "MessageSid", "an inbound message needs MessageSid and From")
	}
	seen, err := s.store.SeenReceipt(r.Context(), "twilio-inbound", sid)
	if err != nil {
		return err
	}
	if seen {
		return errorf(http.StatusConflict, codeReplayed, "", "message %s was received before; nothing changed", sid)
	}
	status := ""
	switch bounces.Keyword(form.Get("Body")) {
	case bounces.KeywordStop:
		status = store.Denied
	case bounces.KeywordStart:
		status = store.Granted
	}
	if status != "" {
		ids, err := s.store.CustomerIDsByPhone(r.Context(), from)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := s.store.SetConsent(r.Context(), store.ConsentChange{
				CustomerID: id, Channel: delivery.SMS, Topic: delivery.TopicAll, Status: status,
				Source: sourceSMSReply, Actor: actorCustomer,
			}); err != nil {
				return err
			}
		}
		if err := s.stopNumber(r, from, status == store.Denied); err != nil {
			return err
		}
		s.log.InfoContext(r.Context(), "SMS reply changed consent", "status", status, "customers", len(ids))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	return err
}
