package reports_test

import (
	"context"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

func TestAcquisitionCACPerSource(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	signup := func(customer, source, at string) {
		props := map[string]any{}
		if source != "" {
			props["source"] = source
		}
		if _, err := w.st.RecordEvents(context.Background(), []store.EventInput{{EventID: "signup/" + customer + at, CustomerID: customer,
			Type: "signup", Properties: props, OccurredAt: day(at), Unrouted: true}}); err != nil {
			t.Fatal(err)
		}
	}
	// March: three signups from ads (two of whom buy, 60 and 40), one
	// from a friend's referral who does not buy, one without a source.
	// Ads cost 50: CAC 50 / 2 = 25, CLV (60 + 40) / 2 = 50, CLV:CAC 2.
	a, b, c, d, e := w.customer("A", "en", ""), w.customer("B", "en", ""), w.customer("C", "en", ""), w.customer("D", "en", ""), w.customer("E", "en", "")
	signup(a, "ads", "2026-03-02")
	signup(a, "newsletter", "2026-03-03") // a second signup event: the first counts
	signup(b, "ads", "2026-03-04")
	signup(c, "ads", "2026-03-05")
	signup(d, "referral", "2026-03-06")
	signup(e, "", "2026-03-07")
	w.purchases(a, 60, "2026-03-10")
	w.purchases(b, 40, "2026-03-11")
	r, err := reports.Acquisition(t.Context(), w.st, reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")},
		map[string]float64{"ads": 50, "referral": 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sources) != 3 || r.Hint != "" {
		t.Fatalf("sources %+v, hint %q", r.Sources, r.Hint)
	}
	// Most signups first; the source-less and referral tie, by name.
	ads, none, ref := r.Sources[0], r.Sources[1], r.Sources[2]
	if none.Source != "" || none.Signups != 1 || none.Cost != nil {
		t.Errorf("without a source = %+v", none)
	}
	if ads.Source != "ads" || ads.Signups != 3 || ads.Buyers != 2 || *ads.CAC != 25 || *ads.CLV != 50 || *ads.CLVToCAC != 2 {
		t.Errorf("ads = %+v", ads)
	}
	if ref.Source != "referral" || ref.Signups != 1 || ref.Buyers != 0 || ref.CAC != nil || ref.CLV != nil || *ref.Cost != 0 {
		t.Errorf("referral = %+v", ref)
	}
	// Without costs the report says what to send.
	r, err = reports.Acquisition(t.Context(), w.st, reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")}, nil)
	if err != nil || r.Hint != reports.AcquisitionHint || r.Sources[0].CAC != nil {
		t.Errorf("without costs: %+v, %v", r, err)
	}
}
