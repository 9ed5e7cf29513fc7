package console

import (
	"net/url"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// webUI makes links into the Temporal Web UI, by the routes it serves
// (/namespaces/{ns}/workflows/{id}/{runId}, /namespaces/{ns}/schedules/{id}).
// Without a base URL it makes none, so a page shows no dead link.
type webUI struct{ base, namespace string }

func (u webUI) link(parts ...string) string {
	if u.base == "" || u.namespace == "" {
		return ""
	}
	s := u.base + "/namespaces/" + url.PathEscape(u.namespace)
	for _, p := range parts {
		s += "/" + url.PathEscape(p)
	}
	return s
}

// run is one run of a workflow; a run ID Temporal did not hand out (a
// blast's entry key, not a UUID) links nowhere.
func (u webUI) run(workflowID, runID string) string {
	if _, err := uuid.Parse(runID); workflowID == "" || err != nil {
		return ""
	}
	return u.link("workflows", workflowID, runID)
}

func (u webUI) schedule(id string) string { return u.link("schedules", id) }

// running lists the runs of a workflow type that are under way.
func (u webUI) running(workflowType string) string {
	l := u.link("workflows")
	if l == "" || workflowType == "" {
		return ""
	}
	return l + "?query=" + url.QueryEscape(`WorkflowType="`+workflowType+`" AND ExecutionStatus="Running"`)
}

// RunLink is the Web UI's page of the run a timeline item is about — a
// journey run, or a campaign entry's own run — or "" (no UI configured, an
// item of another kind, an entry a blast made).
func (v *view) RunLink(it store.TimelineItem, customerID string) string {
	switch it.Kind {
	case "journey":
		return v.ui.run(workflows.JourneyID(v.Detail(it.Detail, "journey"), customerID), v.Detail(it.Detail, "run_id"))
	case "campaign":
		return v.ui.run(workflows.CampaignRunID(v.Detail(it.Detail, "campaign"), customerID), v.Detail(it.Detail, "run_id"))
	}
	return ""
}

// WorkflowLink is the Web UI's page of one run, "" without a UI.
func (v *view) WorkflowLink(workflowID, runID string) string { return v.ui.run(workflowID, runID) }

// ScheduleLink is the Web UI's page of a schedule, "" without a UI.
func (v *view) ScheduleLink(id string) string { return v.ui.schedule(id) }

// RunningLink lists a workflow type's runs under way in the Web UI.
func (v *view) RunningLink(workflowType string) string { return v.ui.running(workflowType) }
