package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

// newManagedAPI is newAPI with Temporal up and management functions that
// reach it, as `tidings api` builds them, for the actions that change
// triggers (apply, pause, resume, archive).
func newManagedAPI(t *testing.T, opts ...apiOption) *testAPI {
	t.Helper()
	a := newAPI(t, true, opts...)
	m := mgmt.New(mgmt.Deps{Store: a.store, Journeys: a.srv.router, TaskQueue: taskQueue,
		Temporal: func(context.Context) (client.Client, error) { return a.temporal, nil }}, mgmt.Options{})
	a.srv = New(Deps{Store: a.store, Router: a.srv.router, Signer: a.signer, Tracking: a.srv.tracking, Log: a.srv.log, Mgmt: m}, a.srv.opt)
	a.http.Config.Handler = a.srv
	return a
}

const weeklyTips = `name: weekly-tips
description: a tip every Monday
audience: {match: {tags: buyer}}
trigger: {schedule: {cron: "0 9 * * MON", zone: Europe/Paris}}
steps:
  - send: {template: care, topic: care}
`

// file posts a campaign file with a content type and the marketer's key.
func (a *testAPI) file(path, contentType, body, key string) reply {
	a.t.Helper()
	return a.send(http.MethodPost, path, body, "Content-Type", contentType, "Authorization", "Bearer "+key)
}

