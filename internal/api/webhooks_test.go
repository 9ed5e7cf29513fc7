package api

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/bounces"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// sentEmail sends one marketing email and returns its ledger row.
func (e *engagement) sentEmail(t *testing.T, ext string) store.Message {
	t.Helper()
	cust := e.shopper(t, ext)
	id, _ := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	m, err := e.store.MessageByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.ProviderMessageID == "" {
		t.Fatalf("message %s has no provider ID", id)
	}
	return m
}

// post sends a raw webhook request and returns the status and body.
func (e *engagement) post(t *testing.T, path, contentType string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// state is what a report may change, to show that a refused one changed
// nothing.
func (e *engagement) state(t *testing.T) string {
	t.Helper()
	var s string
	err := e.store.Pool().QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM message_bounces) || '/' || (SELECT count(*) FROM suppressions) || '/' ||
		(SELECT count(*) FROM suppression_changes) || '/' || (SELECT count(*) FROM consent_changes) || '/' ||
		(SELECT count(*) FROM messages WHERE delivery <> '') || '/' || (SELECT count(*) FROM webhook_receipts)`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *engagement) delivery(t *testing.T, id string) string {
	t.Helper()
	m, err := e.store.LoggedMessageByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.Delivery
}

func (e *engagement) suppressed(t *testing.T, channel, addr string) store.Suppression {
	t.Helper()
	sp, err := e.store.Suppression(t.Context(), channel, addr)
	if err != nil {
		t.Fatalf("%s %s is not suppressed: %v", channel, addr, err)
	}
	return sp
}

// snsFixture is an SNS stand-in: a CA the verifier trusts, a signing
// certificate served over HTTPS, and a subscribe URL that counts visits.
type snsFixture struct {
	srv        *httptest.Server
	key        *rsa.PrivateKey
	certURL    string
	confirmed  atomic.Int32
	roots      *x509.CertPool
	rogueKey   *rsa.PrivateKey
	rogueCert  string
	topic      string
	verifier   *bounces.SNSVerifier
	messageSeq int
}

func newSNS(t *testing.T) *snsFixture {
	t.Helper()
	f := &snsFixture{topic: "arn:aws:sns:eu-west-1:123456789012:ses-bounces"}
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	f.roots = x509.NewCertPool()
	f.roots.AddCert(ca)
	f.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &f.key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	// A certificate nobody trusts, for a forger who serves their own.
	f.rogueKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	self := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	rogueDER, _ := x509.CreateCertificate(rand.Reader, self, self, &f.rogueKey.PublicKey, f.rogueKey)
	roguePEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rogueDER})
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			_, _ = w.Write(certPEM)
		case "/rogue.pem":
			_, _ = w.Write(roguePEM)
		case "/confirm":
			f.confirmed.Add(1)
			_, _ = io.WriteString(w, "<ConfirmSubscriptionResponse/>")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	f.certURL = f.srv.URL + "/SimpleNotificationService-test.pem"
	f.rogueCert = f.srv.URL + "/rogue.pem"
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "https://"))
	f.verifier = &bounces.SNSVerifier{
		HTTP: f.srv.Client(), Roots: f.roots, TopicARNs: []string{f.topic},
		Hosts: func(h string) bool { return h == host },
	}
	return f
}

// message builds a signed SNS delivery (SignatureVersion 2, SHA256withRSA,
// over the fields AWS lists, in its order).
func (f *snsFixture) message(t *testing.T, typ, payload string) bounces.SNSMessage {
	t.Helper()
	f.messageSeq++
	m := bounces.SNSMessage{
		Type: typ, MessageID: fmt.Sprintf("b1f2c3d4-0000-4000-8000-%012d", f.messageSeq), TopicArn: f.topic,
		Message: payload, Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		SignatureVersion: "2", SigningCertURL: f.certURL,
	}
	if typ == bounces.SNSSubscribe {
		m.Token, m.SubscribeURL = "2336412f37fb687f5d51e6e2425c464de1", f.srv.URL+"/confirm"
	}
	f.sign(t, &m, f.key)
	return m
}

func (f *snsFixture) sign(t *testing.T, m *bounces.SNSMessage, key *rsa.PrivateKey) {
	t.Helper()
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == bounces.SNSNotification {
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	} else {
		add("SubscribeURL", m.SubscribeURL)
		add("Timestamp", m.Timestamp)
		add("Token", m.Token)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	}
	sum := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sesPayload(kind string, m store.Message) string {
	headers := `[{"name":"Message-ID","value":"<` + m.ProviderMessageID + `>"},{"name":"X-Tidings-Message-ID","value":"` + m.ID + `"}]`
	mail := `"mail":{"timestamp":"2026-12-01T09:00:00.000Z","messageId":"0102018c-ses-id","source":"hello@harbourpine.example",
		"destination":["` + m.Recipient + `"],"headersTruncated":false,"headers":` + headers + `,"commonHeaders":{"messageId":"<` + m.ProviderMessageID + `>"}}`
	switch kind {
	case "Bounce":
		return `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"` +
			m.Recipient + `","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-12-01T09:00:05.000Z","feedbackId":"0102-fb"},` + mail + `}`
	case "Complaint":
		return `{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"` + m.Recipient +
			`"}],"timestamp":"2026-12-01T10:00:00.000Z","feedbackId":"0102-fc","complaintFeedbackType":"abuse"},` + mail + `}`
	}
	return `{"notificationType":"Delivery","delivery":{"timestamp":"2026-12-01T09:00:02.000Z","recipients":["` + m.Recipient + `"]},` + mail + `}`
}

