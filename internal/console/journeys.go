package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

type journeysPage struct {
	Journeys  []mgmt.JourneyInfo
	Schedules []scheduleRow
	// EngineDown is set when Temporal could not be asked for the
	// schedules; the journeys, read from PostgreSQL, still show.
	EngineDown bool
}

// scheduleRow is a schedule as its own description has it now, with the
// runs it started lately.
type scheduleRow struct {
	mgmt.ScheduleSummary
	Ran []mgmt.ScheduleRun
}

// journeys is GET /console/journeys: the journey registry with its
// parameters in force and runs in flight, and the Temporal Schedules with
// their next firings and recent runs, pause/unpause/trigger for ops.
func (c *Console) journeys(w http.ResponseWriter, r *http.Request, v *view) error {
	js, err := c.mgmt.Journeys(r.Context())
	if err != nil {
		return err
	}
	page := journeysPage{Journeys: js}
	if page.Schedules, page.EngineDown, err = c.schedules(r.Context()); err != nil {
		return err
	}
	v.Title, v.Nav = v.T("nav.journeys"), "journeys"
	c.render(w, r, http.StatusOK, v, "journeys", page)
	return nil
}

// schedules lists the Temporal Schedules; down reports that Temporal could
// not be reached, which the pages say instead of failing.
func (c *Console) schedules(ctx context.Context) (rows []scheduleRow, down bool, err error) {
	list, err := c.mgmt.Schedules(ctx)
	if errors.Is(err, mgmt.ErrNoEngine) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	// The list comes from Temporal's visibility store, which lags a pause
	// by a moment; each schedule's own description is current, and there
	// are few schedules.
	rows = make([]scheduleRow, len(list))
	for i, sc := range list {
		rows[i].ScheduleSummary = sc
		if d, err := c.mgmt.Schedule(ctx, sc.ID); err == nil {
			rows[i].Paused, rows[i].Next, rows[i].Ran = d.Paused, d.Next, d.Ran
		}
	}
	return rows, false, nil
}

// firing is one upcoming firing of a schedule.
type firing struct {
	Schedule string
	Workflow string
	At       time.Time
}

// nextFirings are the schedules' upcoming firings, soonest first, at most
// n; a paused schedule fires nothing.
func nextFirings(rows []scheduleRow, n int) []firing {
	var out []firing
	for _, sc := range rows {
		if sc.Paused {
			continue
		}
		for _, t := range sc.Next {
			out = append(out, firing{Schedule: sc.ID, Workflow: sc.Workflow, At: t})
		}
	}
	slices.SortStableFunc(out, func(a, b firing) int { return a.At.Compare(b.At) })
	return out[:min(n, len(out))]
}

// scheduleAction is POST /console/schedules/{id}/{action}: pause,
// unpause or trigger, as `tidings schedules` does (audited).
func (c *Console) scheduleAction(w http.ResponseWriter, r *http.Request, v *view) error {
	action := r.PathValue("action")
	if action != "pause" && action != "unpause" && action != "trigger" {
		return &pageError{status: http.StatusBadRequest, key: "error.action"}
	}
	err := c.mgmt.ScheduleAction(r.Context(), v.Who, r.PathValue("id"), action, r.PostFormValue("note"))
	if errors.Is(err, mgmt.ErrNoEngine) {
		return &pageError{status: http.StatusServiceUnavailable, key: "error.engine"}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Prefix+"journeys?done=schedule_"+url.QueryEscape(action), http.StatusSeeOther)
	return nil
}
