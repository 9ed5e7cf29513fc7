package delivery_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestPolicy(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	type consent struct{ channel, topic, status string }
	cases := []struct {
		name          string
		zone, local   string // the customer's zone and wall-clock time of the send
		channel       string
		topic         string
		transactional bool
		ignoreQuiet   bool
		noEmail       bool
		consents      []consent
		suppress      string
		want          string
		reason        string
		deferUTC      string // DeferUntil in UTC
	}{
		{name: "evening in Shanghai waits for the morning", zone: "Asia/Shanghai", local: "2026-06-01 22:30",
			want: delivery.Deferred, deferUTC: "2026-06-02 01:00"},
		{name: "a minute before the end in Taipei", zone: "Asia/Taipei", local: "2026-06-01 08:59",
			want: delivery.Deferred, deferUTC: "2026-06-01 01:00"},
		{name: "quiet hours end at 09:00 in Taipei", zone: "Asia/Taipei", local: "2026-06-01 09:00", want: delivery.Sent},
		{name: "last minute before quiet hours in Shanghai", zone: "Asia/Shanghai", local: "2026-06-01 20:59", want: delivery.Sent},
		{name: "quiet hours start at 21:00 in London", zone: "Europe/London", local: "2026-06-01 21:00",
			want: delivery.Deferred, deferUTC: "2026-06-02 08:00"},
		{name: "New York the night clocks spring forward", zone: "America/New_York", local: "2026-03-07 23:00",
			want: delivery.Deferred, deferUTC: "2026-03-08 13:00"}, // 09:00 EDT, not 09:00 EST
		{name: "New York just before the jump", zone: "America/New_York", local: "2026-03-08 01:30",
			want: delivery.Deferred, deferUTC: "2026-03-08 13:00"},
		{name: "New York the night clocks fall back", zone: "America/New_York", local: "2026-10-31 22:00",
			want: delivery.Deferred, deferUTC: "2026-11-01 14:00"}, // 09:00 EST
		{name: "London the night clocks fall back", zone: "Europe/London", local: "2026-10-24 22:00",
			want: delivery.Deferred, deferUTC: "2026-10-25 09:00"}, // 09:00 GMT
		{name: "London the night clocks spring forward", zone: "Europe/London", local: "2026-03-29 00:30",
			want: delivery.Deferred, deferUTC: "2026-03-29 08:00"}, // 09:00 BST
		{name: "transactional ignores quiet hours", zone: "America/New_York", local: "2026-06-01 23:00",
			topic: delivery.TopicTransactional, want: delivery.Sent},
		{name: "transactional flag on a care topic", zone: "America/New_York", local: "2026-06-01 23:00",
			topic: delivery.TopicCare, transactional: true, want: delivery.Sent},
		{name: "IgnoreQuietHours sends at night", zone: "Asia/Taipei", local: "2026-06-01 23:00", ignoreQuiet: true, want: delivery.Sent},
		{name: "care respects quiet hours", zone: "Asia/Taipei", local: "2026-06-01 23:00", topic: delivery.TopicCare,
			want: delivery.Deferred, deferUTC: "2026-06-02 01:00"},
		{name: "SMS marketing needs opt-in", zone: "Asia/Shanghai", local: "2026-06-01 12:00", channel: delivery.SMS,
			want: delivery.Skipped, reason: delivery.ReasonNoOptIn},
		{name: "SMS marketing with opt-in", zone: "Asia/Shanghai", local: "2026-06-01 12:00", channel: delivery.SMS,
			consents: []consent{{delivery.SMS, delivery.TopicMarketing, store.Granted}}, want: delivery.Sent},
		{name: "email opt-in for SMS does not count", zone: "Asia/Shanghai", local: "2026-06-01 12:00", channel: delivery.SMS,
			consents: []consent{{delivery.Email, delivery.TopicMarketing, store.Granted}}, want: delivery.Skipped, reason: delivery.ReasonNoOptIn},
		{name: "SMS care is allowed unless opted out", zone: "Asia/Taipei", local: "2026-06-01 12:00", channel: delivery.SMS,
			topic: delivery.TopicCare, want: delivery.Sent},
		{name: "email marketing allowed unless opted out", zone: "Europe/London", local: "2026-06-01 12:00", want: delivery.Sent},
		{name: "email marketing opted out", zone: "Europe/London", local: "2026-06-01 12:00",
			consents: []consent{{delivery.Email, delivery.TopicMarketing, store.Denied}}, want: delivery.Skipped, reason: delivery.ReasonOptedOut},
		{name: "opted out of marketing still gets surveys", zone: "Europe/London", local: "2026-06-01 12:00", topic: delivery.TopicSurveys,
			consents: []consent{{delivery.Email, delivery.TopicMarketing, store.Denied}}, want: delivery.Sent},
		{name: "opt-out skips rather than defers at night", zone: "Asia/Shanghai", local: "2026-06-01 23:00",
			consents: []consent{{delivery.Email, delivery.TopicMarketing, store.Denied}}, want: delivery.Skipped, reason: delivery.ReasonOptedOut},
		{name: "opted out of everything: no care", zone: "America/New_York", local: "2026-06-01 12:00", topic: delivery.TopicCare,
			consents: []consent{{delivery.Email, delivery.TopicAll, store.Denied}}, want: delivery.Skipped, reason: delivery.ReasonOptedOut},
		{name: "opted out of everything: receipts still go", zone: "America/New_York", local: "2026-06-01 12:00", topic: delivery.TopicTransactional,
			consents: []consent{{delivery.Email, delivery.TopicAll, store.Denied}}, want: delivery.Sent},
		{name: "suppression stops even receipts", zone: "Asia/Taipei", local: "2026-06-01 12:00", topic: delivery.TopicTransactional,
			suppress: store.Manual, want: delivery.Skipped, reason: "suppressed:manual"},
		{name: "suppression beats opt-in", zone: "Asia/Taipei", local: "2026-06-01 12:00", suppress: store.Complaint,
			consents: []consent{{delivery.Email, delivery.TopicMarketing, store.Granted}}, want: delivery.Skipped, reason: "suppressed:complaint"},
		{name: "no email address", zone: "Asia/Taipei", local: "2026-06-01 12:00", noEmail: true,
			want: delivery.Skipped, reason: delivery.ReasonNoAddress},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			at, err := time.ParseInLocation("2006-01-02 15:04", tc.local, loc)
			if err != nil {
				t.Fatal(err)
			}
			mail, phone := fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("+8613800138%03d", i)
			if tc.noEmail {
				mail = ""
			}
			id := h.customer(t, fmt.Sprintf("policy-%d", i), "en", tc.zone, mail, phone)
			for _, c := range tc.consents {
				h.consent(t, id, c.channel, c.topic, c.status)
			}
			req := delivery.Request{CustomerID: id, Journey: "policy", Step: "s", Channel: delivery.Email, Template: "care",
				Topic: delivery.TopicMarketing, IdempotencyKey: fmt.Sprintf("policy/%d", i),
				Transactional: tc.transactional, IgnoreQuietHours: tc.ignoreQuiet}
			if tc.channel != "" {
				req.Channel, req.Template = tc.channel, "nudge"
			}
			if tc.topic != "" {
				req.Topic = tc.topic
			}
			if tc.suppress != "" {
				addr := mail
				if req.Channel == delivery.SMS {
					addr = phone
				}
				if err := h.store.Suppress(ctx, store.Suppression{Channel: req.Channel, Address: addr, Reason: tc.suppress}); err != nil {
					t.Fatal(err)
				}
			}
			h.clock.Set(at)
			before := h.sink.Count() + len(h.texts.Sent())

			res, err := h.svc.Send(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || res.Reason != tc.reason && tc.want == delivery.Skipped {
				t.Fatalf("got %s (%s), want %s (%s)", res.Status, res.Reason, tc.want, tc.reason)
			}
			delivered := h.sink.Count() + len(h.texts.Sent()) - before
			if (tc.want == delivery.Sent) != (delivered == 1) {
				t.Errorf("%d messages delivered for a %s result", delivered, res.Status)
			}
			row, err := testdb.MessageByKey(ctx, h.store, req.IdempotencyKey)
			switch tc.want {
			case delivery.Deferred:
				if got := res.DeferUntil.UTC().Format("2006-01-02 15:04"); got != tc.deferUTC {
					t.Errorf("deferred until %s UTC (%s local), want %s UTC", got, res.DeferUntil.In(loc).Format("2006-01-02 15:04 MST"), tc.deferUTC)
				}
				if err == nil {
					t.Errorf("a deferred message left a ledger row %+v", row)
				}
			case delivery.Skipped:
				if err != nil || row.Status != store.StatusSkipped || row.Reason != tc.reason {
					t.Errorf("ledger row %+v (%v), want skipped with reason %s", row, err, tc.reason)
				}
			}
		})
	}
}