func TestSESNotificationsThroughSNSAreVerifiedAndRecorded(t *testing.T) {
	sns := newSNS(t)
	e := newEngagement(t, func(o *Options) { o.Webhooks.SNS = sns.verifier })
	bounced := e.sentEmail(t, "C-ses-bounce")
	complainer := e.sentEmail(t, "C-ses-complaint")
	post := func(m bounces.SNSMessage) (int, string) {
		return e.post(t, "/v1/webhooks/bounces/ses", "text/plain; charset=UTF-8", jsonBody(t, m), nil)
	}

	// The subscription is confirmed by visiting SubscribeURL, once verified.
	if status, body := post(sns.message(t, bounces.SNSSubscribe, "You have chosen to subscribe")); status != 200 || sns.confirmed.Load() != 1 {
		t.Fatalf("subscription: %d %s, %d confirmations", status, body, sns.confirmed.Load())
	}

	// Refused: each answers 4xx and changes nothing.
	before := e.state(t)
	forged := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	forged.Message = strings.Replace(forged.Message, "Permanent", "Transient", 1)
	rogue := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	rogue.SigningCertURL = sns.rogueCert
	sns.sign(t, &rogue, sns.rogueKey)
	offHost := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	offHost.SigningCertURL = "https://evil.example/cert.pem"
	otherTopic := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	otherTopic.TopicArn = "arn:aws:sns:eu-west-1:999999999999:not-ours"
	sns.sign(t, &otherTopic, sns.key)
	stale := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	stale.Timestamp = time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	sns.sign(t, &stale, sns.key)
	unknown := store.Message{ID: "7a7a7a7a-0000-4000-8000-000000000000", ProviderMessageID: "nobody@harbourpine.example", Recipient: "x@example.com"}
	for name, c := range map[string]struct {
		m    bounces.SNSMessage
		want int
	}{
		"altered after signing":                   {forged, 401},
		"signed by an untrusted certificate":      {rogue, 401},
		"certificate from a host that is not SNS": {offHost, 401},
		"a topic not subscribed":                  {otherTopic, 401},
		"signed three hours ago":                  {stale, 401},
		"a message Tidings did not send":          {sns.message(t, bounces.SNSNotification, sesPayload("Bounce", unknown)), 422},
		"not SES's JSON":                          {sns.message(t, bounces.SNSNotification, "{not json"), 400},
	} {
		if status, body := post(c.m); status != c.want {
			t.Errorf("%s: %d %s, want %d", name, status, body, c.want)
		}
	}
	if status, _ := e.post(t, "/v1/webhooks/bounces/ses", "text/plain", []byte(`{"Type":`), nil); status != 400 {
		t.Errorf("truncated body: %d, want 400", status)
	}
	if after := e.state(t); after != before {
		t.Errorf("refused notifications changed the state: %s -> %s", before, after)
	}

	// A permanent bounce: the ledger says bounced, the address is suppressed.
	bounce := sns.message(t, bounces.SNSNotification, sesPayload("Bounce", bounced))
	if status, body := post(bounce); status != 200 || !strings.Contains(body, `"hard_bounce"`) {
		t.Fatalf("bounce: %d %s", status, body)
	}
	if got := e.delivery(t, bounced.ID); got != "bounced" {
		t.Errorf("ledger delivery = %q, want bounced", got)
	}
	if sp := e.suppressed(t, "email", bounced.Recipient); sp.Reason != store.HardBounce || sp.Source != "ses" {
		t.Errorf("suppression = %+v, want hard_bounce from ses", sp)
	}
	// Replayed as it was: 409, nothing changes.
	mid := e.state(t)
	if status, body := post(bounce); status != http.StatusConflict {
		t.Errorf("replay: %d %s, want 409", status, body)
	}
	if after := e.state(t); after != mid {
		t.Errorf("the replay changed the state: %s -> %s", mid, after)
	}

	// A complaint: complained, suppressed, marketing consent withdrawn with
	// its evidence.
	if status, body := post(sns.message(t, bounces.SNSNotification, sesPayload("Complaint", complainer))); status != 200 {
		t.Fatalf("complaint: %d %s", status, body)
	}
	if got := e.delivery(t, complainer.ID); got != "complained" {
		t.Errorf("ledger delivery = %q, want complained", got)
	}
	e.suppressed(t, "email", complainer.Recipient)
	st, err := e.store.ConsentStatus(t.Context(), complainer.CustomerID, "email", "marketing")
	if err != nil || st != store.Denied {
		t.Errorf("marketing consent after a complaint = %q, %v; want denied", st, err)
	}
	hist, _ := e.store.ConsentHistory(t.Context(), complainer.CustomerID)
	if len(hist) != 1 || hist[0].Source != store.SourceComplaint || hist[0].Actor != "provider:ses" {
		t.Errorf("consent history = %+v, want one change from the complaint", hist)
	}
	// A delivery report that comes late does not hide the complaint.
	if status, _ := post(sns.message(t, bounces.SNSNotification, sesPayload("Delivery", complainer))); status != 200 {
		t.Errorf("late delivery report: %d", status)
	}
	if got := e.delivery(t, complainer.ID); got != "complained" {
		t.Errorf("a late delivery overwrote the complaint: %q", got)
	}
	// The next marketing email to the complainer is not sent.
	res, err := e.svc.Send(t.Context(), delivery.Request{CustomerID: complainer.CustomerID, Journey: "campaign/spring", Step: "again",
		Channel: delivery.Email, Template: "winback_offer", Topic: delivery.TopicMarketing, IdempotencyKey: "again/" + complainer.CustomerID,
		Data: map[string]any{"coupon": "X", "discount_percent": 5}})
	if err != nil || res.Status != delivery.Skipped {
		t.Errorf("send after a complaint: %+v %v, want skipped", res, err)
	}
}

