package email_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/smtpsink"
)

func startSink(t *testing.T, opt smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	sink, err := smtpsink.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	return sink
}

func newMailer(t *testing.T, url string, conns int) *email.Mailer {
	t.Helper()
	m, err := email.New(email.Config{
		URL: url, From: "hello@shop.example", FromName: "茶叶小铺 Tea Shop",
		ReplyTo: "care@shop.example", Connections: conns,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func message(to string) email.Message {
	return email.Message{
		To: to, ToName: "王小明",
		Subject:           "欢迎加入茶叶小铺 — welcome!",
		Text:              "你好，小明！\nThanks for joining.",
		HTML:              "<p>你好，<b>小明</b>！</p>",
		IdempotencyKey:    "welcome/c1/email/1",
		LedgerID:          "5b0c4a4e-6c1f-4f57-9a39-1f2b0c7d9e11",
		UnsubscribeURL:    "https://shop.example/u/tok",
		UnsubscribeMailto: "unsubscribe@shop.example",
	}
}

func decode(t *testing.T, h mail.Header, key string) string {
	t.Helper()
	v, err := new(mime.WordDecoder).DecodeHeader(h.Get(key))
	if err != nil {
		t.Fatalf("decode %s %q: %v", key, h.Get(key), err)
	}
	return v
}

func TestMessageArrivesWellFormed(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	id, err := m.Send(context.Background(), message("ming@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("sink got %d messages, want 1", len(got))
	}
	if got[0].From != "hello@shop.example" || len(got[0].To) != 1 || got[0].To[0] != "ming@example.com" {
		t.Errorf("envelope from %q to %q", got[0].From, got[0].To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(got[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if s := decode(t, h, "Subject"); s != "欢迎加入茶叶小铺 — welcome!" {
		t.Errorf("subject decodes to %q", s)
	}
	from, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(h.Get("From"))
	if err != nil || from.Name != "茶叶小铺 Tea Shop" || from.Address != "hello@shop.example" {
		t.Errorf("From %q parses to %v, %v", h.Get("From"), from, err)
	}
	to, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(h.Get("To"))
	if err != nil || to.Name != "王小明" {
		t.Errorf("To %q parses to %v, %v", h.Get("To"), to, err)
	}
	if h.Get("Reply-To") != "<care@shop.example>" && h.Get("Reply-To") != "care@shop.example" {
		t.Errorf("Reply-To = %q", h.Get("Reply-To"))
	}
	if h.Get("Message-Id") != "<"+id+">" || !strings.HasSuffix(id, "@shop.example") {
		t.Errorf("Message-ID = %q, Send returned %q", h.Get("Message-Id"), id)
	}
	if id != email.MessageID("welcome/c1/email/1", "shop.example") {
		t.Errorf("Message-ID %q is not derived from the idempotency key", id)
	}
	if h.Get(email.HeaderMessageID) != "5b0c4a4e-6c1f-4f57-9a39-1f2b0c7d9e11" {
		t.Errorf("%s = %q", email.HeaderMessageID, h.Get(email.HeaderMessageID))
	}
	if lu := h.Get("List-Unsubscribe"); lu != "<https://shop.example/u/tok>, <mailto:unsubscribe@shop.example?subject=unsubscribe>" {
		t.Errorf("List-Unsubscribe = %q", lu)
	}
	if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", h.Get("List-Unsubscribe-Post"))
	}

	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	var order []string
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" && cp["charset"] != "utf-8" {
			t.Errorf("%s part charset %q", ct, cp["charset"])
		}
		var body io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(body)
		parts[ct] = string(b)
		order = append(order, ct)
	}
	if fmt.Sprint(order) != "[text/plain text/html]" {
		t.Errorf("parts %v, want text then html (the last is preferred)", order)
	}
	if !strings.Contains(parts["text/plain"], "你好，小明！") || !strings.Contains(parts["text/html"], "<b>小明</b>") {
		t.Errorf("bodies do not decode: %q", parts)
	}
}

func TestNoOneClickWithoutHTTPS(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	msg := message("a@example.com")
	msg.UnsubscribeURL = "http://127.0.0.1:8080/u/tok"
	if _, err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	msg2 := message("b@example.com")
	msg2.UnsubscribeURL, msg2.UnsubscribeMailto = "", ""
	msg2.IdempotencyKey = "receipt/1"
	if _, err := m.Send(context.Background(), msg2); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	h0, _ := got[0].Header()
	if h0.Get("List-Unsubscribe") == "" || h0.Get("List-Unsubscribe-Post") != "" {
		t.Errorf("http link: List-Unsubscribe %q, Post %q (one-click needs https)", h0.Get("List-Unsubscribe"), h0.Get("List-Unsubscribe-Post"))
	}
	h1, _ := got[1].Header()
	if h1.Get("List-Unsubscribe") != "" || h1.Get("List-Unsubscribe-Post") != "" {
		t.Errorf("transactional message carries List-Unsubscribe %q", h1.Get("List-Unsubscribe"))
	}
}

func TestConnectionsAreReused(t *testing.T) {
	sink := startSink(t, smtpsink.Options{Discard: true})
	m := newMailer(t, sink.URL(), 2)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := message(fmt.Sprintf("c%d@example.com", i))
			msg.IdempotencyKey = fmt.Sprintf("k%d", i)
			_, err := m.Send(context.Background(), msg)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if sink.Count() != 100 {
		t.Errorf("sink accepted %d messages, want 100", sink.Count())
	}
	if sink.Connections() != 2 {
		t.Errorf("100 messages opened %d connections, want 2", sink.Connections())
	}
}

func TestBrokenConnectionIsReplaced(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	ctx := context.Background()
	if _, err := m.Send(ctx, message("a@example.com")); err != nil {
		t.Fatal(err)
	}
	sink.DropConnections()
	if _, err := m.Send(ctx, message("b@example.com")); err != nil {
		t.Fatalf("send after the relay dropped the connection: %v", err)
	}
	if sink.Count() != 2 || sink.Connections() != 2 {
		t.Errorf("got %d messages over %d connections, want 2 over 2", sink.Count(), sink.Connections())
	}
}

func TestTemporaryThenSuccessDeliversOnce(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Code: 451, Enhanced: "4.3.0", Message: "greylisted, try again later", Times: 1})
	ctx := context.Background()
	_, err := m.Send(ctx, message("a@example.com"))
	var e *email.Error
	if !errors.As(err, &e) || e.Permanent() || e.HardBounce() || e.Code != 451 {
		t.Fatalf("451 gave %v, want a temporary *email.Error with code 451", err)
	}
	if sink.Count() != 0 {
		t.Fatalf("sink accepted %d messages after a 451", sink.Count())
	}
	if _, err := m.Send(ctx, message("a@example.com")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sink.Count() != 1 || sink.Connections() != 1 {
		t.Errorf("got %d messages over %d connections, want 1 over 1", sink.Count(), sink.Connections())
	}
}

func TestPermanentFailures(t *testing.T) {
	cases := []struct {
		name       string
		fault      smtpsink.Fault
		hardBounce bool
	}{
		{"unknown mailbox", smtpsink.Fault{Stage: smtpsink.Rcpt, Code: 550, Enhanced: "5.1.1", Message: "no such user"}, true},
		{"policy block", smtpsink.Fault{Stage: smtpsink.Rcpt, Code: 550, Enhanced: "5.7.1", Message: "blocked by policy"}, false},
		{"content rejected", smtpsink.Fault{Stage: smtpsink.Data, Code: 554, Enhanced: "5.6.0", Message: "message refused"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{})
			m := newMailer(t, sink.URL(), 1)
			tc.fault.Times = 1
			sink.Inject(tc.fault)
			_, err := m.Send(context.Background(), message("gone@example.com"))
			var e *email.Error
			if !errors.As(err, &e) || !e.Permanent() || e.HardBounce() != tc.hardBounce || e.Enhanced != tc.fault.Enhanced {
				t.Fatalf("got %v (permanent=%v hardBounce=%v), want permanent, hard bounce %v", err, e != nil && e.Permanent(), e != nil && e.HardBounce(), tc.hardBounce)
			}
			// The connection stays usable for the next recipient.
			if _, err := m.Send(context.Background(), message("ok@example.com")); err != nil {
				t.Fatal(err)
			}
			if sink.Count() != 1 || sink.Connections() != 1 {
				t.Errorf("got %d messages over %d connections, want 1 over 1", sink.Count(), sink.Connections())
			}
		})
	}
}

func TestAuthAndUnreachableRelay(t *testing.T) {
	sink := startSink(t, smtpsink.Options{Username: "mailer", Password: "s3cret"})
	good := newMailer(t, sink.URL(), 1)
	if _, err := good.Send(context.Background(), message("a@example.com")); err != nil {
		t.Fatalf("authenticated send: %v", err)
	}
	bad := newMailer(t, strings.Replace(sink.URL(), "s3cret", "wrong", 1), 1)
	_, err := bad.Send(context.Background(), message("a@example.com"))
	var e *email.Error
	if !errors.As(err, &e) || e.Permanent() {
		t.Errorf("wrong password gave %v, want a temporary error (fix the config, the retry then works)", err)
	}

	down := newMailer(t, "smtp://127.0.0.1:1?tls=none&timeout=2s", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = down.Send(ctx, message("a@example.com"))
	if !errors.As(err, &e) || e.Permanent() || e.Stage != "connect" {
		t.Errorf("unreachable relay gave %v, want a temporary connect error", err)
	}
	if sink.Count() != 1 {
		t.Errorf("sink accepted %d messages, want 1", sink.Count())
	}
}

func TestParseURL(t *testing.T) {
	cases := []struct {
		url, want, err string
	}{
		{url: "smtp://user:pw@mail.example.com:587?tls=starttls", want: "mail.example.com:587 starttls user"},
		{url: "smtp://user:pw@mail.example.com", want: "mail.example.com:587 starttls user"},
		{url: "smtps://mail.example.com", want: "mail.example.com:465 implicit "},
		{url: "smtp://127.0.0.1:25?tls=none", want: "127.0.0.1:25 none "},
		{url: "smtp://relay.internal", want: "relay.internal:25 opportunistic "},
		{url: "smtp://relay.internal:2525?tls=opportunistic&timeout=5s", want: "relay.internal:2525 opportunistic "},
		{url: "http://mail.example.com", err: "scheme must be smtp or smtps"},
		{url: "smtp://mail.example.com?tls=maybe", err: `tls="maybe"`},
		{url: "smtp://mail.example.com:99999", err: "port"},
		{url: "smtp://mail.example.com?timeout=soon", err: "timeout"},
		{url: "smtp://u:pw@mail.example.com?tls=none", err: "refusing to send a password without TLS"},
		{url: "smtps://mail.example.com?tls=none", err: "always implicit TLS"},
	}
	for _, tc := range cases {
		s, err := email.ParseURL(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %v, want error containing %q", tc.url, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks the password: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if got := fmt.Sprintf("%s:%d %s %s", s.Host, s.Port, s.TLS, s.Username); got != tc.want {
			t.Errorf("ParseURL(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

// records keeps every log record at Warn or above, so a test can show that
// something a relay does routinely is not reported as trouble.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }
func (r *records) All() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// TestIdleTimeoutIsRedialedAtOnce: a relay that closes an idle connection
// (go-smtp answers "421 4.4.2 Idle timeout" and hangs up, like real relays
// after a minute) costs the next message a redial, not a failed attempt.
func TestIdleTimeoutIsRedialedAtOnce(t *testing.T) {
	sink := startSink(t, smtpsink.Options{IdleTimeout: 150 * time.Millisecond})
	logs := &records{}
	m, err := email.New(email.Config{URL: sink.URL(), From: "hello@shop.example", Connections: 1, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	for i, to := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if i > 0 {
			time.Sleep(400 * time.Millisecond) // the relay times the connection out
		}
		if _, err := m.Send(ctx, message(to)); err != nil {
			t.Fatalf("message %d after an idle period: %v", i+1, err)
		}
	}
	if sink.Count() != 3 || sink.Connections() != 3 {
		t.Errorf("got %d messages over %d connections, want 3 over 3", sink.Count(), sink.Connections())
	}
	if got := logs.All(); len(got) > 0 {
		t.Errorf("an idle timeout was logged as trouble: %q", got)
	}
}

// TestClosedPooledConnectionIsRedialed: the relay answers 421 at MAIL FROM
// or RCPT TO (closing the channel) on a connection it had accepted earlier,
// or hangs up without a word; the message goes out on a new connection.
func TestClosedPooledConnectionIsRedialed(t *testing.T) {
	for _, f := range []smtpsink.Fault{
		{Stage: smtpsink.Mail, Code: 421, Enhanced: "4.4.2", Message: "Idle timeout", Drop: true},
		{Stage: smtpsink.Rcpt, Code: 421, Enhanced: "4.4.2", Message: "Idle timeout", Drop: true},
		{Stage: smtpsink.Mail, Drop: true},
	} {
		t.Run(string(f.Stage)+fmt.Sprint(f.Code), func(t *testing.T) {
			sink := startSink(t, smtpsink.Options{})
			m := newMailer(t, sink.URL(), 1)
			ctx := context.Background()
			if _, err := m.Send(ctx, message("a@example.com")); err != nil {
				t.Fatal(err)
			}
			f.Times = 1
			sink.Inject(f)
			if _, err := m.Send(ctx, message("b@example.com")); err != nil {
				t.Fatalf("send after the relay closed the pooled connection: %v", err)
			}
			if sink.Count() != 2 || sink.Connections() != 2 {
				t.Errorf("got %d messages over %d connections, want 2 over 2", sink.Count(), sink.Connections())
			}
		})
	}
}

// TestBusyRelayIsLeftToBackoff: a 421 on a connection just dialed is the
// relay refusing work now; the Mailer does not hammer it with redials.
func TestBusyRelayIsLeftToBackoff(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	sink.Inject(smtpsink.Fault{Stage: smtpsink.Mail, Code: 421, Enhanced: "4.3.2", Message: "too busy", Drop: true})
	_, err := m.Send(context.Background(), message("a@example.com"))
	var e *email.Error
	if !errors.As(err, &e) || e.Permanent() || e.Code != 421 {
		t.Fatalf("421 on a fresh connection gave %v, want a temporary *email.Error with code 421", err)
	}
	if sink.Connections() != 1 || sink.Count() != 0 {
		t.Errorf("got %d messages over %d connections, want 0 over 1", sink.Count(), sink.Connections())
	}
}

// TestDroppedDuringDataIsResent: a relay that drops 2% of connections
// after 400 bytes of DATA. Every message still arrives, exactly once, from
// the first Send call.
func TestDroppedDuringDataIsResent(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	sink.Inject(smtpsink.Fault{Stage: smtpsink.Data, Drop: true, DropAfter: 400, Rate: 0.02})
	const n, conns = 300, 4
	m := newMailer(t, sink.URL(), conns)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := message(fmt.Sprintf("c%d@example.com", i))
			msg.IdempotencyKey = fmt.Sprintf("drop/%d", i)
			_, err := m.Send(context.Background(), msg)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("send: %v", err)
		}
	}
	ids := map[string]int{}
	for _, got := range sink.Messages() {
		h, err := got.Header()
		if err != nil {
			t.Fatal(err)
		}
		ids[h.Get("Message-Id")]++
	}
	for i := range n {
		id := "<" + email.MessageID(fmt.Sprintf("drop/%d", i), "shop.example") + ">"
		if ids[id] != 1 {
			t.Errorf("message %d arrived %d times", i, ids[id])
		}
	}
	if len(ids) != n {
		t.Errorf("sink has %d distinct messages, want %d", len(ids), n)
	}
	if sink.Connections() <= conns {
		t.Errorf("the relay dropped no connection (%d connections): the test proves nothing", sink.Connections())
	}
	t.Logf("%d messages over %d connections", sink.Count(), sink.Connections())
}

// TestDisplayNamesRoundTrip: names with quotes, apostrophes, non-ASCII
// letters and even control characters are written so that a standard
// parser reads back what the customer typed (control characters as
// spaces), and the message is delivered.
func TestDisplayNamesRoundTrip(t *testing.T) {
	cases := []struct{ name, want string }{
		{`Zoë "Zed" O'Brien`, `Zoë "Zed" O'Brien`},
		{`Quinn "Q`, `Quinn "Q`},
		{`O'Brien, Pat (work)`, `O'Brien, Pat (work)`},
		{"王芳", "王芳"},
		{"Eve\r\nBcc: evil@example.com", "Eve Bcc: evil@example.com"},
		{`back\slash`, `back\slash`},
		{strings.Repeat("Bartholomew ", 10) + "Ng", strings.Repeat("Bartholomew ", 10) + "Ng"},
	}
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	for i, tc := range cases {
		msg := message(fmt.Sprintf("n%d@example.com", i))
		msg.ToName = tc.name
		if _, err := m.Send(context.Background(), msg); err != nil {
			t.Fatalf("%q: %v", tc.name, err)
		}
	}
	got := sink.Messages()
	if len(got) != len(cases) {
		t.Fatalf("sink got %d messages, want %d", len(got), len(cases))
	}
	parser := &mail.AddressParser{WordDecoder: new(mime.WordDecoder)}
	for i, tc := range cases {
		h, err := got[i].Header()
		if err != nil {
			t.Fatal(err)
		}
		if len(h["Bcc"]) > 0 {
			t.Errorf("%q injected a Bcc header", tc.name)
		}
		to, err := parser.Parse(h.Get("To"))
		if err != nil {
			t.Errorf("To %q for %q: %v", h.Get("To"), tc.name, err)
			continue
		}
		if to.Name != tc.want || to.Address != fmt.Sprintf("n%d@example.com", i) {
			t.Errorf("To %q parses to %q <%s>, want %q", h.Get("To"), to.Name, to.Address, tc.want)
		}
	}
}

// TestStalledRelayIsNotResent: a relay that takes longer than the timeout
// to acknowledge DATA, and then delivers, gets no second copy from the
// Mailer; the caller's backoff decides.
func TestStalledRelayIsNotResent(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	sink.Inject(smtpsink.Fault{Stage: smtpsink.Data, Stall: 700 * time.Millisecond, Times: 1})
	m := newMailer(t, sink.URL()+"&timeout=300ms", 1)
	_, err := m.Send(context.Background(), message("a@example.com"))
	var e *email.Error
	if !errors.As(err, &e) || e.Permanent() {
		t.Fatalf("a stalled DATA gave %v, want a temporary error", err)
	}
	time.Sleep(time.Second) // the relay finishes with the message
	if sink.Count() != 1 || sink.Connections() != 1 {
		t.Errorf("got %d messages over %d connections, want 1 over 1", sink.Count(), sink.Connections())
	}
}

// The relay takes a message only after its Accept returns: the send path
// waits there for the outcome before, so Accept must come after the
// dialogue and before the final dot, and a refusal must leave nothing
// delivered and no connection half-way through DATA.
func TestAcceptComesBeforeTheRelayTakesTheMessage(t *testing.T) {
	sink := startSink(t, smtpsink.Options{})
	m := newMailer(t, sink.URL(), 1)
	ctx := context.Background()

	msg := message("a@example.com")
	calls := 0
	msg.Accept = func(context.Context) error {
		calls++
		if sink.Count() != 0 {
			t.Errorf("the relay had %d messages when Accept was called, want 0", sink.Count())
		}
		return nil
	}
	if _, err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || sink.Count() != 1 {
		t.Fatalf("Accept called %d times, relay has %d messages; want 1 and 1", calls, sink.Count())
	}

	// Refused: nothing delivered, the error is temporary and says why, and
	// the next message goes out on a fresh connection.
	refused := message("b@example.com")
	refused.IdempotencyKey = "welcome/c2/email/1"
	refused.Accept = func(context.Context) error { return context.Canceled }
	_, err := m.Send(ctx, refused)
	var e *email.Error
	if !errors.As(err, &e) || e.Permanent() || !errors.Is(err, context.Canceled) {
		t.Fatalf("refused Accept gave %v, want a temporary *email.Error wrapping context.Canceled", err)
	}
	next := message("c@example.com")
	next.IdempotencyKey = "welcome/c3/email/1"
	if _, err := m.Send(ctx, next); err != nil {
		t.Fatalf("send after a refused Accept: %v", err)
	}
	var to []string
	for _, got := range sink.Messages() {
		to = append(to, got.To...)
	}
	if want := []string{"a@example.com", "c@example.com"}; !slices.Equal(to, want) {
		t.Errorf("relay has messages to %v, want %v", to, want)
	}
	if sink.Connections() != 2 {
		t.Errorf("%d connections, want 2: the refused message's connection must be closed", sink.Connections())
	}
}
