package reports_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// TestKeptTalliesShowWhatCountingLiveShows: wherever the refresh kept the
// daily tallies through (before the data, inside a day a period covers, at
// a midnight, after everything), the NPS, CSAT and deliverability reports
// show exactly the figures counting every row live shows, for a whole month
// and for periods that start and end inside a day. The hand-worked tests
// check those live figures.
func TestKeptTalliesShowWhatCountingLiveShows(t *testing.T) {
	t.Parallel()
	w, q, c := surveyWorld(t)
	deliveryHistory(w, c["c1"], c["c2"], c["c3"])
	periods := []reports.Period{q.Period,
		{Since: day("2026-03-02 11:00"), Until: day("2026-03-10 10:30")},
		{Since: day("2026-02-01"), Until: day("2026-03-31 23:00")},
	}
	figures := func() map[string]string {
		out := map[string]string{}
		for _, p := range periods {
			sq := reports.SurveyQuery{Period: p}
			nps, err := reports.NPS(t.Context(), w.st, sq)
			if err != nil {
				t.Fatal(err)
			}
			csat, err := reports.CSAT(t.Context(), w.st, sq)
			if err != nil {
				t.Fatal(err)
			}
			del, err := reports.Deliverability(t.Context(), w.st, p)
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]any{"nps": nps, "csat": csat, "deliverability": del} {
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				out[name+" "+p.Since.Format("01-02 15:04")+"–"+p.Until.Format("01-02 15:04")] = string(b)
			}
		}
		return out
	}
	live := figures()
	k := keepThroughEach(t, w, figures, live, "2026-02-10", "2026-03-02 11:00", "2026-03-04", "2026-03-06 08:00",
		"2026-03-10 10:00", "2026-03-31 23:30", "2026-04-15")
	if k.SurveyRows == 0 || k.DeliveryRows == 0 {
		t.Errorf("the last refresh kept %+v, want survey and delivery rows", k)
	}
	// The figures of kept days come from the tallies: with the ledger and
	// the answers gone they stay until the next refresh rewrites them (the
	// detractors' comments, read from the answers, go at once).
	totals := func() string {
		nps, err := reports.NPS(t.Context(), w.st, q)
		if err != nil {
			t.Fatal(err)
		}
		del, err := reports.Deliverability(t.Context(), w.st, q.Period)
		if err != nil {
			t.Fatal(err)
		}
		return brief(nps.Total) + fmt.Sprintf(" sent=%d unsubscribes=%d", del.Total.Sent, del.Total.Unsubscribes)
	}
	kept := totals()
	testdb.MustExec(t, w.st, `DELETE FROM survey_responses`)
	testdb.MustExec(t, w.st, `DELETE FROM consent_changes`)
	testdb.MustExec(t, w.st, `DELETE FROM messages`)
	if got := totals(); got != kept {
		t.Errorf("after the rows went: %s, want the kept %s", got, kept)
	}
	if _, err := w.st.KeepReportTallies(t.Context(), day("2026-04-16")); err != nil {
		t.Fatal(err)
	}
	if got, want := totals(), brief(reports.SurveyRow{Label: "total"})+" sent=0 unsubscribes=0"; got != want {
		t.Errorf("after the next refresh: %s, want %s", got, want)
	}
}

// TestKeptMonthsShowWhatCountingLiveShows: the retention triangle and the
// churn rates (the kept default window and another) are the same whether
// the refresh kept months through before, inside or after the purchases,
// for whole months and for periods that start and end inside a month,
// also where the refresh's month so far is kept and a period of it ends
// later.
func TestKeptMonthsShowWhatCountingLiveShows(t *testing.T) {
	t.Parallel()
	w := customerWorld(t)
	periods := []reports.Period{{Since: day("2025-01-01"), Until: day("2025-07-01")},
		{Since: day("2024-12-15"), Until: day("2025-05-10 12:00")},
		{Since: day("2025-02-01"), Until: day("2025-05-01")},
	}
	figures := func() map[string]string {
		out := map[string]string{}
		for _, p := range periods {
			ret, err := reports.Retention(t.Context(), w.st, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			all := []any{ret}
			for _, days := range []int{reports.DefaultChurnDays, 30} {
				churn, err := reports.Churn(t.Context(), w.st, p, days)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, churn)
			}
			b, err := json.Marshal(all)
			if err != nil {
				t.Fatal(err)
			}
			out[p.Since.Format("2006-01-02 15:04")+"–"+p.Until.Format("2006-01-02 15:04")] = string(b)
		}
		return out
	}
	live := figures()
	// Inside a month, the churn counts kept so far are corrected to the
	// period's end: at 10 April, B is active (20 January) and is not by 1
	// May; at 5 May the period ending 10 May 12:00 is corrected, at 20 May
	// it ends before the refresh and is counted live.
	k := keepThroughEach(t, w, figures, live, "2024-12-20", "2025-02-01", "2025-03-15 10:00", "2025-04-10", "2025-04-25",
		"2025-05-01", "2025-05-05", "2025-05-10 12:00", "2025-05-20", "2025-08-01")
	if k.RetentionRows == 0 || k.ChurnRows == 0 {
		t.Errorf("the last refresh kept %+v, want retention and churn rows", k)
	}
	// Kept months come from the kept counts: without the purchases they
	// stay until the next refresh.
	testdb.MustExec(t, w.st, `DELETE FROM events`)
	p := periods[2]
	churn, err := reports.Churn(t.Context(), w.st, p, reports.DefaultChurnDays)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(churn); !strings.Contains(live[p.Since.Format("2006-01-02 15:04")+"–"+p.Until.Format("2006-01-02 15:04")], string(b)) {
		t.Errorf("churn without the events: %s, want the kept counts", b)
	}
	p = periods[0]
	ret, err := reports.Retention(t.Context(), w.st, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(ret); !strings.HasPrefix(live[p.Since.Format("2006-01-02 15:04")+"–"+p.Until.Format("2006-01-02 15:04")], "["+string(b)) {
		t.Errorf("retention without the events: %s, want the kept counts", b)
	}
}

// keepThroughEach keeps the tallies through each moment in turn and fails
// where the figures then differ from want; it returns what the last one
// kept.
func keepThroughEach(t *testing.T, w *world, figures func() map[string]string, want map[string]string, throughs ...string) store.KeptTallies {
	t.Helper()
	var k store.KeptTallies
	for _, at := range throughs {
		var err error
		if k, err = w.st.KeepReportTallies(t.Context(), day(at)); err != nil {
			t.Fatal(err)
		}
		for name, got := range figures() {
			if got != want[name] {
				t.Errorf("kept through %s, %s:\n got  %s\n want %s", at, name, got, want[name])
			}
		}
	}
	return k
}