func TestSendGridEventsAreVerifiedWithTheWebhookKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e := newEngagement(t, func(o *Options) { o.Webhooks.SendGridKey = &key.PublicKey })
	hard, soft, spam := e.sentEmail(t, "C-sg-1"), e.sentEmail(t, "C-sg-2"), e.sentEmail(t, "C-sg-3")
	body := jsonBody(t, []map[string]any{
		{"email": hard.Recipient, "timestamp": time.Now().Unix(), "event": "bounce", "type": "bounce", "status": "5.1.1",
			"reason": "550 5.1.1 The email account that you tried to reach does not exist", "sg_event_id": "sg-ev-1",
			"sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "smtp-id": "<" + hard.ProviderMessageID + ">"},
		{"email": soft.Recipient, "timestamp": time.Now().Unix(), "event": "bounce", "type": "blocked", "status": "4.7.1",
			"reason": "451 try later", "sg_event_id": "sg-ev-2", "smtp-id": "<" + soft.ProviderMessageID + ">"},
		{"email": spam.Recipient, "timestamp": time.Now().Unix(), "event": "spamreport", "sg_event_id": "sg-ev-3", "smtp-id": "<" + spam.ProviderMessageID + ">"},
		{"email": hard.Recipient, "timestamp": time.Now().Unix(), "event": "open", "sg_event_id": "sg-ev-4"},
	})
	sign := func(ts string, b []byte, k *ecdsa.PrivateKey) http.Header {
		sum := sha256.Sum256(append([]byte(ts), b...))
		sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{bounces.SendGridSignatureHeader: {base64.StdEncoding.EncodeToString(sig)}, bounces.SendGridTimestampHeader: {ts}}
	}
	now := fmt.Sprint(e.now.Now().Unix())
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	before := e.state(t)
	for name, h := range map[string]http.Header{
		"unsigned":                nil,
		"signed by another key":   sign(now, body, other),
		"signed for another body": sign(now, append([]byte(" "), body...), key),
		"a day and more old":      sign(fmt.Sprint(time.Now().Add(-25*time.Hour).Unix()), body, key),
	} {
		if status, resp := e.post(t, "/v1/webhooks/bounces/sendgrid", "application/json", body, h); status != 401 {
			t.Errorf("%s: %d %s, want 401", name, status, resp)
		}
	}
	if after := e.state(t); after != before {
		t.Errorf("refused requests changed the state: %s -> %s", before, after)
	}
	if status, resp := e.post(t, "/v1/webhooks/bounces/sendgrid", "application/json", body, sign(now, body, key)); status != 200 || !strings.Contains(resp, `"recorded": 3`) {
		t.Fatalf("signed events: %d %s", status, resp)
	}
	for id, want := range map[string]string{hard.ID: "bounced", soft.ID: "soft_bounced", spam.ID: "complained"} {
		if got := e.delivery(t, id); got != want {
			t.Errorf("message %s delivery = %q, want %q", id, got, want)
		}
	}
	e.suppressed(t, "email", hard.Recipient)
	e.suppressed(t, "email", spam.Recipient)
	if _, err := e.store.Suppression(t.Context(), "email", soft.Recipient); err == nil {
		t.Errorf("one soft bounce suppressed the address")
	}
	// The same events signed anew (a retry): every one seen before, 409.
	mid := e.state(t)
	if status, resp := e.post(t, "/v1/webhooks/bounces/sendgrid", "application/json", body, sign(now, body, key)); status != http.StatusConflict {
		t.Errorf("replayed events: %d %s, want 409", status, resp)
	}
	if after := e.state(t); after != mid {
		t.Errorf("the replay changed the state: %s -> %s", mid, after)
	}
}