func TestCampaignsOverTheAPI(t *testing.T) {
	a := newManagedAPI(t)
	marketer := a.keyFor("marketer")
	a.customer("C-1", map[string]any{"email": "ada@example.com", "first_name": "Ada", "tags": []string{"buyer"}})

	// validate: every problem at once, located as the CLI prints them.
	broken := strings.Replace(weeklyTips, "template: care", "template: carre", 1) + "holdout: 75\n"
	r := a.file("/v1/campaigns/validate", "application/yaml", broken, marketer)
	var chk mgmt.CampaignCheck
	if r.status != http.StatusOK || json.Unmarshal(r.body, &chk) != nil || chk.Valid || len(chk.Problems) != 2 {
		t.Fatalf("validate a broken file: %s", r)
	}
	if p := chk.Problems[0]; p.Line != 6 || p.Column != 22 || p.Path != "steps[0].send.template" ||
		!strings.HasPrefix(p.Text, `6:22: steps[0].send.template: "carre": unknown template`) {
		t.Errorf("first problem %+v", p)
	}
	if p := chk.Problems[1]; p.Line != 7 || p.Path != "holdout" {
		t.Errorf("second problem %+v", p)
	}
	r = a.file("/v1/campaigns/validate", "application/yaml", weeklyTips, marketer)
	if json.Unmarshal(r.body, &chk) != nil || !chk.Valid || chk.Summary != `schedule "0 9 * * MON" in Europe/Paris, 1 step` {
		t.Errorf("validate a good file: %s", r)
	}
	r = a.file("/v1/campaigns/validate", "application/yaml", strings.Replace(weeklyTips, "{match: {tags: buyer}}", "{segment: vips}", 1), marketer)
	if json.Unmarshal(r.body, &chk) != nil || chk.Valid || !strings.Contains(chk.Problems[0].Text, `audience.segment: "vips": no saved segment`) {
		t.Errorf("validate names a missing saved segment: %s", r)
	}

	// apply: a bad file is 422 and stores nothing.
	r = a.file("/v1/campaigns", "application/yaml", broken, marketer)
	if e := apiError(t, r.body); r.status != http.StatusUnprocessableEntity || e.Field != "steps[0].send.template" || len(e.Problems) != 2 {
		t.Errorf("apply a broken file: %s", r)
	}
	if got := a.send(http.MethodGet, "/v1/campaigns/weekly-tips", "", "Authorization", "Bearer "+marketer); got.status != http.StatusNotFound {
		t.Errorf("after a refused apply: %s, want 404", got)
	}

	// apply: version 1, its Temporal Schedule created; the same file again
	// changes nothing; the JSON form with a change is version 2.
	r = a.file("/v1/campaigns", "application/yaml", weeklyTips, marketer)
	var applied mgmt.Applied
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &applied) != nil || applied.Version != 1 || applied.Trigger.ID == "" {
		t.Fatalf("apply: %s", r)
	}
	sched := a.temporal.ScheduleClient().GetHandle(t.Context(), applied.Trigger.ID)
	if d, err := sched.Describe(t.Context()); err != nil || d.Schedule.State.Paused {
		t.Fatalf("schedule after apply: %+v, %v", d, err)
	}
	r = a.file("/v1/campaigns", "application/yaml", weeklyTips, marketer)
	if json.Unmarshal(r.body, &applied) != nil || r.status != http.StatusOK || applied.Outcome != "unchanged" {
		t.Errorf("re-apply: %s", r)
	}
	asJSON := `{"name": "weekly-tips", "description": "a tip every Monday, in JSON", "audience": {"match": {"tags": "buyer"}},
  "trigger": {"schedule": {"cron": "0 9 * * MON", "zone": "Europe/Paris"}}, "steps": [{"send": {"template": "care", "topic": "care"}}]}`
	r = a.file("/v1/campaigns", "application/json", asJSON, marketer)
	if json.Unmarshal(r.body, &applied) != nil || applied.Version != 2 || applied.Outcome != "updated" {
		t.Errorf("apply as JSON: %s", r)
	}

	// get: versions newest first and the file of each.
	var detail mgmt.CampaignDetail
	r = a.send(http.MethodGet, "/v1/campaigns/weekly-tips?version=1", "", "Authorization", "Bearer "+a.keyFor("viewer"))
	if json.Unmarshal(r.body, &detail) != nil || detail.CurrentVersion != 2 || detail.Version != 1 || detail.Source != weeklyTips ||
		len(detail.Versions) != 2 || detail.Versions[0].Version != 2 {
		t.Errorf("get version 1: %s", r)
	}
	if r := a.send(http.MethodGet, "/v1/campaigns/weekly-tips?version=9", "", "Authorization", "Bearer "+marketer); r.status != http.StatusNotFound {
		t.Errorf("a version that does not exist: %s", r)
	}

	// dry-run: the one buyer, their message rendered, nothing stored.
	r = a.file("/v1/campaigns/dry-run?samples=1&next=2&at=2026-06-01T10:00:00Z", "application/yaml", weeklyTips, marketer)
	var plan struct {
		Audience int64 `json:"audience"`
		Next     []time.Time
		Samples  []struct {
			ExternalID string `json:"external_id"`
			Rendered   struct{ Subject, Text string }
		}
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &plan) != nil || plan.Audience != 1 || len(plan.Next) != 2 ||
		len(plan.Samples) != 1 || plan.Samples[0].ExternalID != "C-1" || plan.Samples[0].Rendered.Subject == "" ||
		!strings.Contains(plan.Samples[0].Rendered.Text, "Ada") {
		t.Errorf("dry-run: %s", r)
	}
	if r := a.file("/v1/campaigns/dry-run?samples=51", "application/yaml", weeklyTips, marketer); r.status != http.StatusBadRequest || apiError(t, r.body).Field != "samples" {
		t.Errorf("dry-run with 51 samples: %s", r)
	}

	// pause, resume, archive: the schedule follows; an archived campaign
	// cannot be paused.
	for _, step := range []struct {
		action, status string
		paused         bool
	}{{"pause", "paused", true}, {"resume", "active", false}} {
		r = a.file("/v1/campaigns/weekly-tips/"+step.action, "application/json", "", marketer)
		var ch struct{ Campaign struct{ Status string } }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &ch) != nil || ch.Campaign.Status != step.status {
			t.Errorf("%s: %s", step.action, r)
		}
		if d, err := sched.Describe(t.Context()); err != nil || d.Schedule.State.Paused != step.paused {
			t.Errorf("schedule after %s: paused=%v, %v", step.action, d != nil && d.Schedule.State.Paused, err)
		}
	}
	if r = a.file("/v1/campaigns/weekly-tips/archive", "application/json", "", marketer); r.status != http.StatusOK {
		t.Errorf("archive: %s", r)
	}
	if _, err := sched.Describe(t.Context()); err == nil {
		t.Error("the schedule survived the archive")
	}
	if r = a.file("/v1/campaigns/weekly-tips/pause", "application/json", "", marketer); r.status != http.StatusConflict {
		t.Errorf("pause an archived campaign: %s, want 409", r)
	}
	if r = a.file("/v1/campaigns/autumn/pause", "application/json", "", marketer); r.status != http.StatusNotFound || apiError(t, r.body).Field != "name" {
		t.Errorf("pause an unknown campaign: %s, want 404", r)
	}

	// Who did what is in the audit log.
	r = a.send(http.MethodGet, "/v1/audit?target=weekly-tips", "", "Authorization", "Bearer "+a.key)
	var log auditResponse
	if json.Unmarshal(r.body, &log) != nil {
		t.Fatal(r)
	}
	var actions []string
	for _, e := range log.Entries {
		actions = append(actions, e.Action+" by "+e.ActorName)
	}
	if got, want := strings.Join(actions, ", "), "campaign.archive by key-marketer, campaign.resume by key-marketer, campaign.pause by key-marketer, campaign.apply by key-marketer, campaign.apply by key-marketer"; got != want {
		t.Errorf("audit:\n got %s\nwant %s", got, want)
	}

	// Bodies: a type that is not YAML or JSON, and one over the limit.
	if r = a.file("/v1/campaigns/validate", "text/csv", weeklyTips, marketer); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/csv: %s, want 415", r)
	}
	if r = a.file("/v1/campaigns", "application/yaml", weeklyTips+"# "+strings.Repeat("x", 5<<20)+"\n", marketer); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 5 MiB file: %d, want 413", r.status)
	}
}
