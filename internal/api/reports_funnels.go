package api

import (
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// campaignFunnel is GET /v1/reports/campaigns/{name}/funnel: entered →
// each step sent → delivered → opened → clicked → goal per variant and for
// the holdout, revenue credited to the last step within the window, as the
// last refresh kept it (for any window).
func (s *Server) campaignFunnel(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	window, err := reports.ParseWindow(q.Get("window"))
	if err != nil {
		return reportError(err)
	}
	name := r.PathValue("name")
	rep, err := reports.CampaignFunnel(r.Context(), s.store, name, reports.FunnelQuery{Window: window, Kept: true})
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "name", "no campaign named %q", name)
	}
	if err != nil {
		return reportError(err)
	}
	return answer(w, http.StatusOK, rep)
}

// journeyFunnel is GET /v1/reports/journeys/{name}/funnel: a built-in
// journey's funnel for the runs started in the period: the days the last
// refresh kept as it kept them, the runs since counted now.
func (s *Server) journeyFunnel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, ok := workflows.Find(name); !ok {
		return errorf(http.StatusNotFound, codeNotFound, "name", "no journey named %q (tidings journeys list)", name)
	}
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	window, err := reports.ParseWindow(q.Get("window"))
	if err != nil {
		return reportError(err)
	}
	rep, err := reports.JourneyFunnel(r.Context(), s.store, name, reports.FunnelQuery{Period: p, Window: window, Kept: true})
	return respond(w, rep, reportError(err))
}

// lifecycleHistory is GET /v1/reports/lifecycle/history: the customers of
// each lifecycle stage month by month, as the refresh recorded them, and
// the flows between months.
func (s *Server) lifecycleHistory(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	rep, err := reports.LifecycleHistory(r.Context(), s.store, p)
	return respond(w, rep, reportError(err))
}