func mailgunBody(t *testing.T, key, token string, ts int64, event, severity string, m store.Message) []byte {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(fmt.Sprint(ts) + token))
	return jsonBody(t, map[string]any{
		"signature": map[string]any{"timestamp": fmt.Sprint(ts), "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": map[string]any{"id": "ev-" + token, "event": event, "severity": severity, "reason": "generic", "timestamp": float64(ts),
			"recipient": m.Recipient, "message": map[string]any{"headers": map[string]any{"message-id": m.ProviderMessageID}},
			"delivery-status": map[string]any{"code": 452, "message": "mailbox full", "description": ""}},
	})
}

func TestMailgunSoftBouncesSuppressAfterTheConfiguredCount(t *testing.T) {
	const key = "key-mailgun-webhook-signing"
	e := newEngagement(t, func(o *Options) {
		o.Webhooks.MailgunKey = key
		o.Webhooks.SoftBounces = store.SoftBouncePolicy{Max: 3, Window: 7 * 24 * time.Hour}
	})
	m := e.sentEmail(t, "C-mg")
	now := e.now.Now().Unix()
	post := func(b []byte) (int, string) {
		return e.post(t, "/v1/webhooks/bounces/mailgun", "application/json", b, nil)
	}
	before := e.state(t)
	if status, _ := post(mailgunBody(t, "not-the-key", "tok-0", now, "failed", "temporary", m)); status != 401 {
		t.Errorf("wrong key: %d, want 401", status)
	}
	if status, _ := post([]byte(`{"signature": 5}`)); status != 400 {
		t.Errorf("malformed: %d, want 400", status)
	}
	if after := e.state(t); after != before {
		t.Errorf("refused requests changed the state: %s -> %s", before, after)
	}
	for i := 1; i <= 3; i++ {
		body := mailgunBody(t, key, fmt.Sprintf("tok-%d", i), now, "failed", "temporary", m)
		if status, resp := post(body); status != 200 {
			t.Fatalf("soft bounce %d: %d %s", i, status, resp)
		}
		_, err := e.store.Suppression(t.Context(), "email", m.Recipient)
		if i < 3 && err == nil {
			t.Errorf("suppressed after %d soft bounces, want 3", i)
		}
		if i == 3 {
			if sp := e.suppressed(t, "email", m.Recipient); sp.Reason != store.SoftBounce {
				t.Errorf("suppression = %+v, want soft_bounce", sp)
			}
		}
		if status, _ := post(body); status != http.StatusConflict {
			t.Errorf("replay of soft bounce %d: %d, want 409", i, status)
		}
	}
}

