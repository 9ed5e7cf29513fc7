package main

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/demo"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/templates"
)

var (
	hrefRE = regexp.MustCompile(`href="(https?://[^"]+)"`)
	urlRE  = regexp.MustCompile(`https?://[^\s<>"'）]+`)
)

// TestEveryTemplateLinkAnswersInDev sends every built-in template, in every
// locale and on every channel it has, through a running `tidings dev` (its
// API, send path and catcher), and clicks every http(s) link of what
// arrived as a browser does, following the tracker's redirects: each lands
// on a page that answers 200. The shop buttons lead to the company's
// website, the dev stack's demo shop page, not to the API.
func TestEveryTemplateLinkAnswersInDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env := map[string]string{
		"TIDINGS_DATABASE_URL": testdb.Create(t),
		"TIDINGS_API_ADDR":     "127.0.0.1:0",
		"TIDINGS_LOG_LEVEL":    "warn",
	}
	d := startDev(t, env, t.TempDir())
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	shop := d.api + demo.ShopPath
	followed, tracked, atShop, phone := 0, 0, 0, 0
	for _, name := range set.Names() {
		info, err := set.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Internal {
			continue // staff alerts, sent by journeys only
		}
		channels := []string{"email"}
		if info.SMS {
			channels = append(channels, "sms")
		}
		for _, locale := range info.Locales {
			sample, err := set.Sample(name, locale)
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]any{}
			for k, v := range sample.Vars {
				if s, ok := v.(string); ok && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) {
					v = shop + "/" + k // a link the caller gives: one that answers
				}
				vars[k] = v
			}
			for _, ch := range channels {
				ext := strings.ToLower(fmt.Sprintf("links-%s-%s-%s", name, locale, ch))
				to := ext + "@example.com"
				profile := map[string]any{"email": to, "first_name": "Ann", "locale": locale, "time_zone": "Europe/London"}
				if ch == "sms" {
					to = fmt.Sprintf("+1415555%04d", 100+phone)
					phone++
					profile["phone"] = to
				}
				body, _ := json.Marshal(profile)
				d.call(http.MethodPut, "/v1/customers/"+ext, string(body), nil)
				d.call(http.MethodPut, "/v1/customers/"+ext+"/consents/"+ch+"/marketing", `{"status":"granted","source":"test"}`, nil)
				req, _ := json.Marshal(map[string]any{"customer": ext, "template": name, "topic": "marketing", "channel": ch, "vars": vars, "idempotency_key": ext})
				var res struct{ Status, Reason string }
				d.call(http.MethodPost, "/v1/messages", string(req), &res)
				if res.Status != "sent" {
					t.Fatalf("%s (%s, %s): %s %s", name, locale, ch, res.Status, res.Reason)
				}
				var got struct {
					Messages []struct{ Text, HTML string }
				}
				d.call(http.MethodGet, "/dev/messages.json?channel="+ch+"&to="+url.QueryEscape(to), "", &got)
				if len(got.Messages) != 1 {
					t.Fatalf("%s (%s, %s): the catcher holds %d messages to %s", name, locale, ch, len(got.Messages), to)
				}
				m := got.Messages[0]
				var links []string
				for _, h := range hrefRE.FindAllStringSubmatch(m.HTML, -1) {
					links = append(links, html.UnescapeString(h[1]))
				}
				for _, u := range urlRE.FindAllString(m.Text, -1) {
					links = append(links, strings.TrimRight(u, ".,;:!?)。，"))
				}
				for _, link := range links {
					resp, err := http.Get(link)
					if err != nil {
						t.Errorf("%s (%s, %s): %s: %v", name, locale, ch, link, err)
						continue
					}
					resp.Body.Close()
					followed++
					if strings.HasPrefix(link, d.api+"/c/") {
						tracked++
					}
					if landed := resp.Request.URL.String(); strings.HasPrefix(landed, shop) {
						atShop++
					}
					if resp.StatusCode != http.StatusOK {
						t.Errorf("%s (%s, %s): %s answers %s (at %s)", name, locale, ch, link, resp.Status, resp.Request.URL)
					}
				}
			}
		}
	}
	if tracked == 0 || atShop == 0 {
		t.Errorf("of %d links followed, %d went through the tracker and %d reached the shop; want some of each", followed, tracked, atShop)
	}
	t.Logf("%d links followed: %d tracked, %d to the shop", followed, tracked, atShop)
}
