package bounces

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/tidingsdev/tidings/internal/store"
)

// TwilioSignatureHeader carries the signature of every Twilio request.
const TwilioSignatureHeader = "X-Twilio-Signature"

// SignTwilio computes the X-Twilio-Signature of a form POST to fullURL, as
// Twilio documents it: the base64 HMAC-SHA1, under the account's auth
// token, of the URL followed by each parameter's name and value, sorted by
// name.
func SignTwilio(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k + v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyTwilio checks a request's X-Twilio-Signature.
func VerifyTwilio(authToken, fullURL string, form url.Values, signature string) error {
	if authToken == "" || signature == "" {
		return ErrSignature
	}
	if !hmac.Equal([]byte(SignTwilio(authToken, fullURL, form)), []byte(signature)) {
		return ErrSignature
	}
	return nil
}

// twilioUnreachable are the error codes of numbers no SMS will ever reach
// (unknown handset, landline or unreachable carrier, not a mobile number):
// they are suppressed like a hard bounce.
var twilioUnreachable = map[string]bool{"30005": true, "30006": true, "21614": true}

// twilioStopped is the error of a number that replied STOP to the sender.
const twilioStopped = "21610"

// ParseTwilioStatus reads a status callback. Only final states are
// reports: delivered, undelivered, failed; sent and queued are not.
func ParseTwilioStatus(form url.Values, now time.Time) ([]Report, error) {
	sid, status := form.Get("MessageSid"), form.Get("MessageStatus")
	if sid == "" || status == "" {
		sid, status = form.Get("SmsSid"), form.Get("SmsStatus")
	}
	if sid == "" || status == "" {
		return nil, ErrMalformed
	}
	rep := Report{Ref: Ref{ProviderID: sid}, ReceiptID: sid + "/" + status, Address: form.Get("To"), OccurredAt: now}
	code := form.Get("ErrorCode")
	switch status {
	case "delivered":
		rep.Kind = store.FeedbackDelivered
	case "undelivered":
		rep.Kind = store.FeedbackUndelivered
	case "failed":
		rep.Kind = store.FeedbackFailed
	default:
		return nil, nil
	}
	rep.Detail = strings.TrimSpace(status + " " + code + " " + form.Get("ErrorMessage"))
	rep.Suppress = SuppressionFor(code)
	return []Report{rep}, nil
}

// SuppressionFor says which suppression a Twilio error code calls for.
func SuppressionFor(code string) string {
	switch {
	case twilioUnreachable[code]:
		return store.HardBounce
	case code == twilioStopped:
		return store.Unsubscribe
	}
	return ""
}

// SMS keywords a reply can be.
const (
	KeywordStop  = "stop"
	KeywordStart = "start"
)

// stopWords end SMS from the sender: the carriers' standard English words
// and the Chinese ones messages promise ("回复TD退订", "回覆取消").
var stopWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "退訂", "取消", "TD"}

var startWords = []string{"START", "UNSTOP"}

// Keyword reads an inbound SMS body as a keyword: the whole reply, ignoring
// case, spaces and punctuation ("Stop.", " td ", "退订！"). A sentence that
// merely contains a keyword is no keyword.
func Keyword(body string) string {
	w := strings.ToUpper(strings.TrimFunc(body, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	}))
	for _, s := range stopWords {
		if w == s {
			return KeywordStop
		}
	}
	for _, s := range startWords {
		if w == s {
			return KeywordStart
		}
	}
	return ""
}
