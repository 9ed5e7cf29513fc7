package reports_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// surveyWorld is March 2026 of a small shop, worked out by hand:
//
//	NPS, all after order_delivered:
//	  c1 en    high      invited 03-02, answers 10 (promoter)          week W10
//	  c2 en    mid       invited 03-02, answers 8 to the reminder 03-06 week W10
//	  c3 zh-TW low       invited 03-02, answers 3 "late delivery"       week W10
//	  c4 zh-TW unscored  invited 03-10, never answers                   week W11
//	  c5 en    high      invited 03-10, answers 6, no comment           week W11
//	  c1 answered 0 in February, outside the period.
//	NPS = 100 × (1 − 2) / 4 = −25; mean (10+8+3+6)/4 = 6.75; response rate 4/5.
//
//	CSAT, after ticket_closed: c1 answers 2 "rude agent", c2 answers 4, c4
//	is invited and does not answer: CSAT = 100 × 1/2 = 50, response rate 2/3.
func surveyWorld(t *testing.T) (*world, reports.SurveyQuery, map[string]string) {
	w := newWorld(t)
	c := map[string]string{
		"c1": w.customer("C-1", "en", "high"), "c2": w.customer("C-2", "en", "mid"),
		"c3": w.customer("C-3", "zh-TW", "low"), "c4": w.customer("C-4", "zh-TW", ""),
		"c5": w.customer("C-5", "en", "high"),
	}
	old := w.surveyRun(c["c1"], "r0", "order_delivered", day("2026-02-19 10:00"))
	w.answer(c["c1"], store.NPS, 0, "awful", old, day("2026-02-20 09:00"))

	m1 := w.surveyRun(c["c1"], "r1", "order_delivered", day("2026-03-02 10:00"))
	w.answer(c["c1"], store.NPS, 10, "", m1, day("2026-03-02 12:00"))
	w.surveyRun(c["c2"], "r2", "order_delivered", day("2026-03-02 10:00"))
	rem := w.surveyMessage(c["c2"], "r2", "reminder", day("2026-03-05 10:00"))
	w.answer(c["c2"], store.NPS, 8, "", rem, day("2026-03-06 08:00"))
	m3 := w.surveyRun(c["c3"], "r3", "order_delivered", day("2026-03-02 10:00"))
	w.answer(c["c3"], store.NPS, 3, "late delivery", m3, day("2026-03-03 18:30"))
	w.surveyRun(c["c4"], "r4", "order_delivered", day("2026-03-10 10:00"))
	m5 := w.surveyRun(c["c5"], "r5", "order_delivered", day("2026-03-10 10:00"))
	w.answer(c["c5"], store.NPS, 6, "", m5, day("2026-03-11 07:00"))

	m6 := w.surveyRun(c["c1"], "r6", "ticket_closed", day("2026-03-03 10:00"))
	w.answer(c["c1"], store.CSAT, 2, "rude agent", m6, day("2026-03-03 11:00"))
	m7 := w.surveyRun(c["c2"], "r7", "ticket_closed", day("2026-03-04 10:00"))
	w.answer(c["c2"], store.CSAT, 4, "", m7, day("2026-03-04 11:00"))
	w.surveyRun(c["c4"], "r8", "ticket_closed", day("2026-03-20 10:00"))

	q := reports.SurveyQuery{Period: reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")}}
	return w, q, c
}

// brief prints a row as a reader of the table sees it.
func brief(r reports.SurveyRow) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	return fmt.Sprintf("%s invited=%d answered=%d rate=%s responses=%d P/Pa/D=%d/%d/%d score=%s mean=%s",
		r.Label, r.Invited, r.Answered, f(r.ResponseRate), r.Responses, r.Promoters, r.Passives, r.Detractors, f(r.Score), f(r.MeanScore))
}

