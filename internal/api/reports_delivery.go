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
	return respond(w, rep, reportError(err))
}

// journeyReport is GET /v1/reports/journeys/{name}: a journey's runs and
// conversions in the period, revenue by the step credited.
func (s *Server) journeyReport(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	rep, err := reports.Journey(r.Context(), s.store, r.PathValue("name"), p)
	return respond(w, rep, reportError(err))
}

// acquisitionReport is GET /v1/reports/acquisition: signups by source, with
// CAC where a cost=source=amount parameter gives the source's cost, or
// else the policy file's monthly spend does.
func (s *Server) acquisitionReport(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	costs, err := reports.ParseCosts(r.URL.Query()["cost"])
	if err != nil {
		return reportError(err)
	}
	rep, err := reports.Acquisition(r.Context(), s.store, p, reports.CostsFor(costs, s.opt.AcquisitionSpend, p))
	return respond(w, rep, reportError(err))
}
