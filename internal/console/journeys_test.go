package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
)

// TestJourneysAndSchedules: ops sees the registry and the default
// schedules with their next firings, pauses one and unpauses it; a
// marketer sees the same page without the buttons.
func TestJourneysAndSchedules(t *testing.T) {
	e := newConsole(t)
	e.user("ops@example.com", access.Ops)
	e.user("mia@example.com", access.Marketer)
	// A run the schedule started shows among its recent runs.
	e.defaultSchedules("birthday-sweep")
	b := e.browser("en")
	e.signIn(b, "ops@example.com")

	// The overview lists the next firings, soonest first, as the schedules
	// describe themselves.
	e.run(b, chromedp.WaitVisible("#firings", chromedp.ByID))
	var firings []string
	e.run(b, chromedp.Evaluate(`[...document.querySelectorAll("#firings tbody tr")].map(r => r.dataset.schedule)`, &firings))
	if len(firings) == 0 || !slices.Contains(firings, "birthday-sweep") {
		t.Fatalf("overview's next firings: %v", firings)
	}
	// A schedule that fires often (refresh-reports, hourly) has several
	// rows: its k-th row is its k-th next firing.
	var next []time.Time
	seen := map[string]int{}
	for _, id := range firings {
		d, err := e.mgmt.Schedule(t.Context(), id)
		if err != nil || len(d.Next) <= seen[id] {
			t.Fatalf("schedule %s, row %d: %+v, %v", id, seen[id]+1, d, err)
		}
		next = append(next, d.Next[seen[id]])
		seen[id]++
	}
	if !slices.IsSortedFunc(next, time.Time.Compare) {
		t.Errorf("overview's firings are not soonest first: %v %v", firings, next)
	}
	if got := e.text(b, `#firings tr[data-schedule="birthday-sweep"]`); !strings.Contains(got, "UTC+8") {
		t.Errorf("firing row: %q", got)
	}

	e.run(b, chromedp.Navigate(e.url+"/console/journeys"), chromedp.WaitVisible(`tr[data-schedule="birthday-sweep"]`))
	if got := e.text(b, `tr[data-schedule="birthday-sweep"] td.ran`); !strings.Contains(got, "UTC+8") {
		t.Fatalf("recent runs of the birthday sweep: %q", got)
	}
	// Without a Web UI configured, nothing links to one.
	var links int
	e.run(b, chromedp.Evaluate(`document.querySelectorAll("a.temporal").length`, &links))
	if links != 0 {
		t.Fatalf("%d links to a Temporal Web UI that is not configured", links)
	}
	if got := e.text(b, `tr[data-journey="onboarding"]`); !strings.Contains(got, "onboarding") {
		t.Fatalf("registry row: %q", got)
	}
	if got := e.text(b, `tr[data-schedule="birthday-sweep"]`); !strings.Contains(got, "Active") || !strings.Contains(got, "UTC+8") {
		t.Fatalf("schedule row: %q", got)
	}
	e.shots(b, "journeys", "en", "zh-CN")
	e.run(b, chromedp.Click(`tr[data-schedule="birthday-sweep"] button.pause`), chromedp.WaitVisible("#notice", chromedp.ByID))
	if got := e.text(b, `tr[data-schedule="birthday-sweep"]`); !strings.Contains(got, "Paused") {
		t.Fatalf("after pause: %q", got)
	}
	d, err := e.mgmt.Schedule(t.Context(), "birthday-sweep")
	if err != nil || !d.Paused {
		t.Fatalf("in Temporal after pause: %+v, %v", d, err)
	}
	e.run(b, chromedp.Click(`tr[data-schedule="birthday-sweep"] button.unpause`), chromedp.WaitVisible(`tr[data-schedule="birthday-sweep"] button.pause`))

	m := e.browser("en")
	e.signIn(m, "mia@example.com")
	var buttons int
	e.run(m, chromedp.Navigate(e.url+"/console/journeys"), chromedp.WaitVisible("#schedules", chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#schedules button").length`, &buttons))
	if buttons != 0 {
		t.Fatalf("a marketer sees %d schedule buttons", buttons)
	}
	if got := e.post(m, "/console/schedules/birthday-sweep/pause", map[string]string{"csrf_token": e.csrf(m)}); got != 403 {
		t.Fatalf("marketer's forged pause: %d, want 403", got)
	}
}

// TestTemporalWebUILinkOpensTheRun: with TIDINGS_TEMPORAL_UI_URL set, a
// run a schedule started links to that run in the Web UI, and a click in
// the browser opens the run's page there: a server standing in for the UI
// is asked for exactly the run's route.
func TestTemporalWebUILinkOpensTheRun(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.EscapedPath())
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Temporal</title><h1 id="route">%s</h1>`, html.EscapeString(r.URL.Path))
	}))
	t.Cleanup(ui.Close)
	var namespace string
	e := newConsole(t, func(t *testing.T, ts *temporaltest.TestServer, env map[string]string) {
		namespace = ts.GetDefaultNamespace()
		env["TIDINGS_TEMPORAL_UI_URL"], env["TIDINGS_TEMPORAL_NAMESPACE"] = ui.URL, namespace
	})
	e.user("ops@example.com", access.Ops)
	c := e.defaultSchedules("birthday-sweep")
	var run mgmt.ScheduleRun
	for deadline := time.Now().Add(30 * time.Second); run.RunID == ""; time.Sleep(200 * time.Millisecond) {
		d, err := e.mgmt.Schedule(t.Context(), "birthday-sweep")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Ran) > 0 {
			run = d.Ran[len(d.Ran)-1]
		} else if time.Now().After(deadline) {
			t.Fatal("the triggered birthday sweep started no run in 30 s")
		}
	}
	if _, err := c.DescribeWorkflowExecution(t.Context(), run.WorkflowID, run.RunID); err != nil {
		t.Fatalf("the schedule's run %s/%s: %v", run.WorkflowID, run.RunID, err)
	}

	b := e.browser("en")
	e.signIn(b, "ops@example.com")
	e.run(b, chromedp.Navigate(e.url+"/console/journeys"), chromedp.WaitVisible(`tr[data-schedule="birthday-sweep"] a.run`))
	var scheduleHref string
	e.run(b, chromedp.Evaluate(`document.querySelector('tr[data-schedule="birthday-sweep"] td a.temporal').href`, &scheduleHref))
	if want := ui.URL + "/namespaces/" + url.PathEscape(namespace) + "/schedules/birthday-sweep"; scheduleHref != want {
		t.Errorf("schedule link %s, want %s", scheduleHref, want)
	}

	// The run's link opens a tab of its own, at the run's page in the UI.
	opened := chromedp.WaitNewTarget(b, func(i *target.Info) bool { return strings.HasPrefix(i.URL, ui.URL) })
	e.run(b, chromedp.Click(`tr[data-schedule="birthday-sweep"] a.run`))
	var tab context.Context
	select {
	case id := <-opened:
		var cancel context.CancelFunc
		tab, cancel = chromedp.NewContext(b, chromedp.WithTargetID(id))
		t.Cleanup(cancel)
	case <-time.After(30 * time.Second):
		t.Fatal("a click on the run opened no tab at the Web UI")
	}
	var loc, route string
	e.run(tab, chromedp.WaitVisible("#route", chromedp.ByID), chromedp.Location(&loc), chromedp.Text("#route", &route, chromedp.ByID))
	want := ui.URL + "/namespaces/" + url.PathEscape(namespace) + "/workflows/" + url.PathEscape(run.WorkflowID) + "/" + run.RunID
	if loc != want {
		t.Fatalf("the run's tab is at %s, want %s", loc, want)
	}
	if wantRoute := "/namespaces/" + namespace + "/workflows/" + run.WorkflowID + "/" + run.RunID; route != wantRoute {
		t.Errorf("the Web UI was asked for %q, want %q", route, wantRoute)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(asked, strings.TrimPrefix(want, ui.URL)) {
		t.Errorf("the Web UI stand-in was asked for %q, want %s among them", asked, strings.TrimPrefix(want, ui.URL))
	}
}
