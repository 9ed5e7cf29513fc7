package e2e

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/tidingsdev/tidings/internal/catcher"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// TestSignupWelcomesOnceInTheCustomersLocale posts a signup (twice, and once
// more under a new event ID, as a double-submitted form would) and an
// activation through the API.
func TestSignupWelcomesOnceInTheCustomersLocale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, setup{})
	zone := awake(t)
	id := e.customer(store.CustomerInput{ExternalID: "mei", Email: ptr("mei@example.cn"), FirstName: ptr("美玲"),
		Locale: ptr("zh-CN"), TimeZone: ptr(zone)})

	if res := e.event("signup-mei", "mei", workflows.EventSignup, nil, http.StatusCreated); !res.Routed {
		t.Errorf("signup %+v: want it routed to onboarding at once", res)
	}
	if res := e.event("signup-mei", "mei", workflows.EventSignup, nil, http.StatusOK); !res.Duplicate {
		t.Errorf("the same signup posted again: %+v, want a duplicate", res)
	}
	e.event("signup-mei-resubmitted", "mei", workflows.EventSignup, nil, http.StatusCreated)

	welcome := e.waitMail("mei@example.cn", 1)[0]
	if !strings.HasPrefix(welcome.Subject, "欢迎加入"+companyName) {
		t.Errorf("welcome subject %q, want the Simplified Chinese one", welcome.Subject)
	}
	if !strings.Contains(welcome.Text, "美玲") {
		t.Errorf("welcome text does not greet the customer by name:\n%s", welcome.Text)
	}
	// Mailbox providers require one-click unsubscribe (RFC 8058) on bulk
	// mail, and the welcome carries it like every non-transactional message.
	if lu, post := welcome.Header("List-Unsubscribe"), welcome.Header("List-Unsubscribe-Post"); !strings.Contains(lu, e.api.URL+"/u/") || post != "List-Unsubscribe=One-Click" {
		t.Errorf("welcome List-Unsubscribe %q, List-Unsubscribe-Post %q: want an https one-click link to /u/", lu, post)
	}

	// Activation ends the journey: the tips timer (day 2, 10:00 local) is
	// cancelled and the conversion is credited to the welcome. The welcome
	// reaches the mailbox a moment before the journey records it and
	// starts that timer; activate once it is waiting.
	journey := workflows.JourneyID(workflows.Onboarding, id)
	e.eventually("onboarding waiting for the tips", func() (bool, string) {
		started, _ := e.timers(journey)
		return len(started) > 0, fmt.Sprintf("%d timers", len(started))
	})
	e.event("activated-mei", "mei", workflows.EventActivated, nil, http.StatusCreated)
	var res workflows.OnboardingResult
	e.result(journey, &res)
	if res.Outcome != workflows.OutcomeConverted || !slices.Equal(res.Sent, []string{"welcome"}) {
		t.Errorf("onboarding %+v, want converted after the welcome alone", res)
	}
	loc, _ := time.LoadLocation(zone)
	started, cancelled := e.timers(journey)
	if len(started) == 0 {
		t.Fatal("onboarding never scheduled its tips")
	}
	tips := started[0]
	if local := tips.In(loc).Round(time.Minute); local.Hour() != 10 || local.Minute() != 0 || local.YearDay() == time.Now().In(loc).YearDay() {
		t.Errorf("tips were due at %s local, want 10:00 on a later day", local)
	}
	if cancelled != len(started) {
		t.Errorf("%d timers started, %d cancelled: the tips must be called off", len(started), cancelled)
	}
	if got := e.mailTo("mei@example.cn"); len(got) != 1 {
		t.Errorf("customer got %d emails %s, want the welcome once", len(got), subjects(got))
	}
	convs, err := testdb.Conversions(t.Context(), e.store, workflows.Onboarding)
	if err != nil || len(convs) != 1 || convs[0].CustomerID != id || convs[0].Step != "welcome" || convs[0].EventID != "activated-mei" {
		t.Errorf("conversions %+v (%v), want activated-mei credited to the welcome", convs, err)
	}
}

