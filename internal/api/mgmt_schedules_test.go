package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

const nightlySweep = `schedules:
  - id: nightly-winback
    cron: "30 2 * * *"
    time_zone: Asia/Taipei
    run: winback_sweep
`

func TestSchedulesOverTheAPI(t *testing.T) {
	a := newManagedAPI(t)
	ops, viewer := a.keyFor("ops"), a.keyFor("viewer")
	var applied struct{ Schedules []mgmt.AppliedSchedule }

	r := a.file("/v1/schedules?dry_run=true&preview=2", "application/yaml", nightlySweep, ops)
	if r.status != http.StatusOK || json.Unmarshal(r.body, &applied) != nil || len(applied.Schedules) != 1 ||
		applied.Schedules[0].Outcome != "valid" || len(applied.Schedules[0].Next) != 2 {
		t.Fatalf("dry run: %s", r)
	}
	if next := applied.Schedules[0].Next[0].In(time.FixedZone("CST", 8*3600)); next.Hour() != 2 || next.Minute() != 30 {
		t.Errorf("next firing %s, want 02:30 in Taipei", next)
	}
	if _, err := a.temporal.ScheduleClient().GetHandle(t.Context(), "nightly-winback").Describe(t.Context()); err == nil {
		t.Error("a dry run created the schedule")
	}
	r = a.file("/v1/schedules", "application/yaml", strings.Replace(nightlySweep, "Asia/Taipei", "CST", 1), ops)
	if e := apiError(t, r.body); r.status != http.StatusUnprocessableEntity || len(e.Problems) == 0 || e.Problems[0].Line != 4 {
		t.Errorf("a bad zone: %s", r)
	}
	for _, want := range []string{"created", "unchanged"} {
		r = a.file("/v1/schedules", "application/yaml", nightlySweep, ops)
		if json.Unmarshal(r.body, &applied) != nil || len(applied.Schedules) != 1 || applied.Schedules[0].Outcome != want {
			t.Errorf("apply, want %s: %s", want, r)
		}
	}

	r = a.send(http.MethodGet, "/v1/schedules/nightly-winback", "", "Authorization", "Bearer "+viewer)
	var d mgmt.ScheduleDetail
	if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil || d.TimeZone != "Asia/Taipei" || d.Paused || len(d.Next) == 0 {
		t.Errorf("describe: %s", r)
	}
	r = a.file("/v1/schedules/nightly-winback/pause", "application/json", `{"note": "holiday freeze"}`, ops)
	if json.Unmarshal(r.body, &d) != nil || !d.Paused || d.Note != "holiday freeze" {
		t.Errorf("pause: %s", r)
	}
	r = a.file("/v1/schedules/nightly-winback/unpause", "application/json", "", ops)
	if json.Unmarshal(r.body, &d) != nil || d.Paused {
		t.Errorf("unpause: %s", r)
	}
	if r = a.send(http.MethodDelete, "/v1/schedules/nightly-winback", "", "Authorization", "Bearer "+ops); r.status != http.StatusNoContent {
		t.Errorf("delete: %s", r)
	}
	for _, path := range []string{"/v1/schedules/nightly-winback"} {
		if r = a.send(http.MethodGet, path, "", "Authorization", "Bearer "+viewer); r.status != http.StatusNotFound || apiError(t, r.body).Field != "id" {
			t.Errorf("after delete: %s", r)
		}
	}
	if got := a.audited("key-ops"); got != "schedule.delete schedule.unpause schedule.pause schedule.apply schedule.apply" {
		t.Errorf("audited: %s", got)
	}
}

func TestJourneysOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ada@example.com"})
	if _, err := a.store.ClaimJourneyRun(t.Context(), store.JourneyRun{Journey: "onboarding", RunID: "r-1", CustomerID: id, Trigger: "signup", StartedAt: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	r := a.send(http.MethodGet, "/v1/journeys", "", "Authorization", "Bearer "+a.key)
	var list struct{ Journeys []mgmt.JourneyInfo }
	if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil {
		t.Fatalf("journeys: %s", r)
	}
	found := false
	for _, j := range list.Journeys {
		if j.Name == "onboarding" {
			found = true
			if j.InFlight != 1 || len(j.Starts) == 0 || len(j.Parameters) == 0 || j.Parameters[0].Value == nil {
				t.Errorf("onboarding: %+v", j)
			}
		}
	}
	if !found {
		t.Errorf("no onboarding journey in %s", r)
	}
	r = a.send(http.MethodGet, "/v1/customers/C-1/journeys", "", "Authorization", "Bearer "+a.key)
	var runs struct{ Runs []store.JourneyRun }
	if json.Unmarshal(r.body, &runs) != nil || len(runs.Runs) != 1 || runs.Runs[0].Journey != "onboarding" || runs.Runs[0].Trigger != "signup" {
		t.Errorf("a customer's runs: %s", r)
	}
	if r = a.send(http.MethodGet, "/v1/customers/C-404/journeys", "", "Authorization", "Bearer "+a.key); r.status != http.StatusNotFound {
		t.Errorf("unknown customer: %s", r)
	}
}
