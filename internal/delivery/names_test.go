package delivery_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
)

// TestFullNamesAsTheNameIsWritten: the To header carries the customer's
// full name exactly as a standard parser reads it back, a Chinese name
// family name first without a space (whatever the customer's locale), and
// the care team's alert, rendered in the team's language, shows it the
// same way.
func TestFullNamesAsTheNameIsWritten(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Shanghai")))
	cases := []struct{ first, last, locale, want string }{
		{"芳", "王", "zh-CN", "王芳"},
		{"芳", "王", "en", "王芳"},
		{`Zoë "Zed"`, "O'Brien", "en", `Zoë "Zed" O'Brien`},
		{`Quinn "Q`, "", "en", `Quinn "Q`},
	}
	parser := &mail.AddressParser{WordDecoder: new(mime.WordDecoder)}
	for i, tc := range cases {
		addr := string(rune('a'+i)) + "@example.com"
		id := h.person(t, tc.first, tc.last, tc.locale, addr)
		res, err := h.svc.Send(ctx, welcome(id, "welcome/"+id))
		if err != nil || res.Status != delivery.Sent {
			t.Fatalf("%q %q: %+v, %v", tc.first, tc.last, res, err)
		}
		msg := h.sink.Messages()[i]
		hdr, err := msg.Header()
		if err != nil {
			t.Fatal(err)
		}
		to, err := parser.Parse(hdr.Get("To"))
		if err != nil || to.Name != tc.want || to.Address != addr {
			t.Errorf("To %q parses to %v (%v), want %q <%s>", hdr.Get("To"), to, err, tc.want, addr)
		}
		if tc.locale == "zh-CN" && !strings.Contains(textPart(t, msg), "王芳，您好！") {
			t.Errorf("greeting changed: %s", textPart(t, msg))
		}
	}

	id := h.person(t, "芳", "王", "zh-CN", "fang@example.com")
	res, err := h.svc.Send(ctx, detractorAlert(id, "cn-9"))
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("alert: %+v, %v", res, err)
	}
	msgs := h.sink.Messages()
	if body := textPart(t, msgs[len(msgs)-1]); !strings.Contains(body, "Customer: 王芳 (cn-9)") {
		t.Errorf("the English alert does not name the customer 王芳:\n%s", body)
	}
}

// person stores a customer with the given name and returns its ID.
func (h *harness) person(tb testing.TB, first, last, locale, addr string) string {
	tb.Helper()
	zone := "Asia/Shanghai"
	c, _, err := h.store.UpsertCustomer(context.Background(), store.CustomerInput{
		ExternalID: addr, Email: &addr, FirstName: &first, LastName: &last, Locale: &locale, TimeZone: &zone,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

// textPart is the decoded text/plain part of a message the sink accepted.
func textPart(tb testing.TB, m smtpsink.Message) string {
	tb.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		tb.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		tb.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			tb.Fatalf("no text/plain part: %v", err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			continue
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
}