func TestPostmarkNeedsItsCredentialsAndFindsTheMessageByRecipient(t *testing.T) {
	e := newEngagement(t, func(o *Options) { o.Webhooks.PostmarkAuth = "postmark:correct-horse-battery" })
	m := e.sentEmail(t, "C-pm")
	body := jsonBody(t, map[string]any{"RecordType": "Bounce", "ID": 4323372036854775807, "Type": "HardBounce", "TypeCode": 1,
		"MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "Email": m.Recipient, "BouncedAt": time.Now().UTC().Format(time.RFC3339),
		"Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).", "Details": "smtp;550 5.1.1 unknown"})
	if status, _ := e.post(t, "/v1/webhooks/bounces/postmark", "application/json", body, nil); status != 401 {
		t.Errorf("without credentials: %d, want 401", status)
	}
	wrong := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("postmark:guess"))}}
	if status, _ := e.post(t, "/v1/webhooks/bounces/postmark", "application/json", body, wrong); status != 401 {
		t.Errorf("wrong password: %d, want 401", status)
	}
	ok := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("postmark:correct-horse-battery"))}}
	if status, resp := e.post(t, "/v1/webhooks/bounces/postmark", "application/json", body, ok); status != 200 {
		t.Fatalf("bounce: %d %s", status, resp)
	}
	if got := e.delivery(t, m.ID); got != "bounced" {
		t.Errorf("delivery = %q, want bounced", got)
	}
	if status, _ := e.post(t, "/v1/webhooks/bounces/postmark", "application/json", body, ok); status != http.StatusConflict {
		t.Errorf("replay: %d, want 409", status)
	}
}

