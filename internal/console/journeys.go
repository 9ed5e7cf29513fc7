package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/tidingsdev/tidings/internal/mgmt"
)

type journeysPage struct {
	Journeys  []mgmt.JourneyInfo
	Schedules []mgmt.ScheduleSummary
	// EngineDown is set when Temporal could not be asked for the
	// schedules; the journeys, read from PostgreSQL, still show.
	EngineDown bool
}

// journeys is GET /console/journeys: the journey registry with its
// parameters in force and runs in flight, and the Temporal Schedules with
// their next firings, pause/unpause/trigger for ops.
func (c *Console) journeys(w http.ResponseWriter, r *http.Request, v *view) error {
	js, err := c.mgmt.Journeys(r.Context())
	if err != nil {
		return err
	}
	page := journeysPage{Journeys: js}
	page.Schedules, err = c.mgmt.Schedules(r.Context())
	if errors.Is(err, mgmt.ErrNoEngine) {
		page.EngineDown = true
	} else if err != nil {
		return err
	}
	// The list comes from Temporal's visibility store, which lags a pause
	// by a moment; each schedule's own description is current, and there
	// are few schedules.
	for i, sc := range page.Schedules {
		if d, err := c.mgmt.Schedule(r.Context(), sc.ID); err == nil {
			page.Schedules[i].Paused, page.Schedules[i].Next = d.Paused, d.Next
		}
	}
	v.Title, v.Nav = v.T("nav.journeys"), "journeys"
	c.render(w, r, http.StatusOK, v, "journeys", page)
	return nil
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