func TestNPSByPeriodTriggerLocaleAndTier(t *testing.T) {
	t.Parallel()
	w, q, c := surveyWorld(t)
	r, err := reports.NPS(t.Context(), w.st, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := brief(r.Total), "total invited=5 answered=4 rate=0.8 responses=4 P/Pa/D=1/1/2 score=-25 mean=6.75"; got != want {
		t.Errorf("total:\n got %s\nwant %s", got, want)
	}
	want := map[string][]string{
		reports.ByWeek: {
			"2026-W09 invited=0 answered=0 rate=- responses=0 P/Pa/D=0/0/0 score=- mean=-",
			"2026-W10 invited=3 answered=3 rate=1 responses=3 P/Pa/D=1/1/1 score=0 mean=7",
			"2026-W11 invited=2 answered=1 rate=0.5 responses=1 P/Pa/D=0/0/1 score=-100 mean=6",
			"2026-W12 invited=0 answered=0 rate=- responses=0 P/Pa/D=0/0/0 score=- mean=-",
			"2026-W13 invited=0 answered=0 rate=- responses=0 P/Pa/D=0/0/0 score=- mean=-",
			"2026-W14 invited=0 answered=0 rate=- responses=0 P/Pa/D=0/0/0 score=- mean=-",
		},
		reports.ByMonth:   {"2026-03 invited=5 answered=4 rate=0.8 responses=4 P/Pa/D=1/1/2 score=-25 mean=6.75"},
		reports.ByTrigger: {"order_delivered invited=5 answered=4 rate=0.8 responses=4 P/Pa/D=1/1/2 score=-25 mean=6.75"},
		reports.ByLocale: {
			"en invited=3 answered=3 rate=1 responses=3 P/Pa/D=1/1/1 score=0 mean=8",
			"zh-TW invited=2 answered=1 rate=0.5 responses=1 P/Pa/D=0/0/1 score=-100 mean=3",
		},
		reports.ByTier: {
			"high invited=2 answered=2 rate=1 responses=2 P/Pa/D=1/0/1 score=0 mean=8",
			"low invited=1 answered=1 rate=1 responses=1 P/Pa/D=0/0/1 score=-100 mean=3",
			"mid invited=1 answered=1 rate=1 responses=1 P/Pa/D=0/1/0 score=0 mean=8",
			"unscored invited=1 answered=0 rate=0 responses=0 P/Pa/D=0/0/0 score=- mean=-",
		},
	}
	for by, rows := range want {
		b, ok := r.Breakdown(by)
		if !ok {
			t.Errorf("no breakdown by %s", by)
			continue
		}
		var got []string
		for _, row := range b.Rows {
			got = append(got, brief(row))
		}
		if strings.Join(got, "\n") != strings.Join(rows, "\n") {
			t.Errorf("by %s:\n got %s\nwant %s", by, strings.Join(got, "\n     "), strings.Join(rows, "\n     "))
		}
	}
	if len(r.Detractors) != 1 || r.Detractors[0].ExternalID != "C-3" || r.Detractors[0].Comment != "late delivery" ||
		r.Detractors[0].Score != 3 || r.Detractors[0].Link != "/v1/customers/"+c["c3"] || r.Detractors[0].Trigger != "order_delivered" {
		t.Errorf("detractor comments = %+v", r.Detractors)
	}
}

func TestCSATCountsUnansweredInvitationsByTheirTrigger(t *testing.T) {
	t.Parallel()
	w, q, _ := surveyWorld(t)
	r, err := reports.CSAT(t.Context(), w.st, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := brief(r.Total), "total invited=3 answered=2 rate=0.6667 responses=2 P/Pa/D=0/1/1 score=50 mean=3"; got != want {
		t.Errorf("total:\n got %s\nwant %s", got, want)
	}
	if len(r.Detractors) != 1 || r.Detractors[0].Comment != "rude agent" || r.Detractors[0].ExternalID != "C-1" {
		t.Errorf("detractor comments = %+v", r.Detractors)
	}
	// Configured so that tickets ask an NPS, c4's unanswered ticket
	// invitation counts for NPS and CSAT has no unanswered one left.
	q.Triggers = map[string]string{"order_delivered": store.NPS, "ticket_closed": store.NPS}
	r, err = reports.CSAT(t.Context(), w.st, q)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Invited != 2 || r.Total.Answered != 2 {
		t.Errorf("with tickets asking NPS, CSAT total = %s", brief(r.Total))
	}
	n, err := reports.NPS(t.Context(), w.st, q)
	if err != nil {
		t.Fatal(err)
	}
	if n.Total.Invited != 6 || n.Total.Answered != 4 {
		t.Errorf("with tickets asking NPS, NPS total = %s", brief(n.Total))
	}
}

func TestSurveyReportRefusesABadPeriod(t *testing.T) {
	t.Parallel()
	w, q, _ := surveyWorld(t)
	q.Until = q.Since
	_, err := reports.NPS(t.Context(), w.st, q)
	var ie *reports.InputError
	if !errors.As(err, &ie) || ie.Field != "until" {
		t.Errorf("until = since: %v", err)
	}
}
