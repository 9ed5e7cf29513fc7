package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// TestCampaignsValidateTable: what a marketer sees for good and broken
// files, with the exit status a script can branch on.
func TestCampaignsValidateTable(t *testing.T) {
	t.Parallel()
	const good = `name: thanks
audience: {match: {tags: buyer}}
trigger: {event: {type: order_delivered}}
steps:
  - send: {template: care, topic: care}
`
	for _, tc := range []struct {
		name, src string
		code      int
		want      []string
	}{
		{"valid", good, 0, []string{"c.yaml: ok — campaign thanks, event order_delivered, 1 step"}},
		{"yaml syntax", "name: thanks\naudience: [\n", exitUsage, []string{"c.yaml:2:1: syntax error"}},
		{"unknown key", good + "colour: red\n", exitUsage, []string{"c.yaml:6:1: colour: unknown key; expected one of name, description"}},
		{"missing trigger", strings.Replace(good, "trigger: {event: {type: order_delivered}}\n", "", 1), exitUsage,
			[]string{"c.yaml:1:1: trigger: is required"}},
		{"bad holdout", good + "holdout: 75\n", exitUsage, []string{"c.yaml:6:10: holdout: 75: expected a whole percentage 0-50"}},
		{"every problem at once", strings.Replace(good, "type: order_delivered", "where: {a: 1}", 1) + "holdout: 75\n", exitUsage,
			[]string{"c.yaml:3:18: trigger.event.type: is required", "c.yaml:6:10: holdout: 75"}},
		{"unknown template", strings.Replace(good, "template: care", "template: carre", 1), exitUsage,
			[]string{`c.yaml:5:22: steps[0].send.template: "carre": unknown template; expected one of`}},
		{"file and template problems in one pass", strings.Replace(good, "template: care", "template: carre", 1) + "holdout: 75\n", exitUsage,
			[]string{"c.yaml:5:22: steps[0].send.template: \"carre\"", "c.yaml:6:10: holdout: 75"}},
		{"template var missing", strings.Replace(good, "template: care", "template: vip_care", 1), exitUsage,
			[]string{`c.yaml:5:11: steps[0].send.vars: template vip_care uses var`, "expected vars coupon, discount_percent"}},
		{"unknown channel, said once", strings.Replace(good, "topic: care", "topic: care, channel: fax", 1), exitUsage,
			[]string{`c.yaml:5:50: steps[0].send.channel: "fax": expected email or sms`}},
		{"cron that never fires", strings.Replace(good, "{event: {type: order_delivered}}", `{schedule: {cron: "0 9 30 2 *", zone: Asia/Taipei}}`, 1), exitUsage,
			[]string{`c.yaml:3:28: trigger.schedule.cron: "0 9 30 2 *" never fires: day-of-month 30 never occurs in month 2`}},
		{"abbreviated zone", strings.Replace(good, "{event: {type: order_delivered}}", `{schedule: {cron: "0 9 * * MON", zone: EST}}`, 1), exitUsage,
			[]string{`c.yaml:3:49: trigger.schedule.zone: "EST" is not an IANA time zone (abbreviations are ambiguous); write America/New_York`}},
		{"var the template does not use", strings.Replace(good, "topic: care}", "topic: care, vars: {coupon: THANKS}}", 1), exitUsage,
			[]string{`c.yaml:5:48: steps[0].send.vars.coupon: template care does not use var "coupon" (it reads no vars)`}},
		{"once time long past", strings.Replace(good, "{event: {type: order_delivered}}", `{once: {at: "2020-04-01 10:00", zone: Asia/Shanghai}}`, 1), exitUsage,
			[]string{"c.yaml:3:22: trigger.once.at: 2020-04-01T10:00:00+08:00 has passed for every customer (more than late_after 12h ago); expected a future time"}},
		{"once time just past", strings.Replace(good, "{event: {type: order_delivered}}",
			fmt.Sprintf(`{once: {at: %q}}`, time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)), 1), 0,
			[]string{"c.yaml: ok — campaign thanks", "warning: ", "c.yaml:3:22: trigger.once.at:", "has already passed for some or all customers: they are sent as soon as the campaign is applied"}},
		{"alias bomb", readFile(t, "../../internal/campaign/testdata/alias-bomb.yaml"), exitUsage,
			[]string{"c.yaml:10:27: alias *d makes the aliases in the file stand for more than 10000 values"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tidings(t, map[string]string{}, "campaigns", "validate", writeFile(t, "c.yaml", tc.src))
			out := r.stdout + r.stderr
			for _, want := range tc.want {
				if r.code != tc.code || !strings.Contains(out, want) {
					t.Errorf("want exit %d and %q\n%s", tc.code, want, r)
				}
			}
			if tc.name == "unknown channel, said once" && strings.Count(out, "c.yaml:") != 1 {
				t.Errorf("want the channel reported once and nothing else\n%s", r)
			}
		})
	}
	if r := tidings(t, map[string]string{}, "campaigns", "validate"); r.code != exitUsage {
		t.Errorf("validate without a file:\n%s", r)
	}
	if r := tidings(t, map[string]string{}, "campaigns", "validate", "no-such-file.yaml"); r.code != exitUsage || !strings.Contains(r.stderr, "no-such-file.yaml") {
		t.Errorf("validate a missing file:\n%s", r)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCampaignsValidateTheExamples(t *testing.T) {
	t.Parallel()
	args := []string{"campaigns", "validate"}
	for _, f := range []string{"nps-after-delivery", "spring-sale-subject-test", "spring-winback", "vip-care-zh"} {
		args = append(args, "../../examples/campaigns/"+f+".yaml")
	}
	if r := tidings(t, map[string]string{}, args...); r.code != 0 || strings.Count(r.stdout, ": ok — campaign") != 4 {
		t.Errorf("validate the examples:\n%s", r)
	}
}

// campaignEnv is one installation for the end-to-end campaign test: a
// migrated database, a real Temporal server, a real SMTP server and
// `tidings worker` running in the test process.
type campaignEnv struct {
	t        *testing.T
	env      map[string]string
	store    *store.Store
	temporal client.Client
	sink     *smtpsink.Sink
}

func (e *campaignEnv) tidings(args ...string) result {
	e.t.Helper()
	r := tidings(e.t, e.env, args...)
	if r.code != 0 {
		e.t.Fatalf("tidings %s:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// mailTo returns the subjects of the emails that reached address, waiting
// until there are at least want.
func (e *campaignEnv) mailTo(address string, want int) []string {
	e.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		var subjects []string
		for _, m := range e.sink.Messages() {
			if slices.Contains(m.To, address) {
				h, err := m.Header()
				if err != nil {
					e.t.Fatal(err)
				}
				subjects = append(subjects, h.Get("Subject"))
			}
		}
		if len(subjects) >= want || time.Now().After(deadline) {
			return subjects
		}
	}
}

// waitFor polls until ok holds, or fails the test saying what.
func (e *campaignEnv) waitFor(what string, ok func() bool) {
	e.t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// gated reports whether a run has reached a send of a paused campaign: it
// sleeps on the gate's poll timer.
func (e *campaignEnv) gated(workflowID string) bool {
	it := e.temporal.GetWorkflowHistory(e.t.Context(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return false
		}
		if a := ev.GetTimerStartedEventAttributes(); a != nil && a.GetStartToFireTimeout().AsDuration() == workflows.CampaignGatePoll {
			return true
		}
	}
	return false
}

const thanksV1 = `name: thanks
description: Thank buyers when their order arrives, and follow up when they ask for help
audience: {match: {tags: buyer}}
trigger: {event: {type: order_delivered}}
goal: {event: purchase, within: 7d}
holdout: 50
steps:
  - send: {id: thanks, template: care, topic: care}
  - wait:
      event: help_requested
      timeout: 7d
      on_event:
        - send: {id: follow-up, template: welcome, topic: care}
`

// TestCampaignsEndToEnd runs the campaign commands and `tidings worker`
// against a real Temporal server, PostgreSQL and SMTP server: an applied
// event campaign sends through the send path when events are posted, the
// holdout receives nothing and is counted, an edit leaves runs in flight on
// their version, and a paused campaign sends nothing.
func TestCampaignsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s, srv, sink := journeyEnv(t, "cli-campaigns")
	env["TIDINGS_QUIET_HOURS"] = "00:00-00:00" // the test runs at any hour
	e := &campaignEnv{t: t, env: env, store: s, temporal: srv.GetDefaultClient(), sink: sink}

	// Buyers until there are four in the treatment and one in the holdout.
	var treated, held []store.Customer
	for i := 0; len(treated) < 4 || len(held) < 1; i++ {
		c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: fmt.Sprintf("B-%d", i),
			Email: testdb.String(fmt.Sprintf("buyer%d@example.com", i)), FirstName: testdb.String("Ada"), Tags: []string{"buyer"}})
		if err != nil {
			t.Fatal(err)
		}
		if campaign.HeldOut("thanks", c.ID, 50) {
			held = append(held, c)
		} else {
			treated = append(treated, c)
		}
	}

	ctx, stop := context.WithCancel(t.Context())
	var workerLog bytes.Buffer
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &bytes.Buffer{}, stderr: &workerLog, stdin: strings.NewReader("")}
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, a, []string{"worker", "--outbox-interval", "200ms"}) }()
	defer func() {
		stop()
		if code := <-exited; code != 0 {
			t.Errorf("worker exited %d; log:\n%s", code, workerLog.String())
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", workerLog.String())
		}
	}()

	v1 := writeFile(t, "thanks.yaml", thanksV1)
	if r := e.tidings("campaigns", "apply", v1); !strings.Contains(r.stdout, "campaign thanks: version 1 inserted") ||
		!strings.Contains(r.stdout, "runs start as events arrive") {
		t.Errorf("first apply:\n%s", r)
	}
	if r := e.tidings("campaigns", "apply", v1); !strings.Contains(r.stdout, "campaign thanks: version 1 unchanged") {
		t.Errorf("re-apply of the same file:\n%s", r)
	}

	// Delivered: the treatment customer is thanked, the held-out one is
	// entered and gets nothing.
	e.tidings("events", "send", "--customer", treated[0].ExternalID, "--type", "order_delivered")
	e.tidings("events", "send", "--customer", held[0].ExternalID, "--type", "order_delivered")
	if got := e.mailTo(treated[0].Email, 1); len(got) != 1 {
		t.Fatalf("%s received %v, want the thank-you", treated[0].Email, got)
	}
	heldRun := workflows.CampaignRunID("thanks", held[0].ID)
	e.waitFor("the held-out customer's run exists", func() bool {
		_, err := e.temporal.DescribeWorkflowExecution(t.Context(), heldRun, "")
		return err == nil
	})
	var out workflows.CampaignRunResult
	if err := e.temporal.GetWorkflow(t.Context(), heldRun, "").Get(t.Context(), &out); err != nil || out.Outcome != workflows.OutcomeHeldOut {
		t.Errorf("held-out run: %+v, %v; want held_out", out, err)
	}
	if got := e.mailTo(held[0].Email, 0); len(got) != 0 {
		t.Errorf("the held-out customer received %v", got)
	}

	// Version 2 follows up with other copy. The run under way keeps
	// version 1; a run started now takes version 2.
	v2 := writeFile(t, "thanks.yaml", strings.Replace(thanksV1, "{id: follow-up, template: welcome", "{id: follow-up, template: tips", 1))
	if r := e.tidings("campaigns", "apply", v2); !strings.Contains(r.stdout, "campaign thanks: version 2 updated") {
		t.Errorf("apply the edit:\n%s", r)
	}
	time.Sleep(router.DefaultCampaignsTTL) // the worker's router reads live campaigns once a second
	e.tidings("events", "send", "--customer", treated[1].ExternalID, "--type", "order_delivered")
	e.mailTo(treated[1].Email, 1)
	for _, c := range treated[:2] {
		e.tidings("events", "send", "--customer", c.ExternalID, "--type", "help_requested")
	}
	first, second := e.mailTo(treated[0].Email, 2), e.mailTo(treated[1].Email, 2)
	if len(first) != 2 || len(second) != 2 || first[1] == second[1] {
		t.Fatalf("follow-ups %q and %q, want one each, with different copy", first, second)
	}
	for i, want := range []struct{ version, template string }{{"1", "welcome"}, {"2", "tips"}} {
		key := campaign.RunKey("thanks", int(want.version[0]-'0'), treated[i].ID, "follow-up", 1)
		// The mail can reach the server a moment before the ledger says so.
		e.waitFor(fmt.Sprintf("follow-up of customer %d recorded", i+1), func() bool {
			m, err := testdb.MessageByKey(t.Context(), s, key)
			return err == nil && m.Status != store.StatusQueued
		})
		if m, err := testdb.MessageByKey(t.Context(), s, key); err != nil || m.Template != want.template || m.Status != store.StatusSent {
			t.Errorf("follow-up of customer %d: %+v, %v; want version %s's %s, sent", i+1, m, err, want.version, want.template)
		}
	}

	// Paused: a delivery starts a run that waits at its send; nothing goes out.
	if r := e.tidings("campaigns", "pause", "thanks"); !strings.Contains(r.stdout, "campaign thanks: paused") {
		t.Errorf("pause:\n%s", r)
	}
	e.tidings("events", "send", "--customer", treated[2].ExternalID, "--type", "order_delivered")
	pausedRun := workflows.CampaignRunID("thanks", treated[2].ID)
	e.waitFor("the run started during the pause waits at its send", func() bool { return e.gated(pausedRun) })
	if got := e.mailTo(treated[2].Email, 0); len(got) != 0 {
		t.Errorf("a paused campaign sent %v", got)
	}
	// Resumed: the run waiting at its send is woken and sends at once, not
	// at its next ten-minute check.
	resumed := time.Now()
	if r := e.tidings("campaigns", "resume", "thanks"); !strings.Contains(r.stdout, "campaign thanks: active") ||
		!strings.Contains(r.stdout, "runs waiting at a send: 1 woken") || !strings.Contains(r.stdout, "at most 12h late (late_after)") {
		t.Errorf("resume:\n%s", r)
	}
	if got := e.mailTo(treated[2].Email, 1); len(got) != 1 {
		t.Errorf("after resume, the run that waited sent %v, want the thank-you", got)
	} else if waited := time.Since(resumed); waited > workflows.CampaignGatePoll/2 {
		t.Errorf("the waiting run sent %s after the resume, want at once", waited)
	}
	e.tidings("events", "send", "--customer", treated[3].ExternalID, "--type", "order_delivered")
	if got := e.mailTo(treated[3].Email, 1); len(got) != 1 {
		t.Errorf("after resume, %s received %v, want the thank-you", treated[3].Email, got)
	}

	// Results: the first customer buys.
	e.tidings("events", "send", "--customer", treated[0].ExternalID, "--type", "purchase")
	e.waitFor("the purchase is routed", func() bool { n, _ := s.OutboxSize(t.Context()); return n == 0 })
	var rep store.CampaignReport
	if err := json.Unmarshal([]byte(e.tidings("report", "campaign", "thanks", "--json").stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Arms) != 2 {
		t.Fatalf("report arms %+v, want the treatment and the holdout", rep.Arms)
	}
	treat, hold := rep.Arms[0], rep.Arms[1]
	if treat.Holdout || treat.Entered != 4 || treat.Sent != 6 || treat.Converted != 1 {
		t.Errorf("treatment %+v, want 4 entered, 6 sent (the one that waited on the pause sent on resume), 1 converted", treat)
	}
	if !hold.Holdout || hold.Entered != 1 || hold.Sent != 0 || len(hold.Skipped) != 0 {
		t.Errorf("holdout %+v, want 1 entered, nothing sent", hold)
	}
	r := e.tidings("report", "campaign", "thanks")
	for _, want := range []string{"campaign thanks (active, version 2)", "treatment  4", "holdout    1", "uplift +25.0 percentage points"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report does not show %q:\n%s", want, r)
		}
	}

	if r := e.tidings("campaigns", "list"); !strings.Contains(r.stdout, "thanks  active  2        event") {
		t.Errorf("list:\n%s", r)
	}
	if r := e.tidings("campaigns", "show", "thanks", "--version", "1"); !strings.Contains(r.stdout, "version 1 of 2") || !strings.Contains(r.stdout, "template: welcome") {
		t.Errorf("show version 1:\n%s", r)
	}
	for _, args := range [][]string{{"campaigns", "pause", "autumn"}, {"report", "campaign", "autumn"}, {"campaigns", "show", "thanks", "--version", "9"}} {
		if r := tidings(t, env, args...); r.code != exitUsage {
			t.Errorf("tidings %s: want exit 2\n%s", strings.Join(args, " "), r)
		}
	}
}
