package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// npsReport is GET /v1/reports/nps: the NPS of a period in total and by
// week, month, trigger, locale and value tier, with detractors' comments,
// as `tidings report nps --json` prints it.
func (s *Server) npsReport(w http.ResponseWriter, r *http.Request) error {
	return s.surveyReport(w, r, reports.NPS)
}

// csatReport is GET /v1/reports/csat, the CSAT counterpart of npsReport.
func (s *Server) csatReport(w http.ResponseWriter, r *http.Request) error {
	return s.surveyReport(w, r, reports.CSAT)
}

func (s *Server) surveyReport(w http.ResponseWriter, r *http.Request,
	report func(context.Context, reports.SurveyStore, reports.SurveyQuery) (reports.SurveyReport, error)) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	q := reports.SurveyQuery{Period: p, Triggers: s.opt.SurveyTriggers}
	if v := r.URL.Query().Get("comments"); v != "" {
		if q.Comments, err = strconv.Atoi(v); err != nil {
			return errorf(http.StatusBadRequest, codeInvalid, "comments", "comments must be a number, not %q", v)
		}
	}
	rep, err := report(r.Context(), s.store, q)
	return respond(w, rep, reportError(err))
}

// reportPeriod reads the since and until query parameters; the default is
// the last 12 calendar months.
func (s *Server) reportPeriod(r *http.Request) (reports.Period, error) {
	now := s.opt.Now()
	p, err := reports.ParsePeriod(r.URL.Query().Get("since"), r.URL.Query().Get("until"), now, reports.MonthsBack(now, 12))
	return p, reportError(err)
}

// reportError makes a refused query a 400 naming the parameter.
func reportError(err error) error {
	var ie *reports.InputError
	if errors.As(err, &ie) {
		return errorf(http.StatusBadRequest, codeInvalid, ie.Field, "%s %s", ie.Field, ie.Message)
	}
	return err
}

// campaignReport is GET /v1/reports/campaigns/{name}: the campaign's
// results with the uplift's 95% interval and each variant's chance of
// being best, as `tidings report campaign --json` prints it.
func (s *Server) campaignReport(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	rep, err := reports.Campaign(r.Context(), s.store, name)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "name", "no campaign named %q", name)
	}
	if err != nil {
		return err
	}
	return answer(w, http.StatusOK, rep)
}

// retentionReport is GET /v1/reports/retention: the retention triangle of
// the first-purchase cohorts of the period (default: 13 calendar months).
func (s *Server) retentionReport(w http.ResponseWriter, r *http.Request) error {
	now := s.opt.Now()
	p, err := reports.ParsePeriod(r.URL.Query().Get("since"), r.URL.Query().Get("until"), now, reports.MonthsBack(now, 13))
	if err != nil {
		return reportError(err)
	}
	var offsets []int
	if v := r.URL.Query().Get("offsets"); v != "" {
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return errorf(http.StatusBadRequest, codeInvalid, "offsets", "offsets must be months separated by commas, such as 1,2,3,6,12, not %q", v)
			}
			offsets = append(offsets, n)
		}
	}
	rep, err := reports.Retention(r.Context(), s.store, p, offsets)
	return respond(w, rep, reportError(err))
}

// churnReport is GET /v1/reports/churn: the churn rate of each month of the
// period, a customer being active with a purchase in the days before.
func (s *Server) churnReport(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	days := 0
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			return errorf(http.StatusBadRequest, codeInvalid, "days", "days must be a whole number, not %q", v)
		}
	}
	rep, err := reports.Churn(r.Context(), s.store, p, days)
	return respond(w, rep, reportError(err))
}

// lifecycleReport is GET /v1/reports/lifecycle: customers per lifecycle
// stage now, or at the moment the at parameter names.
func (s *Server) lifecycleReport(w http.ResponseWriter, r *http.Request) error {
	at := s.opt.Now()
	if v := r.URL.Query().Get("at"); v != "" {
		t, err := reports.ParseTime(v, at)
		if err != nil {
			return errorf(http.StatusBadRequest, codeInvalid, "at", "at: %v", err)
		}
		at = t
	}
	rep, err := reports.Lifecycle(r.Context(), s.store.Pool(), at)
	return respond(w, rep, err)
}

// clvReport is GET /v1/reports/clv: historical and predicted customer
// lifetime value in total, by cohort and by value tier.
func (s *Server) clvReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := reports.Value(r.Context(), s.store, s.opt.Now())
	return respond(w, rep, err)
}

// rfmReport is GET /v1/reports/rfm: the recency × frequency grid.
func (s *Server) rfmReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := reports.RFM(r.Context(), s.store)
	return respond(w, rep, err)
}
