package reports_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// acquisitionWorld is March 2026's signups: A twice (ads, then
// newsletter), B late on the 4th, C at midnight of the 5th, D twice at the
// same moment (no source, then referral: the first recorded counts), E
// without a source, F first in February (ads in March again), G on the
// evening of the 31st (a buyer in April), H in April.
func acquisitionWorld(t *testing.T) (w *world, ids map[string]string) {
	w = newWorld(t)
	ids = map[string]string{}
	for _, name := range []string{"A", "B", "C", "D", "E", "F", "G", "H"} {
		ids[name] = w.customer(name, "en", "")
	}
	w.signup(ids["A"], "ads", "2026-03-02 10:00")
	w.signup(ids["A"], "newsletter", "2026-03-03 09:00")
	w.signup(ids["B"], "ads", "2026-03-04 23:30")
	w.signup(ids["C"], "ads", "2026-03-05")
	w.signup(ids["D"], "", "2026-03-06 12:00")
	w.signup(ids["D"], "referral", "2026-03-06 12:00")
	w.signup(ids["E"], "", "2026-03-07 08:00")
	w.signup(ids["F"], "social", "2026-02-27")
	w.signup(ids["F"], "ads", "2026-03-08")
	w.signup(ids["G"], "social", "2026-03-31 22:00")
	w.signup(ids["H"], "social", "2026-04-01 01:00")
	w.purchases(ids["A"], 60, "2026-03-10")
	w.purchases(ids["B"], 40, "2026-03-11")
	w.purchases(ids["G"], 25, "2026-04-02")
	return w, ids
}