// TestWinbackStopsAtThePurchase: a lapsed customer gets "we miss you", buys,
// and hears nothing more; the order is recorded as the win-back's revenue.
// Another lapsed customer unsubscribes with one click from the same email
// and the later offers are skipped.
func TestWinbackStopsAtThePurchase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, setup{})
	zone := awake(t)
	lapsed := func(ext string) string {
		id := e.customer(store.CustomerInput{ExternalID: ext, Email: ptr(ext + "@example.com"), FirstName: ptr("Sam"), TimeZone: ptr(zone)})
		e.call(http.MethodPost, "/v1/events", map[string]any{
			"event_id": "old-order-" + ext, "customer": ext, "type": workflows.EventPurchase,
			"properties": map[string]any{"amount": 30, "currency": "EUR"}, "occurred_at": time.Now().AddDate(0, -4, 0),
		}, http.StatusCreated, nil)
		return id
	}
	buyer, leaver := lapsed("buyer"), lapsed("leaver")

	// The daily sweep starts the win-backs; the steps are seconds apart
	// instead of a week, long enough for the customer to act in between.
	e.start("winback-sweep", workflows.WinbackSweepWorkflow, workflows.WinbackSweepInput{
		Journey: workflows.WinbackInput{StepGap: 10 * time.Second},
	})
	var sweep workflows.WinbackSweepResult
	e.result("winback-sweep", &sweep)
	if sweep.Started != 2 {
		t.Fatalf("sweep %+v, want both lapsed customers started", sweep)
	}

	first := e.waitMail("buyer@example.com", 1)[0]
	if !strings.HasPrefix(first.Subject, "We miss you") {
		t.Errorf("first win-back email %q, want we-miss-you", first.Subject)
	}
	e.event("order-77", "buyer", workflows.EventPurchase, map[string]any{"amount": 59.5, "currency": "EUR"}, http.StatusCreated)

	var res workflows.WinbackResult
	e.result(workflows.JourneyID(workflows.Winback, buyer), &res)
	if res.Outcome != workflows.OutcomeConverted || !slices.Equal(res.Sent, []string{"miss_you"}) {
		t.Errorf("win-back %+v, want converted after the first email", res)
	}
	if got := e.mailTo("buyer@example.com"); len(got) != 1 {
		t.Errorf("buyer got %d emails %s, want nothing after the purchase", len(got), subjects(got))
	}
	convs, err := testdb.Conversions(t.Context(), e.store, workflows.Winback)
	if err != nil || len(convs) != 1 || convs[0].CustomerID != buyer || convs[0].EventID != "order-77" ||
		math.Abs(convs[0].Revenue-59.5) > 1e-9 || convs[0].Currency != "EUR" || convs[0].Step != "miss_you" {
		t.Errorf("conversions %+v (%v), want order-77 worth 59.50 EUR credited to miss_you", convs, err)
	}

	// One click on List-Unsubscribe, as a mail client sends it (RFC 8058).
	miss := e.waitMail("leaver@example.com", 1)[0]
	e.oneClick(miss)
	if st, err := e.store.ConsentStatus(t.Context(), leaver, "email", "marketing"); err != nil || st != store.Denied {
		t.Fatalf("consent after one-click unsubscribe: %q (%v), want denied", st, err)
	}
	e.result(workflows.JourneyID(workflows.Winback, leaver), &res)
	if got := e.mailTo("leaver@example.com"); len(got) != 1 {
		t.Errorf("unsubscribed customer got %d emails %s, want only the one they unsubscribed from", len(got), subjects(got))
	}
	var skipped []string
	for _, m := range e.ledger(leaver) {
		if m.Status == store.StatusSkipped && m.Reason == "opted_out" {
			skipped = append(skipped, m.Step)
		}
	}
	if !slices.Equal(skipped, []string{"offer", "last_chance"}) {
		t.Errorf("skipped for opting out: %v, want the offer and the last chance", skipped)
	}
}

// oneClick posts the https List-Unsubscribe URL of m with the RFC 8058 body.
func (e *env) oneClick(m catcher.Message) {
	e.t.Helper()
	if post := m.Header("List-Unsubscribe-Post"); post != "List-Unsubscribe=One-Click" {
		e.t.Fatalf("List-Unsubscribe-Post %q, want List-Unsubscribe=One-Click", post)
	}
	link := regexp.MustCompile(`<(https://[^>]+)>`).FindStringSubmatch(m.Header("List-Unsubscribe"))
	if link == nil || !strings.HasPrefix(link[1], e.api.URL+"/u/") {
		e.t.Fatalf("List-Unsubscribe %q has no https link to this API", m.Header("List-Unsubscribe"))
	}
	resp, err := e.api.Client().PostForm(link[1], url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("one-click unsubscribe answered %s", resp.Status)
	}
}