func TestDeferredThenSentAfterQuietHours(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	loc := mustZone(t, "America/New_York")
	id := h.customer(t, "ny-defer", "en", "America/New_York", "ann@example.com", "")
	req := welcome(id, "welcome/"+id)
	h.clock.Set(time.Date(2026, 3, 7, 23, 0, 0, 0, loc))
	res, err := h.svc.Send(ctx, req)
	if err != nil || res.Status != delivery.Deferred {
		t.Fatalf("%+v, %v", res, err)
	}
	h.clock.Set(res.DeferUntil) // the workflow's timer fires
	res, err = h.svc.Send(ctx, req)
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("after the timer: %+v, %v", res, err)
	}
	if got := h.clock.Now().In(loc).Format("15:04 MST"); got != "09:00 EDT" {
		t.Errorf("sent at %s local", got)
	}
	// A late duplicate of the deferred attempt does not defer again.
	h.clock.Set(time.Date(2026, 3, 8, 23, 0, 0, 0, loc))
	res, err = h.svc.Send(ctx, req)
	if err != nil || !res.Duplicate || res.Status != delivery.Sent {
		t.Errorf("replay at night: %+v, %v", res, err)
	}
	if n := h.sink.Count(); n != 1 {
		t.Errorf("%d emails delivered, want 1", n)
	}
}