// TestKeptAcquisitionShowsWhatCountingLiveShows: wherever the refresh kept
// the signup days through (before the signups, inside a day a period
// covers, at a signup's moment, at a midnight, after everything), the
// acquisition report shows what counting every signup live shows, for
// whole months and for periods that start and end inside a day, and says
// the buyers of kept days are as of the refresh. A purchase after the
// refresh by a customer of a kept day shows from the next refresh; a
// signup after it at once.
func TestKeptAcquisitionShowsWhatCountingLiveShows(t *testing.T) {
	t.Parallel()
	w, ids := acquisitionWorld(t)
	periods := []reports.Period{{Since: day("2026-03-01"), Until: day("2026-04-01")},
		{Since: day("2026-03-02 11:00"), Until: day("2026-03-10 10:30")},
		{Since: day("2026-02-01"), Until: day("2026-04-01 06:00")},
		{Since: day("2026-03-06 12:00"), Until: day("2026-12-01")},
	}
	var asOf []string
	figures := func() map[string]string {
		out := map[string]string{}
		asOf = nil
		for _, p := range periods {
			r, err := reports.Acquisition(t.Context(), w.st, p, map[string]float64{"ads": 90})
			if err != nil {
				t.Fatal(err)
			}
			if r.AsOf != nil {
				asOf = append(asOf, r.AsOf.Format("01-02 15:04"))
			}
			r.AsOf = nil
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out[p.Since.Format("01-02 15:04")+"–"+p.Until.Format("01-02 15:04")] = string(b)
		}
		return out
	}
	live := figures()
	// March, worked by hand: ads A (60), B (40), C; no source D (its first
	// event), E; social G (25); F signed up in February.
	if !strings.Contains(live["03-01 00:00–04-01 00:00"], `"sources":[{"source":"ads","signups":3,"buyers":2,"revenue":100,`) ||
		!strings.Contains(live["03-01 00:00–04-01 00:00"], `{"source":"","signups":2,"buyers":0,"revenue":0,`) ||
		!strings.Contains(live["03-01 00:00–04-01 00:00"], `{"source":"social","signups":1,"buyers":1,"revenue":25,`) || len(asOf) != 0 {
		t.Fatalf("March counted live: %s (as of %v)", live["03-01 00:00–04-01 00:00"], asOf)
	}
	for _, through := range []string{"2026-02-10", "2026-03-02 11:00", "2026-03-04", "2026-03-06 12:00", "2026-03-10 10:00",
		"2026-03-31 23:30", "2026-04-15"} {
		k, err := w.st.KeepReportTallies(t.Context(), day(through))
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range figures() {
			if got != live[name] {
				t.Errorf("kept through %s, %s:\n got  %s\n want %s", through, name, got, live[name])
			}
		}
		if through == "2026-04-15" && (k.AcquisitionRows != 8 || strings.Join(asOf, " ") != "04-15 00:00 04-15 00:00 04-15 00:00 04-15 00:00") {
			t.Errorf("through %s: kept %d days × sources, want 8; as of %v, want every period", through, k.AcquisitionRows, asOf)
		}
	}
	// C buys after the refresh: March still shows ads' buyers as of it
	// until the next refresh. I signs up after it: counted at once.
	march := periods[0]
	show := func(p reports.Period) string {
		r, err := reports.Acquisition(t.Context(), w.st, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range r.Sources {
			out = append(out, fmt.Sprintf("%s:%d/%d/%g", s.Source, s.Signups, s.Buyers, s.Revenue))
		}
		return strings.Join(out, " ")
	}
	w.purchases(ids["C"], 30, "2026-04-20")
	w.signup(w.customer("I", "en", ""), "social", "2026-04-21")
	if got, want := show(march), "ads:3/2/100 :2/0/0 social:1/1/25"; got != want {
		t.Errorf("March after C's purchase = %s, want the kept %s", got, want)
	}
	april := reports.Period{Since: day("2026-04-01"), Until: day("2026-05-01")}
	if got, want := show(april), "social:2/0/0"; got != want {
		t.Errorf("April with I's signup = %s, want %s", got, want)
	}
	if _, err := w.st.KeepReportTallies(t.Context(), day("2026-04-22")); err != nil {
		t.Fatal(err)
	}
	if got, want := show(march), "ads:3/3/130 :2/0/0 social:1/1/25"; got != want {
		t.Errorf("March after the next refresh = %s, want %s", got, want)
	}
}

// TestKeptValueIsTheValueAtTheRefresh: after a refresh, the customer value
// report asked for now shows the figures counted for the refresh's moment,
// with that moment, until the next refresh; a segment saved or changed
// since is counted by its definition as it is now, a deleted one is gone.
// Asked for a moment before the refresh, it is counted live.
func TestKeptValueIsTheValueAtTheRefresh(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a, b, c := w.customer("A", "en", "high"), w.customer("B", "zh-TW", "low"), w.customer("C", "en", "mid")
	d := w.customer("D", "en", "low")
	w.purchases(a, 100, "2024-06-01", "2025-06-01", "2025-12-01")
	w.purchases(b, 50, "2024-09-01")
	w.purchases(c, 40, "2025-11-01", "2025-12-01")
	save := func(name, def string) {
		t.Helper()
		if _, _, err := w.st.SaveSegment(t.Context(), store.Segment{Name: name, Format: "yaml", Definition: def}); err != nil {
			t.Fatal(err)
		}
	}
	save("english", "match: {locale: en}\n")
	save("nobody", "match: {tags: vip}\n")
	refresh := day("2026-01-01")
	value := func(at time.Time) (string, *time.Time) {
		t.Helper()
		r, err := reports.Value(t.Context(), w.st, at)
		if err != nil {
			t.Fatal(err)
		}
		asOf := r.AsOf
		r.At, r.AsOf = time.Time{}, nil
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), asOf
	}
	live, _ := value(refresh)
	if _, err := w.st.KeepReportTallies(t.Context(), refresh); err != nil {
		t.Fatal(err)
	}
	later := day("2026-06-01")
	if got, asOf := value(later); got != live || asOf == nil || !asOf.Equal(refresh) {
		t.Errorf("after the refresh, asked for %s: %s as of %v;\nwant %s as of %s", later, got, asOf, live, refresh)
	}
	// D buys, english changes to Chinese readers, repeat is saved, nobody
	// deleted: the groups stay as of the refresh, the segments follow
	// their definitions, counted for the refresh's moment.
	w.purchases(d, 70, "2026-02-01")
	save("english", "match: {locale: zh-TW}\n")
	save("repeat", "match: {orders_count: {gte: 2}}\n")
	if err := w.st.DeleteSegment(t.Context(), "nobody"); err != nil {
		t.Fatal(err)
	}
	r, err := reports.Value(t.Context(), w.st, later)
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	for _, row := range r.BySegment {
		segs = append(segs, fmt.Sprintf("%s n=%d revenue=%g", row.Label, row.Customers, row.Revenue))
	}
	if r.Total.Customers != 3 || r.Total.Revenue != 430 || strings.Join(segs, ", ") != "english n=1 revenue=50, repeat n=2 revenue=380" {
		t.Errorf("kept with changed segments: %d buyers, %g revenue, segments %v; want 3, 430, english n=1 revenue=50, repeat n=2 revenue=380",
			r.Total.Customers, r.Total.Revenue, segs)
	}
	// Before the refresh: counted live (D's aggregates are the customer's
	// now, but D's first purchase is after the moment).
	r, err = reports.Value(t.Context(), w.st, day("2025-12-15"))
	if err != nil || r.AsOf != nil || r.Total.Customers != 3 {
		t.Errorf("asked before the refresh: %d buyers as of %v (%v); want 3 counted for the moment", r.Total.Customers, r.AsOf, err)
	}
	if _, err := w.st.KeepReportTallies(t.Context(), day("2026-03-01")); err != nil {
		t.Fatal(err)
	}
	r, err = reports.Value(t.Context(), w.st, later)
	if err != nil || r.Total.Customers != 4 || r.Total.Revenue != 500 || r.AsOf == nil || !r.AsOf.Equal(day("2026-03-01")) {
		t.Errorf("after the next refresh: %d buyers, %g revenue as of %v (%v); want 4, 500 as of 2026-03-01", r.Total.Customers, r.Total.Revenue, r.AsOf, err)
	}
	testdb.MustExec(t, w.st, `DELETE FROM segments`)
	if r, err := reports.Value(t.Context(), w.st, later); err != nil || len(r.BySegment) != 0 {
		t.Errorf("without segments: %+v (%v)", r.BySegment, err)
	}
}
