package catcher

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"
)

const (
	subjectZH = "欢迎加入 Tidings — 您的首单立减 20%"
	htmlBody  = `<html><body><h1>欢迎, Lin!</h1><p>Your <b>welcome</b> offer &amp; tips.</p><script>alert(1)</script></body></html>`
	textBody  = "欢迎, Lin!\nYour welcome offer & tips.\nUnsubscribe: https://example.test/u/abc"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startCatcher runs a real SMTP server and the web handler behind httptest.
func startCatcher(t *testing.T, capacity int) (*Inbox, *SMTPServer, *httptest.Server) {
	t.Helper()
	inbox := NewInbox(capacity)
	smtpSrv, err := ListenSMTP("127.0.0.1:0", inbox, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := smtpSrv.Close(); err != nil {
			t.Error(err)
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/dev/", NewHandler(inbox, "/dev", quietLog()))
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	return inbox, smtpSrv, web
}

// sendMail sends msg to the catcher over SMTP with go-mail, as the email
// channel does.
func sendMail(t *testing.T, addr string, msgs ...*mail.Msg) {
	t.Helper()
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	c, err := mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS),
		mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername("dev"), mail.WithPassword("dev"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msgs...); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func welcomeMail(t *testing.T, to string) *mail.Msg {
	t.Helper()
	m := mail.NewMsg()
	if err := m.From("Tidings <hello@tidings.example>"); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	m.Subject(subjectZH)
	m.SetGenHeader("List-Unsubscribe", "<https://example.test/u/abc>")
	m.SetBodyString(mail.TypeTextPlain, textBody)
	m.AddAlternativeString(mail.TypeTextHTML, htmlBody)
	if err := m.AttachReader("receipt.csv", strings.NewReader("order,total\n1,20\n")); err != nil {
		t.Fatal(err)
	}
	return m
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestEmailOverSMTPIsParsedAndListed(t *testing.T) {
	inbox, smtpSrv, web := startCatcher(t, 0)
	sendMail(t, smtpSrv.Addr(), welcomeMail(t, "lin@example.cn"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := inbox.Wait(ctx, Filter{Channel: Email, To: "lin@example.cn"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.Subject != subjectZH {
		t.Errorf("subject = %q, want %q", m.Subject, subjectZH)
	}
	if m.HTML != htmlBody {
		t.Errorf("html = %q, want %q", m.HTML, htmlBody)
	}
	if strings.TrimRight(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n") != textBody {
		t.Errorf("text = %q, want %q", m.Text, textBody)
	}
	if m.From != "hello@tidings.example" || len(m.To) != 1 || m.To[0] != "lin@example.cn" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if h := m.Header("list-unsubscribe"); h != "<https://example.test/u/abc>" {
		t.Errorf("List-Unsubscribe = %q", h)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "receipt.csv" || m.Attachments[0].Size != len("order,total\n1,20\n") {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	if m.ParseError != "" {
		t.Errorf("parse error: %s", m.ParseError)
	}

	// The list page shows the decoded subject, the recipient and the channel.
	res, body := get(t, web.URL+"/dev/mail")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list status %d", res.StatusCode)
	}
	for _, want := range []string{subjectZH, "lin@example.cn", `href="/dev/messages/1"`, ">email<"} {
		if !strings.Contains(body, want) {
			t.Errorf("list page lacks %q", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("list page CSP = %q", csp)
	}

	// The detail page shows text part and headers, escaped, and frames the
	// HTML from a sandboxed route instead of inlining it.
	_, body = get(t, web.URL+"/dev/messages/1")
	for _, want := range []string{"Your welcome offer &amp; tips.", "List-Unsubscribe", "&lt;https://example.test/u/abc&gt;",
		`<iframe sandbox src="/dev/messages/1/html"`, "receipt.csv"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("detail page contains the email's script unescaped")
	}

	res, body = get(t, web.URL+"/dev/messages/1/html")
	if body != htmlBody {
		t.Errorf("raw html = %q", body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") {
		t.Errorf("html route CSP = %q, want a sandbox", csp)
	}
}

func TestSMSEndpointSpeaksTwilio(t *testing.T) {
	inbox, _, web := startCatcher(t, 0)
	endpoint := web.URL + "/dev/sms/2010-04-01/Accounts/ACdev/Messages.json"
	body := "【Tidings】生日快乐！您的专属优惠码 BDAY20 今日有效。"

	post := func(form url.Values, auth bool) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth {
			req.SetBasicAuth("ACdev", "dev")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return res, out
	}

	res, out := post(url.Values{"To": {"+8613800138000"}, "From": {"+15005550006"}, "Body": {body},
		"StatusCallback": {"http://127.0.0.1:8080/webhooks/sms"}}, true)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %v", res.StatusCode, out)
	}
	sid, _ := out["sid"].(string)
	if !strings.HasPrefix(sid, "SM") || len(sid) != 34 || out["status"] != "queued" || out["account_sid"] != "ACdev" ||
		out["to"] != "+8613800138000" || out["body"] != body || out["num_segments"] != "1" {
		t.Errorf("reply = %v", out)
	}

	msgs := inbox.Messages(Filter{Channel: SMS})
	if len(msgs) != 1 || msgs[0].Text != body || msgs[0].SID != sid || msgs[0].StatusCallback != "http://127.0.0.1:8080/webhooks/sms" {
		t.Fatalf("stored = %+v", msgs)
	}

	_, page := get(t, web.URL+"/dev/sms")
	page = html.UnescapeString(page) // html/template writes + as &#43;
	if !strings.Contains(page, "+8613800138000") || !strings.Contains(page, "生日快乐") {
		t.Errorf("sms list lacks the message: %s", page)
	}
	_, page = get(t, web.URL+fmt.Sprintf("/dev/messages/%d", msgs[0].ID))
	if !strings.Contains(page, body) || !strings.Contains(page, sid) {
		t.Errorf("sms detail lacks body or sid")
	}

	// Requests Twilio refuses are refused the same way, and not stored.
	for _, tc := range []struct {
		form url.Values
		auth bool
		code float64
	}{
		{url.Values{"To": {"+8613800138000"}, "From": {"+15005550006"}, "Body": {"x"}}, false, 20003},
		{url.Values{"From": {"+15005550006"}, "Body": {"x"}}, true, 21604},
		{url.Values{"To": {"13800138000"}, "From": {"+15005550006"}, "Body": {"x"}}, true, 21211},
		{url.Values{"To": {"+8613800138000"}, "Body": {"x"}}, true, 21603},
		{url.Values{"To": {"+8613800138000"}, "From": {"+15005550006"}}, true, 21602},
	} {
		res, out := post(tc.form, tc.auth)
		if res.StatusCode < 400 || out["code"] != tc.code {
			t.Errorf("%v auth=%v: status %d body %v, want code %v", tc.form, tc.auth, res.StatusCode, out, tc.code)
		}
	}
	if n := inbox.Len(); n != 1 {
		t.Errorf("inbox holds %d messages after refused requests, want 1", n)
	}
}

func TestJSONList(t *testing.T) {
	inbox, smtpSrv, web := startCatcher(t, 0)
	sendMail(t, smtpSrv.Addr(), welcomeMail(t, "a@example.com"), welcomeMail(t, "b@example.com"))
	inbox.add(Message{Channel: SMS, To: []string{"+15551234567"}, Text: "hi"})

	_, body := get(t, web.URL+"/dev/messages.json?channel=email&to=B@example.com")
	var out struct{ Messages []Message }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || out.Messages[0].To[0] != "b@example.com" || out.Messages[0].Subject != subjectZH {
		t.Errorf("filtered json = %+v", out.Messages)
	}

	_, body = get(t, web.URL+"/dev/messages.json")
	out.Messages = nil
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 3 || out.Messages[0].Channel != SMS {
		t.Errorf("all json: %d messages, newest %v; want 3, newest sms", len(out.Messages), out.Messages[0].Channel)
	}

	res, _ := get(t, web.URL+"/dev/messages.json?channel=fax")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad channel: status %d", res.StatusCode)
	}
	res, _ = get(t, web.URL+"/dev/messages/999")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("missing message: status %d", res.StatusCode)
	}
}

func TestInboxKeepsOnlyTheNewest(t *testing.T) {
	inbox := NewInbox(3)
	for i := 1; i <= 5; i++ {
		inbox.add(Message{Channel: SMS, To: []string{"+15550000000"}, Text: strconv.Itoa(i)})
	}
	got := inbox.Messages(Filter{})
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, ",") != "5,4,3" {
		t.Errorf("held = %v, want 5,4,3", texts)
	}
	if _, ok := inbox.Message(2); ok {
		t.Error("message 2 should have been dropped")
	}
	if m, ok := inbox.Message(4); !ok || m.Text != "4" {
		t.Errorf("message 4 = %+v, %v", m, ok)
	}
	inbox.Clear()
	if inbox.Len() != 0 {
		t.Errorf("after clear: %d", inbox.Len())
	}
	if m := inbox.add(Message{Channel: SMS}); m.ID != 6 {
		t.Errorf("id after clear = %d, want 6 (ids never reused)", m.ID)
	}
}

func TestInboxRingOverSMTP(t *testing.T) {
	inbox, smtpSrv, web := startCatcher(t, 4)
	var msgs []*mail.Msg
	for i := range 6 {
		msgs = append(msgs, welcomeMail(t, fmt.Sprintf("c%d@example.com", i)))
	}
	sendMail(t, smtpSrv.Addr(), msgs...)
	if n := inbox.Len(); n != 4 {
		t.Fatalf("inbox holds %d, want 4", n)
	}
	_, body := get(t, web.URL+"/dev/")
	if strings.Contains(body, "c0@example.com") || strings.Contains(body, "c1@example.com") || !strings.Contains(body, "c5@example.com") {
		t.Error("list should show only the four newest recipients")
	}
	if !strings.Contains(body, "4 held (the newest 4 are kept)") {
		t.Error("list should say how many are held")
	}
}

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		body string
		want int
	}{
		{"", 0},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1}, // extension characters count twice
		{strings.Repeat("€", 81), 2},
		{strings.Repeat("生", 70), 1},
		{strings.Repeat("生", 71), 2},
		{strings.Repeat("生", 134), 2},
		{strings.Repeat("生", 135), 3},
	} {
		if got := Segments(tc.body); got != tc.want {
			t.Errorf("Segments(%d × %q) = %d, want %d", len([]rune(tc.body)), []rune(tc.body + " ")[0], got, tc.want)
		}
	}
}

func TestParseLegacyCharsetAndRawFallback(t *testing.T) {
	// A GB2312 subject and body, as older Chinese mail clients send them.
	raw := "From: a@example.cn\r\nTo: b@example.cn\r\nSubject: =?GB2312?B?xOO6ww==?=\r\n" +
		"Content-Type: text/plain; charset=GB2312\r\nContent-Transfer-Encoding: base64\r\n\r\nxOO6ww==\r\n"
	var m Message
	if err := parseEmail([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.Subject != "你好" || m.Text != "你好" {
		t.Errorf("subject %q text %q, want 你好", m.Subject, m.Text)
	}

	inbox := NewInbox(10)
	s := &session{inbox: inbox}
	_ = s.Mail("a@example.com", nil)
	_ = s.Rcpt("b@example.com", nil)
	if err := s.Data(strings.NewReader("this is not a header\r\n\r\nbody")); err != nil {
		t.Fatal(err)
	}
	got := inbox.Messages(Filter{})
	if len(got) != 1 || got[0].ParseError == "" || !strings.Contains(got[0].Text, "this is not a header") {
		t.Errorf("unparsable message = %+v", got)
	}
}