func TestGenericReportsAreSignedWithTheSharedSecret(t *testing.T) {
	const secret = "generic-bounce-secret-0123"
	e := newEngagement(t, func(o *Options) { o.Webhooks.GenericSecret = secret })
	m := e.sentEmail(t, "C-gen")
	body := []byte(`{"reports": [{"event_id": "relay-77", "type": "hard_bounce", "message_id": "` + m.ID + `", "detail": "550 5.1.1 no such user"}]}`)
	sig := http.Header{bounces.GenericSignatureHeader: {bounces.SignGeneric(secret, e.now.Now(), body)}}
	before := e.state(t)
	for name, c := range map[string]struct {
		body []byte
		h    http.Header
		want int
	}{
		"unsigned":        {body, nil, 401},
		"another secret":  {body, http.Header{bounces.GenericSignatureHeader: {bounces.SignGeneric("some-other-secret-000", time.Now(), body)}}, 401},
		"an hour ahead":   {body, http.Header{bounces.GenericSignatureHeader: {bounces.SignGeneric(secret, e.now.Now().Add(time.Hour), body)}}, 401},
		"an unknown type": {[]byte(`{"reports": [{"event_id": "x", "type": "bounced", "message_id": "` + m.ID + `"}]}`), nil, 400},
	} {
		h := c.h
		if h == nil && c.want == 400 {
			h = http.Header{bounces.GenericSignatureHeader: {bounces.SignGeneric(secret, time.Now(), c.body)}}
		}
		if status, resp := e.post(t, "/v1/webhooks/bounces/generic", "application/json", c.body, h); status != c.want {
			t.Errorf("%s: %d %s, want %d", name, status, resp, c.want)
		}
	}
	if after := e.state(t); after != before {
		t.Errorf("refused requests changed the state: %s -> %s", before, after)
	}
	if status, resp := e.post(t, "/v1/webhooks/bounces/generic", "application/json", body, sig); status != 200 {
		t.Fatalf("signed report: %d %s", status, resp)
	}
	e.suppressed(t, "email", m.Recipient)
	// An unconfigured receiver does not exist.
	if status, _ := e.post(t, "/v1/webhooks/bounces/mailgun", "application/json", []byte(`{}`), nil); status != 404 {
		t.Errorf("unconfigured Mailgun receiver: %d, want 404", status)
	}
}

// dsnSample is a delivery status notification as Postfix writes one,
// delivered to the VERP address of the message it reports on.
func dsnSample(m store.Message) string {
	return strings.ReplaceAll(`Return-Path: <>
Delivered-To: bounces+`+m.ID+`@harbourpine.example
Received: by mx.harbourpine.example (Postfix) id 4C2D31A0B2C
Date: Tue, 1 Dec 2026 09:00:07 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces+`+m.ID+`@harbourpine.example
Message-Id: <20261201090007.4C2D31A0B2C@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="4C2D31A0B2C.1764579607/mx.example.net"

This is a MIME-encapsulated message.

--4C2D31A0B2C.1764579607/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<`+m.Recipient+`>: host mx.example.net[203.0.113.7] said: 550 5.1.1
    <`+m.Recipient+`>: Recipient address rejected: User unknown

--4C2D31A0B2C.1764579607/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4C2D31A0B2C
Arrival-Date: Tue, 1 Dec 2026 09:00:05 +0000 (UTC)

Final-Recipient: rfc822; `+m.Recipient+`
Original-Recipient: rfc822;`+m.Recipient+`
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <`+m.Recipient+`>: Recipient address rejected:
    User unknown

--4C2D31A0B2C.1764579607/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Harbour & Pine <hello@harbourpine.example>
To: Ann <`+m.Recipient+`>
Subject: A little something to come back to
Message-ID: <`+m.ProviderMessageID+`>
X-Tidings-Message-ID: `+m.ID+`

--4C2D31A0B2C.1764579607/mx.example.net--
`, "\n", "\r\n")
}