// TestSurveyDetractorAlertsTheCareTeam answers a survey with 2 of 10 from the
// link in the email and leaves a comment; another customer never answers and
// is reminded exactly once.
func TestSurveyDetractorAlertsTheCareTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, setup{})
	zone := awake(t)
	unhappy := e.customer(store.CustomerInput{ExternalID: "C-1001", Email: ptr("ana@example.com"), FirstName: ptr("Ana"), TimeZone: ptr(zone)})
	silent := e.customer(store.CustomerInput{ExternalID: "C-1002", Email: ptr("bo@example.com"), FirstName: ptr("Bo"), TimeZone: ptr(zone)})

	// The survey journey as the router starts it on order_delivered, with
	// the day's delay and the reminder waits shortened to seconds.
	for _, id := range []string{unhappy, silent} {
		e.start(workflows.JourneyID(workflows.Survey, id), workflows.SurveyWorkflow, workflows.SurveyInput{
			CustomerID: id, Trigger: workflows.Event{EventID: "delivered-" + id, Type: workflows.EventOrderDelivered, OccurredAt: time.Now()},
			Delay: time.Second, AnswerWait: 20 * time.Second, ReminderWait: 2 * time.Second,
		})
	}

	ask := e.waitMail("ana@example.com", 1)[0]
	link := regexp.MustCompile(`https://\S+/s/[A-Za-z0-9_.~-]+`).FindString(ask.Text)
	if link == "" {
		t.Fatalf("survey email has no answer link:\n%s", ask.Text)
	}
	e.answerSurvey(link, 2, "The parcel arrived crushed")

	alert := e.waitMail(careTeam, 1)[0]
	if !strings.Contains(alert.Subject, "C-1001") || !strings.Contains(alert.Subject, "2") {
		t.Errorf("care alert subject %q, want the customer's reference and score 2", alert.Subject)
	}
	if !strings.Contains(alert.Text, "Score: 2 / 10") {
		t.Errorf("care alert does not show the score:\n%s", alert.Text)
	}
	if !strings.Contains(alert.Text, "The parcel arrived crushed") {
		t.Errorf("care alert does not carry the customer's comment:\n%s", alert.Text)
	}
	var res workflows.SurveyResult
	e.result(workflows.JourneyID(workflows.Survey, unhappy), &res)
	if res.Outcome != workflows.OutcomeDetractor || res.Score == nil || *res.Score != 2 {
		t.Errorf("survey %+v, want a detractor scoring 2", res)
	}
	if got := e.mailTo(careTeam); len(got) != 1 {
		t.Errorf("care team got %d alerts %s, want one", len(got), subjects(got))
	}

	e.result(workflows.JourneyID(workflows.Survey, silent), &res)
	if res.Outcome != workflows.OutcomeNoResponse {
		t.Errorf("unanswered survey %+v, want no_response", res)
	}
	got := e.mailTo("bo@example.com")
	if len(got) != 2 || !strings.HasPrefix(got[0].Subject, "One quick question") || !strings.HasPrefix(got[1].Subject, "Still have a second") {
		t.Errorf("silent customer got %s, want the survey and exactly one reminder", subjects(got))
	}
}

// answerSurvey answers as a customer does: the score tapped in the email
// opens the page with it preselected, and sending the page's form (with
// its token) is the answer.
func (e *env) answerSurvey(link string, score int, comment string) {
	e.t.Helper()
	page := e.page(http.MethodGet, fmt.Sprintf("%s?score=%d", link, score), nil)
	confirm := regexp.MustCompile(`name="confirm" value="([^"]+)"`).FindStringSubmatch(page)
	if confirm == nil || !strings.Contains(page, fmt.Sprintf(`value="%d" required checked`, score)) {
		e.t.Fatalf("survey page has no form with %d preselected:\n%s", score, page)
	}
	e.page(http.MethodPost, link, url.Values{"score": {fmt.Sprint(score)}, "comment": {comment}, "confirm": {confirm[1]}})
}

// page requests a public page customers reach from an email and returns it.
func (e *env) page(method, link string, form url.Values) string {
	e.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = e.api.Client().PostForm(link, form)
	} else {
		resp, err = e.api.Client().Get(link)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s %s: %s", method, link, resp.Status)
	}
	return string(body)
}

// timers returns when each timer of a workflow was due to fire, and how
// many were cancelled.
func (e *env) timers(id string) (due []time.Time, cancelled int) {
	e.t.Helper()
	for _, ev := range e.history(id) {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a := ev.GetTimerStartedEventAttributes()
			due = append(due, ev.GetEventTime().AsTime().Add(a.GetStartToFireTimeout().AsDuration()))
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			cancelled++
		}
	}
	return due, cancelled
}

func (e *env) history(id string) []*historypb.HistoryEvent {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), wait)
	defer cancel()
	var out []*historypb.HistoryEvent
	it := e.temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			e.t.Fatalf("history of %s: %v", id, err)
		}
		out = append(out, ev)
	}
	return out
}
