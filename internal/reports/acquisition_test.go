package reports_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
)

// signup records a signup event of customer from source ("" for none) at
// a day or time, as the events API stores it.
func (w *world) signup(customer, source, at string) {
	w.t.Helper()
	props := map[string]any{}
	if source != "" {
		props["source"] = source
	}
	if _, err := w.st.RecordEvents(context.Background(), []store.EventInput{{EventID: "signup/" + customer + "/" + at + "/" + source,
		CustomerID: customer, Type: "signup", Properties: props, OccurredAt: day(at), Unrouted: true}}); err != nil {
		w.t.Fatal(err)
	}
}

func TestAcquisitionCACPerSource(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	signup := w.signup
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
	// A customer is acquired once, by their first signup ever: from 3
	// March on, A's second signup (newsletter) does not count A again.
	r, err = reports.Acquisition(t.Context(), w.st, reports.Period{Since: day("2026-03-03"), Until: day("2026-04-01")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.Sources {
		got = append(got, fmt.Sprintf("%s:%d/%d/%g", s.Source, s.Signups, s.Buyers, s.Revenue))
	}
	if want := "ads:2/1/40 :1/0/0 referral:1/0/0"; strings.Join(got, " ") != want || r.AsOf != nil {
		t.Errorf("from 3 March: %s (as of %v), want %s counted now", strings.Join(got, " "), r.AsOf, want)
	}
	// Without costs the report says what to send.
	r, err = reports.Acquisition(t.Context(), w.st, reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")}, nil)
	if err != nil || r.Hint != reports.AcquisitionHint || r.Sources[0].CAC != nil {
		t.Errorf("without costs: %+v, %v", r, err)
	}
}

// TestSpendPerMonthFromThePolicyFile: the policy file's monthly spend is
// read with its line and column on a mistake, and spread over a report's
// period: 1200 a month over the 91 days of a quarter is 1200 × 91 / 30.4375
// = 3587.68; costs given for the period win over it.
func TestSpendPerMonthFromThePolicyFile(t *testing.T) {
	spend, err := reports.ParseSpendPerMonth([]byte("topics: {}\nacquisition:\n  monthly_spend:\n    google-ads: 1200\n    referral: 99.5\n"), "policy.yaml")
	if err != nil || len(spend) != 2 || spend["google-ads"] != 1200 || spend["referral"] != 99.5 {
		t.Fatalf("spend %v, %v", spend, err)
	}
	quarter := reports.Period{Since: day("2026-01-01"), Until: day("2026-04-02")}
	if got := spend.For(quarter); got["google-ads"] != 3587.68 || got["referral"] != 297.48 {
		t.Errorf("spend over 91 days = %v, want google-ads 3587.68, referral 297.48", got)
	}
	if got := reports.CostsFor(map[string]float64{"google-ads": 10}, spend, quarter); len(got) != 1 || got["google-ads"] != 10 {
		t.Errorf("costs given = %v, want them alone", got)
	}
	if got := reports.CostsFor(nil, nil, quarter); got != nil {
		t.Errorf("no costs, no spend = %v", got)
	}
	if s, err := reports.ParseSpendPerMonth([]byte("journeys: {}\n"), "policy.yaml"); err != nil || s != nil {
		t.Errorf("a file without acquisition: %v, %v", s, err)
	}
	_, err = reports.ParseSpendPerMonth([]byte("acquisition:\n  monthly_spend:\n    ads: -3\n  budget: 1\n"), "policy.yaml")
	if err == nil || !strings.Contains(err.Error(), `policy.yaml:3:10: acquisition.monthly_spend.ads: "-3": expected an amount of 0 or more`) ||
		!strings.Contains(err.Error(), "policy.yaml:4:3: acquisition.budget: unknown key; expected one of monthly_spend") {
		t.Errorf("mistakes: %v", err)
	}
}