func TestADSNPostedRawIsParsedAndSuppressesTheRecipient(t *testing.T) {
	e := newEngagement(t)
	m := e.sentEmail(t, "C-dsn")
	raw := []byte(dsnSample(m))
	if status, _ := e.doRaw("POST", "/v1/webhooks/bounces/dsn", "", raw); status != 401 {
		t.Errorf("a DSN without an API key: %d, want 401", status)
	}
	if status, body := e.doRaw("POST", "/v1/webhooks/bounces/dsn", "Bearer "+e.key, []byte("Subject: hello\r\n\r\njust mail\r\n")); status != 400 {
		t.Errorf("plain mail posted as a DSN: %d %s, want 400", status, body)
	}
	status, body := e.doRaw("POST", "/v1/webhooks/bounces/dsn", "Bearer "+e.key, raw)
	if status != 200 {
		t.Fatalf("DSN: %d %s", status, body)
	}
	rec, err := e.store.MessageRecordByID(t.Context(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Message.Delivery != "bounced" || len(rec.Reports) != 1 || rec.Reports[0].Provider != "dsn" ||
		!strings.Contains(rec.Reports[0].Detail, "5.1.1") || !strings.EqualFold(rec.Reports[0].Address, m.Recipient) {
		t.Errorf("after the DSN: delivery %q, reports %+v", rec.Message.Delivery, rec.Reports)
	}
	e.suppressed(t, "email", m.Recipient)
	if status, _ := e.doRaw("POST", "/v1/webhooks/bounces/dsn", "Bearer "+e.key, raw); status != http.StatusConflict {
		t.Errorf("the same DSN again: %d, want 409", status)
	}
}

// twilio posts a form signed as Twilio signs it, to the API's public URL.
func (e *engagement) twilio(t *testing.T, path, token string, form url.Values) (int, string) {
	t.Helper()
	h := http.Header{bounces.TwilioSignatureHeader: {bounces.SignTwilio(token, e.http.URL+path, form)}}
	return e.post(t, path, "application/x-www-form-urlencoded", []byte(form.Encode()), h)
}

func (e *engagement) texter(t *testing.T, ext, phone string) string {
	t.Helper()
	e.customer(ext, map[string]any{"phone": phone, "first_name": "芳", "last_name": "王", "locale": "zh-CN", "time_zone": "Asia/Shanghai"})
	c, err := e.store.CustomerByExternalID(t.Context(), ext)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: c.ID, Channel: "sms", Topic: "marketing", Status: store.Granted, Source: "signup_form"}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (e *engagement) text(t *testing.T, cust, key string) delivery.Result {
	t.Helper()
	res, err := e.svc.Send(t.Context(), delivery.Request{CustomerID: cust, Journey: "birthday", Step: "greeting", Channel: delivery.SMS,
		Template: "birthday", Topic: delivery.TopicCare, IdempotencyKey: key, IgnoreQuietHours: true,
		Data: map[string]any{"coupon": "BDAY-88", "discount_percent": 15}})
	if err != nil {
		t.Fatalf("send SMS: %v", err)
	}
	return res
}

func TestSMSStatusCallbacksAreSignedAndRecorded(t *testing.T) {
	e := newEngagement(t, func(o *Options) { o.Webhooks.TwilioAuthToken = "twilio-token" })
	cust := e.texter(t, "C-sms-status", "+8613800138000")
	res := e.text(t, cust, "sms/1")
	if res.Status != delivery.Sent {
		t.Fatalf("SMS: %+v", res)
	}
	m, _ := e.store.MessageByID(t.Context(), res.MessageID)
	form := url.Values{"MessageSid": {m.ProviderMessageID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30005"},
		"To": {"+8613800138000"}, "AccountSid": {"AC1"}}
	before := e.state(t)
	if status, _ := e.twilio(t, "/v1/webhooks/sms/status", "wrong-token", form); status != 401 {
		t.Errorf("signed with another token: %d, want 401", status)
	}
	if status, _ := e.post(t, "/v1/webhooks/sms/status", "application/x-www-form-urlencoded", []byte(form.Encode()), nil); status != 401 {
		t.Errorf("unsigned: %d, want 401", status)
	}
	if status, _ := e.twilio(t, "/v1/webhooks/sms/status", "twilio-token", url.Values{"MessageSid": {"SMnope"}, "MessageStatus": {"delivered"}}); status != 422 {
		t.Errorf("an SMS Tidings did not send: %d, want 422", status)
	}
	if after := e.state(t); after != before {
		t.Errorf("refused callbacks changed the state: %s -> %s", before, after)
	}
	if status, body := e.twilio(t, "/v1/webhooks/sms/status", "twilio-token", form); status != 200 {
		t.Fatalf("status callback: %d %s", status, body)
	}
	if got := e.delivery(t, m.ID); got != "undelivered" {
		t.Errorf("delivery = %q, want undelivered", got)
	}
	if sp := e.suppressed(t, "sms", "+8613800138000"); sp.Reason != store.HardBounce {
		t.Errorf("an unknown handset: suppression %+v, want hard_bounce", sp)
	}
	if status, _ := e.twilio(t, "/v1/webhooks/sms/status", "twilio-token", form); status != http.StatusConflict {
		t.Errorf("the same callback again: %d, want 409", status)
	}
}

func TestAStopReplyEndsSMSAndStartBringsThemBack(t *testing.T) {
	e := newEngagement(t, func(o *Options) { o.Webhooks.TwilioAuthToken = "twilio-token" })
	cust := e.texter(t, "C-stop", "+8613900139000")
	if res := e.text(t, cust, "sms/before"); res.Status != delivery.Sent {
		t.Fatalf("SMS before STOP: %+v", res)
	}
	reply := func(sid, body string) (int, string) {
		return e.twilio(t, "/v1/webhooks/sms/inbound", "twilio-token", url.Values{"MessageSid": {sid}, "From": {"+8613900139000"},
			"To": {"+15017122661"}, "Body": {body}, "AccountSid": {"AC1"}})
	}
	if status, body := reply("SMreply1", " 退订！"); status != 200 || !strings.Contains(body, "<Response>") {
		t.Fatalf("STOP reply: %d %s", status, body)
	}
	sent := e.texts.count()
	if res := e.text(t, cust, "sms/after"); res.Status != delivery.Skipped {
		t.Errorf("SMS after STOP: %+v, want skipped", res)
	}
	if e.texts.count() != sent {
		t.Errorf("the provider got an SMS after STOP")
	}
	hist, _ := e.store.ConsentHistory(t.Context(), cust)
	last := hist[len(hist)-1]
	if last.Channel != "sms" || last.Topic != delivery.TopicAll || last.Status != store.Denied || last.Source != sourceSMSReply {
		t.Errorf("consent change = %+v, want sms/all denied from the reply", last)
	}
	if status, _ := reply("SMreply1", " 退订！"); status != http.StatusConflict {
		t.Errorf("the same reply again: %d, want 409", status)
	}
	if status, _ := reply("SMreply2", "谢谢，我会考虑"); status != 200 {
		t.Errorf("a reply that is not a keyword: %d", status)
	}
	if h2, _ := e.store.ConsentHistory(t.Context(), cust); len(h2) != len(hist) {
		t.Errorf("a sentence changed consent")
	}
	if status, _ := reply("SMreply3", "START"); status != 200 {
		t.Fatalf("START reply: %d", status)
	}
	if res := e.text(t, cust, "sms/restarted"); res.Status != delivery.Sent {
		t.Errorf("SMS after START: %+v, want sent", res)
	}
	for _, word := range []string{"STOP", "stop.", "Unsubscribe", "取消", "td", "退訂"} {
		if bounces.Keyword(word) != bounces.KeywordStop {
			t.Errorf("%q is not read as STOP", word)
		}
	}
	if bounces.Keyword("please stop sending") != "" {
		t.Errorf("a sentence containing stop is read as STOP")
	}
}
