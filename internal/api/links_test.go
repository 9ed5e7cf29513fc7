package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

var textURL = regexp.MustCompile(`https?://[^\s<>"']+`)

// links lists every link of a message: the HTML hrefs, then the URLs of
// the text part.
func links(m parsedMail) []string {
	out := hrefs(m.HTML)
	for _, u := range textURL.FindAllString(m.Text, -1) {
		out = append(out, strings.TrimRight(u, ".,;:!?)"))
	}
	return out
}

// landing follows a link as a person's browser does and returns where it
// ended and with what status.
func landing(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := visitor(safari).Get(link)
	if err != nil {
		t.Fatalf("follow %s: %v", link, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL.Path + "?" + resp.Request.URL.RawQuery
}

// TestEveryBuiltInTemplateLinkStillAnswersAfterRewriting sends every
// built-in template in every locale twice, to a customer who is tracked and
// to one who turned tracking off, and follows every link of both: the
// tracked message's links land where the untracked one's do, with the same
// answer, and each rewritten link passes through the tracker to the shop.
func TestEveryBuiltInTemplateLinkStillAnswersAfterRewriting(t *testing.T) {
	e := newEngagement(t)
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	rewritten := 0
	for _, name := range set.Names() {
		info, err := set.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, locale := range info.Locales {
			sample, err := set.Sample(name, locale)
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]any{}
			for k, v := range sample.Vars {
				if s, ok := v.(string); ok && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
					v = e.shop.URL + "/" + k // a page of the shop's that answers
				}
				vars[k] = v
			}
			tracked := e.person(t, name+"-"+locale+"-on", locale, true)
			untracked := e.person(t, name+"-"+locale+"-off", locale, false)
			topic := delivery.TopicMarketing
			send := func(cust string) parsedMail {
				req := delivery.Request{CustomerID: cust, Journey: "links", Step: name, Channel: delivery.Email, Template: name,
					Topic: topic, Data: vars, IdempotencyKey: "links/" + cust, IgnoreQuietHours: true}
				if info.Internal {
					req.ToAddress = "care@harbourpine.example"
				}
				res, err := e.svc.Send(t.Context(), req)
				if err != nil || res.Status != delivery.Sent {
					t.Fatalf("%s (%s): %+v %v", name, locale, res, err)
				}
				msgs := e.sink.Messages()
				return parseMail(t, msgs[len(msgs)-1].Data)
			}
			on, off := links(send(tracked)), links(send(untracked))
			if len(on) != len(off) {
				t.Errorf("%s (%s): %d links tracked, %d untracked", name, locale, len(on), len(off))
				continue
			}
			for i := range on {
				gotStatus, gotAt := landing(t, on[i])
				wantStatus, wantAt := landing(t, off[i])
				tracks := strings.HasPrefix(on[i], e.http.URL+"/c/")
				if tracks {
					rewritten++
					if gotStatus != http.StatusOK || gotAt != wantAt {
						t.Errorf("%s (%s) link %d: the tracked link lands on %s with %d, the link itself on %s with %d", name, locale, i, gotAt, gotStatus, wantAt, wantStatus)
					}
					continue
				}
				if on[i] == off[i] || gotStatus != wantStatus || gotStatus >= 500 {
					// Public-page links carry each customer's own token.
					if gotStatus != wantStatus || gotStatus >= 500 {
						t.Errorf("%s (%s) link %d %s: %d, untracked %d", name, locale, i, on[i], gotStatus, wantStatus)
					}
				}
			}
		}
	}
	if rewritten == 0 {
		t.Fatal("no link of any built-in template was rewritten")
	}
	t.Logf("%d rewritten links followed", rewritten)
}

// person stores a customer in a locale, with tracking on or turned off.
func (e *engagement) person(t *testing.T, ext, locale string, tracked bool) string {
	t.Helper()
	e.customer(ext, map[string]any{"email": ext + "@example.com", "first_name": "Ann", "locale": locale, "time_zone": "Europe/London"})
	c, err := e.store.CustomerByExternalID(t.Context(), ext)
	if err != nil {
		t.Fatal(err)
	}
	if !tracked {
		if _, err := e.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: c.ID, Channel: "email", Topic: delivery.TopicTracking, Status: store.Denied, Source: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}
