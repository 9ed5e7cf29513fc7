package console_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/schedules"
)

// TestJourneysAndSchedules: ops sees the registry and the default
// schedules with their next firings, pauses one and unpauses it; a
// marketer sees the same page without the buttons.
func TestJourneysAndSchedules(t *testing.T) {
	e := newConsole(t)
	e.user("ops@example.com", access.Ops)
	e.user("mia@example.com", access.Marketer)
	c, err := e.app.Temporal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := schedules.EnsureDefaults(t.Context(), c.ScheduleClient(), e.app.Config().TemporalTaskQueue); err != nil {
		t.Fatal(err)
	}
	// A run the schedule started shows among its recent runs.
	if err := e.mgmt.ScheduleAction(t.Context(), access.Operator("test"), "birthday-sweep", "trigger", ""); err != nil {
		t.Fatal(err)
	}
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
	var next []time.Time
	for _, id := range firings {
		d, err := e.mgmt.Schedule(t.Context(), id)
		if err != nil || len(d.Next) == 0 {
			t.Fatalf("schedule %s: %+v, %v", id, d, err)
		}
		next = append(next, d.Next[0])
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
	e.shot(b, "journeys-en")
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
