package api

import (
	"net/http"

	"github.com/tidingsdev/tidings/internal/reports"
)

// deliverabilityReport is GET /v1/reports/deliverability: sent, failed,
// bounce, complaint and unsubscribe counts and rates of the period
// (default: 3 calendar months) by topic, template, domain, week and month.
func (s *Server) deliverabilityReport(w http.ResponseWriter, r *http.Request) error {
	now := s.opt.Now()
	p, err := reports.ParsePeriod(r.URL.Query().Get("since"), r.URL.Query().Get("until"), now, reports.MonthsBack(now, 3))
	if err != nil {
		return reportError(err)
	}
	rep, err := reports.Deliverability(r.Context(), s.store, p)
	if err != nil {
		return reportError(err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
