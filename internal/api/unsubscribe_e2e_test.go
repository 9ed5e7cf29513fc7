package api

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/templates"
)

// TestOneClickUnsubscribeStopsTheNextMarketingEmail follows a real email: it
// goes through the send path to an SMTP server, its List-Unsubscribe URL is
// POSTed the way a mail client does (RFC 8058), and the next marketing email
// is not sent.
func TestOneClickUnsubscribeStopsTheNextMarketingEmail(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com", "time_zone": "UTC"})

	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	mailer, err := email.New(email.Config{URL: sink.URL(), From: "hello@tidings.example", FromName: "Tidings", Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mailer.Close() })
	set, err := templates.Load(templates.Options{DefaultLocale: "en", MaxSMSSegments: 3})
	if err != nil {
		t.Fatal(err)
	}
	send, err := delivery.New(a.store, set, mailer, nil, delivery.Options{
		DefaultLocale: "en", PublicURL: a.http.URL, UnsubscribeMailto: "unsubscribe@tidings.example",
		Company: templates.Company{Name: "Tidings", PostalAddress: "1 Harbour Road, Hong Kong"}, Signer: a.signer,
	})
	if err != nil {
		t.Fatal(err)
	}
	marketing := func(key string) delivery.Result {
		t.Helper()
		res, err := send.Send(t.Context(), delivery.Request{CustomerID: id, Journey: "campaign", Step: key, Channel: delivery.Email,
			Template: "nudge", Topic: delivery.TopicMarketing, IdempotencyKey: "campaign/" + id + "/" + key})
		if err != nil {
			t.Fatalf("send %s: %v", key, err)
		}
		return res
	}

	if res := marketing("spring"); res.Status != delivery.Sent || sink.Count() != 1 {
		t.Fatalf("first marketing email: %+v, %d delivered", res, sink.Count())
	}
	h, err := sink.Messages()[0].Header()
	if err != nil {
		t.Fatal(err)
	}
	// The test server is plain http, so the email carries List-Unsubscribe
	// without List-Unsubscribe-Post (providers offer one-click only over
	// https); the POST below is the one a provider sends for https links.
	var link string
	for _, part := range strings.Split(h.Get("List-Unsubscribe"), ",") {
		if p := strings.Trim(strings.TrimSpace(part), "<>"); strings.HasPrefix(p, a.http.URL) {
			link = p
		}
	}
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("no unsubscribe URL on this server in %q", h.Get("List-Unsubscribe"))
	}
	if status, body := a.form(u.Path, "List-Unsubscribe=One-Click"); status != 200 {
		t.Fatalf("one-click POST: %d\n%s", status, body)
	}

	res := marketing("summer")
	if res.Status != delivery.Skipped || res.Reason != delivery.ReasonOptedOut {
		t.Errorf("next marketing email: %+v, want skipped as opted out", res)
	}
	if sink.Count() != 1 {
		t.Errorf("%d emails delivered, want still 1", sink.Count())
	}
}