func TestFrequencyCaps(t *testing.T) {
	// A topic of the operator's own, from a policy file.
	topics, err := delivery.LoadTopics([]byte("topics:\n  newsletter:\n    consent: {email: opt-in}\n    caps:\n      - {channel: email, max: 1, per: 7d}\n"), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *delivery.Options) { o.Topics = topics })
	ctx := context.Background()
	id := h.customer(t, "cap-1", "zh-CN", "Asia/Shanghai", "fang@example.com", "+8613800138000")
	h.consent(t, id, delivery.Email, "newsletter", store.Granted)
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Shanghai")))
	send := func(topic, key string) delivery.Result {
		t.Helper()
		res, err := h.svc.Send(ctx, delivery.Request{CustomerID: id, Journey: "cap", Step: key, Channel: delivery.Email,
			Template: "care", Topic: topic, IdempotencyKey: "cap/" + key})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// Care and receipts are neither capped nor counted.
	for i := range 3 {
		if r := send(delivery.TopicCare, fmt.Sprint("care", i)); r.Status != delivery.Sent {
			t.Fatalf("care %d: %+v", i, r)
		}
		if r := send(delivery.TopicTransactional, fmt.Sprint("receipt", i)); r.Status != delivery.Sent {
			t.Fatalf("receipt %d: %+v", i, r)
		}
	}
	if r := send(delivery.TopicMarketing, "m1"); r.Status != delivery.Sent {
		t.Fatalf("first marketing email: %+v", r)
	}
	// The newsletter's own cap counts the marketing email already sent.
	if r := send("newsletter", "n1"); r.Status != delivery.Skipped || r.Reason != "frequency_cap: 1 email in 168h0m0s" {
		t.Fatalf("newsletter after a marketing email: %+v", r)
	}
	if r := send(delivery.TopicSurveys, "s1"); r.Status != delivery.Sent {
		t.Fatalf("survey as second capped email of the day: %+v", r)
	}
	if r := send(delivery.TopicMarketing, "m2"); r.Status != delivery.Skipped || r.Reason != "frequency_cap: 2 email in 24h0m0s" {
		t.Fatalf("third capped email of the day: %+v", r)
	}
	if r := send(delivery.TopicTransactional, "receipt-late"); r.Status != delivery.Sent {
		t.Fatalf("receipt after the cap: %+v", r)
	}
	if n := h.sink.Count(); n != 9 {
		t.Errorf("%d emails delivered, want 9", n)
	}
}

