package console_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// thanksCampaign sends a survey as soon as an order is delivered.
const thanksCampaign = `name: thanks-after-delivery
description: Survey as soon as an order arrives
audience:
  match:
    orders_count: {gte: 1}
trigger:
  event:
    type: order_delivered
steps:
  - send: {id: ask, template: survey_request, topic: surveys, vars: {survey: nps}}
`

// TestCustomerTimelineShowsTheCampaignsMessage runs a campaign for real
// (worker, router, SMTP server) and follows it in the browser: the
// marketer finds the customer, sees the campaign's message on their
// timeline and opens it; a viewer finds the same customer with the email
// address masked, and the message log lists the message. The campaign
// entry links to its run in the Temporal Web UI, which shows that run.
func TestCustomerTimelineShowsTheCampaignsMessage(t *testing.T) {
	e := newConsole(t, withTemporalUI)
	e.runJourneys()
	e.user("mia@example.com", access.Marketer)
	e.user("vic@example.com", access.Viewer)
	ctx := t.Context()
	if _, err := e.mgmt.ApplyCampaign(ctx, access.Operator("test"), mgmt.CampaignFile{Text: []byte(thanksCampaign)}); err != nil {
		t.Fatal(err)
	}
	c, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{
		ExternalID: "tw-7", Email: testdb.String("lin@example.com"), FirstName: testdb.String("怡君"), LastName: testdb.String("林"),
		Locale: testdb.String("zh-TW"), TimeZone: testdb.String("Asia/Taipei"), Tags: []string{"vip"},
	})
	if err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, e.store, `UPDATE customers SET orders_count = 3 WHERE id = $1`, c.ID)
	if _, err := e.store.RecordEvent(ctx, store.EventInput{EventID: "delivered-1", CustomerID: c.ID, Type: "order_delivered", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var sent store.LoggedMessage
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		ms, _, err := e.store.ListMessages(ctx, store.MessageFilter{Campaign: "thanks-after-delivery", Status: store.StatusSent, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 1 {
			sent = ms[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign sent nothing in a minute (%d emails at the SMTP server)", e.sink.Count())
		}
	}

	b := e.browser("en")
	e.signIn(b, "mia@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/customers"), chromedp.WaitVisible("#q", chromedp.ByID),
		chromedp.SendKeys("#q", "lin@example.com", chromedp.ByID), chromedp.Submit("#search", chromedp.ByID),
		chromedp.WaitVisible(`tr[data-customer="tw-7"]`))
	if got := e.text(b, `tr[data-customer="tw-7"]`); !strings.Contains(got, "lin@example.com") || !strings.Contains(got, "vip") {
		t.Fatalf("search result: %q", got)
	}
	e.shots(b, "customers", "en", "zh-CN")
	e.run(b, chromedp.Click(`tr[data-customer="tw-7"] a`), chromedp.WaitVisible("#timeline", chromedp.ByID))
	item := e.text(b, `#timeline li[data-kind="message"]`)
	if !strings.Contains(item, "survey_request") || !strings.Contains(item, "campaign/thanks-after-delivery") || !strings.Contains(item, "Sent") ||
		!strings.Contains(item, "Asia/Taipei") {
		t.Fatalf("timeline's message: %q", item)
	}
	if got := e.text(b, `#timeline li[data-kind="campaign"]`); !strings.Contains(got, "thanks-after-delivery") {
		t.Fatalf("timeline's campaign entry: %q", got)
	}
	e.shots(b, "customer", "en", "zh-CN")

	// The entry's link is the Web UI's route for the run
	// (/namespaces/{ns}/workflows/{id}/{runId}), and following it the UI
	// shows that run of the campaign.
	var runID string
	if err := e.store.Pool().QueryRow(ctx, `SELECT run_id FROM campaign_entries WHERE customer_id = $1`, c.ID).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	var href string
	e.run(b, chromedp.AttributeValue(`#timeline li[data-kind="campaign"] a.temporal`, "href", &href, nil))
	workflowID := workflows.CampaignRunID("thanks-after-delivery", c.ID)
	want := e.env["TIDINGS_TEMPORAL_UI_URL"] + "/namespaces/" + e.env["TIDINGS_TEMPORAL_NAMESPACE"] + "/workflows/" + url.PathEscape(workflowID) + "/" + runID
	if href != want {
		t.Fatalf("run link %s, want %s", href, want)
	}
	// The IDs in the link name the real run, and the Web UI serves its page
	// at that address.
	tc, err := e.app.Temporal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.DescribeWorkflowExecution(ctx, workflowID, runID); err != nil {
		t.Fatalf("the linked run %s/%s: %v", workflowID, runID, err)
	}
	res, err := http.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
		t.Fatalf("the Web UI answers %s with %d", href, res.StatusCode)
	}
	if got := e.text(b, `#timeline li[data-kind="message"]`); strings.Contains(got, "Temporal") {
		t.Fatalf("a message links to Temporal: %q", got)
	}
	e.run(b, chromedp.Click(`#timeline li[data-kind="message"] a`), chromedp.WaitVisible("#ledger", chromedp.ByID))
	var loc string
	e.run(b, chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/console/messages/"+sent.ID) {
		t.Fatalf("message link went to %s, want the message %s", loc, sent.ID)
	}
	if got := e.text(b, "#message-status"); got != "Sent" {
		t.Fatalf("message status: %q", got)
	}
	if got := e.text(b, "#subject"); !containsHan(got) {
		t.Fatalf("subject of the zh-TW customer's survey: %q", got)
	}
	e.shots(b, "message", "en", "zh-CN")

	// The viewer finds the customer by name; the address is masked, and
	// the message log lists the message with the address masked too.
	v := e.browser("zh-TW")
	e.signIn(v, "vic@example.com")
	e.run(v, chromedp.Navigate(e.url+"/console/customers?q=%E6%80%A1"), chromedp.WaitVisible(`tr[data-customer="tw-7"]`))
	if got := e.text(v, `tr[data-customer="tw-7"]`); strings.Contains(got, "lin@example.com") || !strings.Contains(got, "l•••@example.com") {
		t.Fatalf("viewer's search result shows %q", got)
	}
	e.run(v, chromedp.Navigate(e.url+"/console/messages?campaign=thanks-after-delivery"), chromedp.WaitVisible(`tr[data-message="`+sent.ID+`"]`))
	if got := e.text(v, `tr[data-message="`+sent.ID+`"]`); strings.Contains(got, "lin@example.com") || !strings.Contains(got, "已寄出") {
		t.Fatalf("viewer's message log row: %q", got)
	}
	e.shots(v, "messages", "zh-TW", "en", "zh-CN")
}

// TestAdminExportsAndErasesACustomer: an admin's customer page offers the
// export (everything stored, as a JSON download) and the erasure, which
// asks for the external ID typed out: a wrong one erases nothing and says
// why; the right one erases the profile and lands on the customer list.
// Both are in the audit log. A viewer sees neither, and a forged erasure
// is refused.
func TestAdminExportsAndErasesACustomer(t *testing.T) {
	e := newConsole(t)
	e.user("ada@example.com", access.Admin)
	e.user("vic@example.com", access.Viewer)
	ctx := t.Context()
	c, _, err := e.store.UpsertCustomer(ctx, store.CustomerInput{
		ExternalID: "hk-3", Email: testdb.String("wing@example.hk"), FirstName: testdb.String("詠詩"), LastName: testdb.String("陳"),
		Locale: testdb.String("zh-TW"), TimeZone: testdb.String("Asia/Hong_Kong"),
	})
	if err != nil {
		t.Fatal(err)
	}
	page := e.url + "/console/customers/" + c.ID

	v := e.browser("en")
	e.signIn(v, "vic@example.com")
	var buttons int
	e.run(v, chromedp.Navigate(page), chromedp.WaitVisible("h1", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#export, #erase").length`, &buttons))
	if h := e.text(v, "h1"); !strings.Contains(h, "hk-3") {
		t.Fatalf("the viewer's page is headed %q, want the customer hk-3", h)
	}
	if buttons != 0 {
		t.Errorf("a viewer's customer page shows %d of export and erase, want none", buttons)
	}
	if status := e.post(v, "/console/customers/"+c.ID+"/erase", map[string]string{"csrf_token": e.csrf(v), "confirm": "hk-3"}); status != http.StatusForbidden {
		t.Errorf("a viewer's forged erasure: %d, want 403", status)
	}

	b := e.browser("en")
	e.signIn(b, "ada@example.com")
	e.run(b, chromedp.Navigate(page), chromedp.WaitVisible("#export", chromedp.ByID))
	var export string
	e.run(b, chromedp.Evaluate(`(async () => {
		const r = await fetch("/console/customers/`+c.ID+`/export", {method: "POST", body: new URLSearchParams({csrf_token: document.querySelector("input[name=csrf_token]").value})});
		return r.headers.get("Content-Disposition") + "\n" + await r.text();
	})()`, &export, awaitPromise))
	if !strings.HasPrefix(export, `attachment; filename="customer-`+c.ID+`.json"`) || !strings.Contains(export, "wing@example.hk") || !strings.Contains(export, "詠詩") {
		t.Errorf("export = %.300q; want a JSON download with the customer's email and name", export)
	}

	e.run(b, chromedp.SendKeys(`#erase input[name=confirm]`, "hk-4", chromedp.ByQuery))
	e.submit(b, `#erase button[type=submit]`, "#error-message")
	if got := e.text(b, "#error-message"); !strings.Contains(got, "hk-3") {
		t.Errorf("a mistyped confirmation says %q; want it to name the external ID to type", got)
	}
	var erased *time.Time
	if err := e.store.Pool().QueryRow(ctx, `SELECT erased_at FROM customers WHERE id = $1`, c.ID).Scan(&erased); err != nil || erased != nil {
		t.Fatalf("a mistyped confirmation: erased_at %v (%v); want the customer left as it was", erased, err)
	}
	e.run(b, chromedp.Navigate(page), chromedp.WaitVisible("#erase", chromedp.ByID), chromedp.SendKeys(`#erase input[name=confirm]`, "hk-3", chromedp.ByQuery))
	e.submit(b, `#erase button[type=submit]`, "#q")
	var loc string
	e.run(b, chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/console/customers?done=erased") {
		t.Errorf("after the erasure the browser is at %s, want the customer list", loc)
	}
	var email *string
	if err := e.store.Pool().QueryRow(ctx, `SELECT erased_at, email FROM customers WHERE id = $1`, c.ID).Scan(&erased, &email); err != nil || erased == nil || email != nil {
		t.Errorf("after the erasure: erased_at %v, email %v (%v); want erased, no email", erased, email, err)
	}
	var actions []string
	if err := e.store.Pool().QueryRow(ctx, `SELECT array_agg(action ORDER BY id) FROM audit_log WHERE target = $1 AND actor_name = 'ada@example.com'`,
		"customer:"+c.ID).Scan(&actions); err != nil || strings.Join(actions, ",") != "customer.export,customer.erase" {
		t.Errorf("audit log for the customer: %v (%v), want the export then the erasure by the admin", actions, err)
	}
}