func TestPolicyFile(t *testing.T) {
	topics, err := delivery.LoadTopics([]byte(`# stricter marketing, a weekly digest
topics:
  marketing:
    consent: {email: opt-in, sms: opt-in}
    caps:
      - {channel: email, max: 3, per: 2w}
  digest:
    consent: {email: opt-out}
    uncapped: true
    ignore_quiet_hours: true
`), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := topics[delivery.TopicMarketing]
	if m.Consent[delivery.Email] != delivery.OptIn || len(m.Caps) != 1 || m.Caps[0] != (delivery.Cap{Channel: delivery.Email, Max: 3, Window: 14 * 24 * time.Hour}) {
		t.Errorf("marketing = %+v, want the file's opt-in email with 3 per 2 weeks", m)
	}
	if d := topics["digest"]; !d.Uncapped || !d.IgnoreQuietHours || d.Consent[delivery.Email] != delivery.OptOut {
		t.Errorf("digest = %+v", d)
	}
	if !topics[delivery.TopicTransactional].Transactional || len(topics[delivery.TopicSurveys].Caps) == 0 {
		t.Errorf("built-in topics the file does not name changed: %+v", topics)
	}

	for _, tc := range []struct{ name, file, want string }{
		{"bad yaml", "topics:\n  a: [\n", "policy.yaml:2:1: syntax error"},
		{"unknown top-level field", "topicz: {}\n", "policy.yaml:1:1: topicz: unknown key; expected one of topics, journeys"},
		{"unknown topic field", "topics:\n  news:\n    cap: []\n", "policy.yaml:3:5: topics.news.cap: unknown key"},
		{"bad rule", "topics:\n  news:\n    consent: {email: maybe}\n", "policy.yaml:3:22: topics.news.consent.email: expected opt-in or opt-out"},
		{"bad channel", "topics:\n  news:\n    consent: {fax: opt-in}\n", "policy.yaml:3:15: topics.news.consent.fax: unknown key; expected one of email, sms"},
		{"bad window", "topics:\n  news:\n    caps:\n      - {channel: email, max: 2, per: 3 days}\n", "policy.yaml:4:39: topics.news.caps[0].per: \"3 days\": expected a duration such as 30m, 12h, 3d, 2w or 6mo"},
		{"zero max", "topics:\n  news:\n    caps:\n      - {channel: sms, max: 0, per: 1d}\n", "policy.yaml:4:29: topics.news.caps[0].max: 0: expected a whole number 1-1000"},
		{"missing per", "topics:\n  news:\n    caps:\n      - {channel: sms, max: 1}\n", "policy.yaml:4:9: topics.news.caps[0].per: is required"},
		{"bad bool", "topics:\n  news:\n    uncapped: sometimes\n", "policy.yaml:3:15: topics.news.uncapped: expected true or false, got text \"sometimes\""},
		{"topic all", "topics:\n  all: {}\n", "policy.yaml:2:3: topics.all: \"all\" is the consent topic"},
		{"bad name", "topics:\n  Big News: {}\n", "policy.yaml:2:3: topics.Big News: topic \"Big News\": use lower-case letters"},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ntopics: {}\n",
			"policy.yaml:4:36: alias *c makes the aliases in the file stand for more than 10000 values"},
	} {
		_, err := delivery.LoadTopics([]byte(tc.file), "policy.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestRetryIsNotCappedByItself: cap 2 emails a day, one already sent; the
// second fails once with a 451 (its ledger row stays queued) and its retry
// goes out instead of counting itself and being skipped.
func TestRetryIsNotCappedByItself(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "cap-retry", "en", "America/New_York", "ann@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "America/New_York")))
	req := func(key string) delivery.Request {
		return delivery.Request{CustomerID: id, Journey: "cap", Step: key, Channel: delivery.Email,
			Template: "care", Topic: delivery.TopicMarketing, IdempotencyKey: "cap-retry/" + key}
	}
	if r, err := h.svc.Send(ctx, req("first")); err != nil || r.Status != delivery.Sent {
		t.Fatalf("first marketing email: %+v, %v", r, err)
	}
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Code: 451, Enhanced: "4.7.1", Message: "greylisted", Times: 1})
	if _, err := h.svc.Send(ctx, req("second")); err == nil {
		t.Fatal("a 451 reported success")
	}
	r, err := h.svc.Send(ctx, req("second")) // Temporal's retry
	if err != nil || r.Status != delivery.Sent {
		t.Fatalf("retry of the second email of the day: %+v, %v (want sent)", r, err)
	}
	if n := h.sink.Count(); n != 2 {
		t.Errorf("%d emails delivered, want 2", n)
	}
	// The cap still holds for a third message.
	if r, err := h.svc.Send(ctx, req("third")); err != nil || r.Status != delivery.Skipped || r.Reason != "frequency_cap: 2 email in 24h0m0s" {
		t.Fatalf("third marketing email of the day: %+v, %v", r, err)
	}
}
