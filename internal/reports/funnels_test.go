package reports_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/reports"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// message records a sent message in the ledger with what came back: a
// delivery report, a person's open or click, a machine's open.
func (w *world) message(journey, key, customer, step string, sent time.Time, delivery string, engaged ...string) string {
	w.t.Helper()
	id := w.queryRow(`INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic,
			status, delivery, created_at, sent_at)
		VALUES ($1, $2, $3, $4, 'email', 'news', 'marketing', 'sent', $5, $6, $6) RETURNING id::text`,
		key, customer, journey, step, delivery, sent)
	for _, e := range engaged {
		switch e {
		case "open", "machine-open":
			testdb.MustExec(w.t, w.st, `INSERT INTO message_opens (message_id, machine, first_at, last_at) VALUES ($1, $2, $3, $3)`,
				id, e == "machine-open", sent.Add(time.Hour))
		case "click":
			testdb.MustExec(w.t, w.st, `INSERT INTO message_clicks (message_id, link, url, machine, first_at, last_at)
				VALUES ($1, 0, 'https://shop.example/', false, $2, $2)`, id, sent.Add(2*time.Hour))
		default:
			w.t.Fatalf("unknown engagement %q", e)
		}
	}
	return id
}

// order records a purchase with its amount in USD.
func (w *world) order(customer string, amount float64, at string) {
	w.t.Helper()
	if _, err := w.st.RecordEvents(w.t.Context(), []store.EventInput{{EventID: customer + "/" + at, CustomerID: customer,
		Type: store.PurchaseEvent, Properties: map[string]any{"amount": amount, "currency": "USD"}, OccurredAt: day(at), Unrouted: true}}); err != nil {
		w.t.Fatal(err)
	}
}

// springSale enters a campaign's customers (three in variant a, two in
// b, two held out) and records what it sent them and what they bought:
// the funnel TestCampaignFunnelPerVariantAndHoldout works out by hand.
// It returns the customers' IDs by name.
func (w *world) springSale() map[string]string {
	w.t.Helper()
	if _, _, err := w.st.ApplyCampaign(w.t.Context(), "spring sale", "once", store.CampaignVersion{
		Campaign: "spring-sale", Source: "name: spring-sale", Spec: []byte(`{"name":"spring-sale"}`)}); err != nil {
		w.t.Fatal(err)
	}
	ids := map[string]string{}
	for _, c := range []struct{ name, variant string }{{"A1", "a"}, {"A2", "a"}, {"A3", "a"}, {"B1", "b"}, {"B2", "b"}, {"H1", ""}, {"H2", ""}} {
		ids[c.name] = w.customer(c.name, "en", "")
		testdb.MustExec(w.t, w.st, `INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, variant, holdout,
				entered_at, goal_event, goal_until)
			VALUES ('spring-sale', $1, 1, 1, $2, $3, $4, $5, 'purchase', $5::timestamptz + interval '14 days')`,
			ids[c.name], "run-"+c.name, c.variant, c.variant == "", day("2026-03-01 10:00"))
	}
	send := func(who, step, variant, at, delivery string, engaged ...string) {
		w.message("campaign/spring-sale", "campaign/spring-sale/1/"+ids[who]+"/"+step+"/1", ids[who], step+":"+variant,
			day(at), delivery, engaged...)
	}
	// Variant a: A1 opens and clicks the intro and buys the next day
	// (40); A2 opens the intro, clicks the reminder and buys the day after
	// it (60); A3's intro bounces. Variant b: B1 gets the intro and buys 11
	// days later (30), inside the 14-day goal window but outside a 7-day
	// attribution window; only a machine opens B2's. H1, held out, buys
	// (20); H2 does nothing.
	send("A1", "intro", "a", "2026-03-01 10:00", "", "open", "click")
	send("A2", "intro", "a", "2026-03-01 10:00", "delivered", "open")
	send("A3", "intro", "a", "2026-03-01 10:00", "bounced")
	send("A2", "reminder", "a", "2026-03-04 10:00", "", "click")
	send("B1", "intro", "b", "2026-03-01 10:00", "")
	send("B2", "intro", "b", "2026-03-01 10:00", "", "machine-open")
	w.order(ids["A1"], 40, "2026-03-02 09:00")
	w.order(ids["A2"], 60, "2026-03-05 09:00")
	w.order(ids["B1"], 30, "2026-03-12 09:00")
	w.order(ids["H1"], 20, "2026-03-03 09:00")
	w.order(ids["H2"], 99, "2026-04-01 09:00") // after the goal window
	return ids
}

func TestCampaignFunnelPerVariantAndHoldout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.springSale()
	r, err := reports.CampaignFunnel(t.Context(), w.st, "spring-sale", reports.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Arms) != 3 || r.Arms[0].Arm != "a" || r.Arms[1].Arm != "b" || r.Arms[2].Arm != "holdout" || r.WindowDays != 7 {
		t.Fatalf("arms %+v, want a, b, holdout with a 7-day window", r.Arms)
	}
	a, b, h := r.Arms[0], r.Arms[1], r.Arms[2]
	// a: 3 entered, 2 converted (2/3); the intro reached all 3, 2 were
	// delivered (A3 bounced), both opened, 1 clicked: rates 1, 2/3, 1,
	// 1/2; the reminder reached A2, who clicked (a click shows an open).
	// Last touch: A1's 40 to the intro, A2's 60 to the reminder.
	if a.Entered != 3 || a.Converted != 2 || !near(*a.ConversionRate, 2.0/3, 1e-9) || len(a.Steps) != 2 || a.Revenue["USD"] != 100 || a.Unattributed != 0 {
		t.Fatalf("arm a = %+v", a)
	}
	intro, reminder := a.Steps[0], a.Steps[1]
	if intro.Step != "intro" || intro.Sent != 3 || intro.Delivered != 2 || intro.Opened != 2 || intro.Clicked != 1 ||
		*intro.SentRate != 1 || !near(*intro.DeliveredRate, 2.0/3, 1e-9) || *intro.OpenRate != 1 || *intro.ClickRate != 0.5 ||
		intro.Conversions != 1 || intro.Revenue["USD"] != 40 {
		t.Errorf("a's intro = %+v", intro)
	}
	if reminder.Step != "reminder" || reminder.Sent != 1 || reminder.Delivered != 1 || reminder.Opened != 1 || reminder.Clicked != 1 ||
		reminder.Conversions != 1 || reminder.Revenue["USD"] != 60 {
		t.Errorf("a's reminder = %+v", reminder)
	}
	// b: 2 entered, 1 converted, nobody opened (a machine's open is not a
	// person's); B1's purchase came 11 days after the intro: unattributed.
	if b.Entered != 2 || b.Converted != 1 || len(b.Steps) != 1 || b.Steps[0].Sent != 2 || b.Steps[0].Opened != 0 ||
		b.Steps[0].OpenRate == nil || *b.Steps[0].OpenRate != 0 || b.Steps[0].ClickRate != nil ||
		b.Steps[0].Conversions != 0 || b.Unattributed != 1 || b.UnattributedRevenue["USD"] != 30 {
		t.Errorf("arm b = %+v", b)
	}
	// The holdout got nothing: its one conversion is unattributed.
	if !h.Holdout || h.Entered != 2 || h.Converted != 1 || len(h.Steps) != 0 || h.Unattributed != 1 || h.Revenue["USD"] != 20 {
		t.Errorf("holdout = %+v", h)
	}

	// With a 14-day window B1's purchase is the intro's.
	r, err = reports.CampaignFunnel(t.Context(), w.st, "spring-sale", reports.FunnelQuery{Window: 14 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if b := r.Arms[1]; b.Steps[0].Conversions != 1 || b.Steps[0].Revenue["USD"] != 30 || b.Unattributed != 0 {
		t.Errorf("arm b with 14 days = %+v", b)
	}
	if _, err := reports.CampaignFunnel(t.Context(), w.st, "spring-sale", reports.FunnelQuery{Window: time.Minute}); err == nil {
		t.Error("a one-minute window was taken")
	}
}

// winback records three win-back runs with their mails and one
// conversion, the funnel TestJourneyFunnelsOfRunsAndOfASweep works out; it
// returns the IDs of X and Y, whose runs start in March.
func (w *world) winback() (x, y string) {
	w.t.Helper()
	var z string
	x, y, z = w.customer("X", "en", ""), w.customer("Y", "en", ""), w.customer("Z", "en", "")
	// Win-back: X's and Y's runs start in March, Z's in February (outside
	// the period). X clicks the first mail and converts after the second
	// (the journey credits the second, 70); Y gets the first only.
	for _, r := range []struct{ run, customer, at string }{{"r-x", x, "2026-03-02"}, {"r-y", y, "2026-03-03"}, {"r-z", z, "2026-02-10"}} {
		testdb.MustExec(w.t, w.st, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ('winback', $1, $2, 'sweep', $3)`, r.run, r.customer, day(r.at))
	}
	w.message("winback", "winback/"+x+"/r-x/first", x, "first", day("2026-03-02 10:00"), "", "click")
	w.message("winback", "winback/"+x+"/r-x/second", x, "second", day("2026-03-09 10:00"), "")
	w.message("winback", "winback/"+y+"/r-y/first", y, "first", day("2026-03-03 10:00"), "bounced")
	w.message("winback", "winback/"+z+"/r-z/first", z, "first", day("2026-02-10 10:00"), "")
	testdb.MustExec(w.t, w.st, `INSERT INTO conversions (journey, run_id, customer_id, step, event_id, revenue, currency, converted_at)
		VALUES ('winback', 'r-x', $1, 'second', 'o-1', 70, 'USD', $2)`, x, day("2026-03-10"))
	return x, y
}

// birthdays records two birthday greetings in March, x's coupon redeemed
// three days later for a 25 USD order, y's not.
func (w *world) birthdays(x, y string) {
	w.t.Helper()
	gx := w.message("birthday", "birthday/"+x+"/2026", x, "greeting", day("2026-03-05 09:00"), "", "open")
	w.message("birthday", "birthday/"+y+"/2026", y, "greeting", day("2026-03-06 09:00"), "")
	testdb.MustExec(w.t, w.st, `INSERT INTO coupons (code, customer_id, message_id, journey, step, issued_at, discount_percent)
		VALUES ('BDAY-X', $1, $2, 'birthday', 'greeting', $3, 15)`, x, gx, day("2026-03-05 09:00"))
	if _, _, err := w.st.RedeemCoupon(w.t.Context(), store.Redemption{Code: "BDAY-X", OrderID: "o-9", Revenue: 25, Currency: "USD",
		At: day("2026-03-08 12:00")}); err != nil {
		w.t.Fatal(err)
	}
}

func TestJourneyFunnelsOfRunsAndOfASweep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	x, y := w.winback()
	p := reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")}
	r, err := reports.JourneyFunnel(t.Context(), w.st, "winback", reports.FunnelQuery{Period: p})
	if err != nil {
		t.Fatal(err)
	}
	// 2 runs, 1 converted; first: sent 2, delivered 1, opened 1, clicked
	// 1; second: sent 1 with the conversion's 70.
	if len(r.Arms) != 1 || r.Arms[0].Entered != 2 || r.Arms[0].Converted != 1 || len(r.Arms[0].Steps) != 2 {
		t.Fatalf("winback funnel = %+v", r.Arms)
	}
	first, second := r.Arms[0].Steps[0], r.Arms[0].Steps[1]
	if first.Step != "first" || first.Sent != 2 || first.Delivered != 1 || first.Opened != 1 || first.Clicked != 1 || first.Conversions != 0 ||
		second.Step != "second" || second.Sent != 1 || second.Conversions != 1 || second.Revenue["USD"] != 70 {
		t.Errorf("winback steps = %+v", r.Arms[0].Steps)
	}

	w.birthdays(x, y)
	r, err = reports.JourneyFunnel(t.Context(), w.st, "birthday", reports.FunnelQuery{Period: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Arms) != 1 || r.Arms[0].Entered != 2 || r.Arms[0].Converted != 1 || len(r.Arms[0].Steps) != 1 {
		t.Fatalf("birthday funnel = %+v", r.Arms)
	}
	if g := r.Arms[0].Steps[0]; g.Sent != 2 || g.Opened != 1 || g.Redeemed != 1 || g.Conversions != 1 || g.Revenue["USD"] != 25 {
		t.Errorf("birthday greeting = %+v", g)
	}
}

// TestKeptFunnelsAreTheLiveOnes: a refresh (a score refresh, which does
// what the hourly sweep does) keeps every campaign's and journey's funnel;
// a report asked for its defaults reads it with the refresh's time, and it
// is the one counted now. What happens after the refresh shows on the
// next one, for a window of the reader's own too.
func TestKeptFunnelsAreTheLiveOnes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	ids := w.springSale()
	x, y := w.winback()
	w.birthdays(x, y)
	refreshed := day("2026-04-01 06:00")
	m := mgmt.New(mgmt.Deps{Store: w.st}, mgmt.Options{Now: func() time.Time { return refreshed }})
	funnelOf := func(q reports.FunnelQuery) reports.FunnelReport {
		t.Helper()
		r, err := reports.CampaignFunnel(ctx, w.st, "spring-sale", q)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	live := funnelOf(reports.FunnelQuery{})
	if r := funnelOf(reports.FunnelQuery{Kept: true}); r.AsOf != nil || !reflect.DeepEqual(r, live) {
		t.Fatalf("before any refresh = %+v, want the funnel counted now", r)
	}
	if _, err := m.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	kept := funnelOf(reports.FunnelQuery{Kept: true})
	if kept.AsOf == nil || !kept.AsOf.Equal(refreshed) {
		t.Fatalf("kept funnel as of %v, want the refresh's %v", kept.AsOf, refreshed)
	}
	kept.AsOf = nil
	if !reflect.DeepEqual(kept, live) {
		t.Errorf("kept funnel\n%+v\nwant the one counted now\n%+v", kept, live)
	}

	// The journeys' are kept for the last 12 calendar months up to the
	// refresh: X's, Y's and Z's win-back runs, the two birthday greetings;
	// an hour later the default period reads them and counts that hour.
	p := reports.DefaultFunnelPeriod(refreshed)
	for _, journey := range []string{"winback", "birthday"} {
		asked := reports.DefaultFunnelPeriod(refreshed.Add(time.Hour))
		live, err := reports.JourneyFunnel(ctx, w.st, journey, reports.FunnelQuery{Period: asked})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := reports.JourneyFunnel(ctx, w.st, journey, reports.FunnelQuery{Period: asked, Kept: true})
		if err != nil {
			t.Fatal(err)
		}
		if kept.AsOf == nil || !kept.AsOf.Equal(refreshed) || *kept.Period != asked {
			t.Errorf("%s kept as of %v for %+v, want %v for %+v", journey, kept.AsOf, kept.Period, refreshed, asked)
		}
		kept.AsOf = nil
		if !reflect.DeepEqual(kept, live) {
			t.Errorf("kept %s funnel\n%+v\nwant the one counted now\n%+v", journey, kept, live)
		}
	}
	if r, _ := reports.JourneyFunnel(ctx, w.st, "winback", reports.FunnelQuery{Period: p, Kept: true}); len(r.Arms) != 1 || r.Arms[0].Entered != 3 {
		t.Errorf("kept winback funnel = %+v, want the 3 runs", r.Arms)
	}

	// B2 buys after the refresh, inside the goal window and 4 days after
	// the intro: the kept funnel still says 1 of b's 2 converted until the
	// next refresh, whatever the window.
	w.order(ids["B2"], 15, "2026-03-05 10:00")
	if b := funnelOf(reports.FunnelQuery{Kept: true}).Arms[1]; b.Converted != 1 {
		t.Errorf("kept b before the next refresh converted %d, want 1", b.Converted)
	}
	if r := funnelOf(reports.FunnelQuery{Kept: true, Window: 14 * 24 * time.Hour}); r.AsOf == nil || r.Arms[1].Converted != 1 {
		t.Errorf("a 14-day window: as of %v, b converted %d; want the refresh's, 1", r.AsOf, r.Arms[1].Converted)
	}
	if _, err := m.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	if b := funnelOf(reports.FunnelQuery{Kept: true}).Arms[1]; b.Converted != 2 || b.Steps[0].Conversions != 1 || b.Steps[0].Revenue["USD"] != 15 {
		t.Errorf("kept b after the next refresh = %+v, want 2 converted, B2's 15 credited to the intro", b)
	}
}

// TestSettledCampaignIsRecountedOnceADay: once every entry of a campaign
// has finished, and a refresh counted it after the last did, only late
// engagement can move its figures, so refreshes keep them, with their
// time, and recount them a day later.
func TestSettledCampaignIsRecountedOnceADay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	ids := w.springSale()
	testdb.MustExec(t, w.st, `UPDATE campaign_entries SET finished_at = goal_until WHERE campaign = 'spring-sale'`)
	testdb.MustExec(t, w.st, `UPDATE campaigns SET updated_at = '2026-02-20' WHERE name = 'spring-sale'`)
	clock := day("2026-04-01 06:00")
	m := mgmt.New(mgmt.Deps{Store: w.st}, mgmt.Options{Now: func() time.Time { return clock }})
	refresh := func(at time.Time) reports.FunnelReport {
		t.Helper()
		clock = at
		if _, err := m.RefreshScores(ctx, access.Operator("test")); err != nil {
			t.Fatal(err)
		}
		r, err := reports.CampaignFunnel(ctx, w.st, "spring-sale", reports.FunnelQuery{Kept: true})
		if err != nil || r.AsOf == nil {
			t.Fatalf("kept funnel as of %v: %v", r.AsOf, err)
		}
		return r
	}
	first := refresh(clock)
	// B2's purchase is imported late: the next hour's refresh keeps the
	// day's count; the one a day after the first recounts it.
	w.order(ids["B2"], 15, "2026-03-05 10:00")
	if r := refresh(day("2026-04-01 07:00")); !r.AsOf.Equal(*first.AsOf) || r.Arms[1].Converted != 1 {
		t.Errorf("an hour later: as of %v, b converted %d; want the first refresh's %v and 1", r.AsOf, r.Arms[1].Converted, first.AsOf)
	}
	if r := refresh(day("2026-04-02 06:00")); !r.AsOf.Equal(day("2026-04-02 06:00")) || r.Arms[1].Converted != 2 {
		t.Errorf("a day later: as of %v, b converted %d; want that refresh's and 2", r.AsOf, r.Arms[1].Converted)
	}
}

// TestKeptFunnelsOfAnyWindow: the refresh keeps the funnels' rows once,
// and a funnel of any window read from them is the one counted now. The
// last touches are 23 hours before A1's and A2's purchases, 10 days 23
// hours before B1's, 14 hours before X's conversion; H1's purchase had no
// touch at all. So with 1 hour every conversion is unattributed; with 1
// day A1's goes to the intro and A2's to the reminder; with 263 hours
// (B1's gap exactly: a step is credited only when the gap is under the
// window) B1's is still unattributed, with 264 hours it is the intro's.
func TestKeptFunnelsOfAnyWindow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	w.springSale()
	w.winback()
	refreshed := day("2026-04-01 06:00")
	m := mgmt.New(mgmt.Deps{Store: w.st}, mgmt.Options{Now: func() time.Time { return refreshed }})
	if _, err := m.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	// credited is, per arm, the conversions each step (and "" no step) got.
	credited := func(r reports.FunnelReport) map[string]map[string]int {
		out := map[string]map[string]int{}
		for _, a := range r.Arms {
			out[a.Arm] = map[string]int{"": a.Unattributed}
			for _, s := range a.Steps {
				out[a.Arm][s.Step] = s.Conversions
			}
		}
		return out
	}
	// check compares a funnel of window read from what the refresh kept
	// with the one counted now, and its credits with want.
	check := func(window time.Duration, what string, want map[string]map[string]int,
		count func(reports.FunnelQuery) (reports.FunnelReport, error)) {
		t.Helper()
		live, err := count(reports.FunnelQuery{Window: window})
		if err != nil {
			t.Fatal(err)
		}
		kept, err := count(reports.FunnelQuery{Window: window, Kept: true})
		if err != nil {
			t.Fatal(err)
		}
		if kept.AsOf == nil || !kept.AsOf.Equal(refreshed) {
			t.Errorf("%v: kept %s funnel as of %v, want the refresh's", window, what, kept.AsOf)
		}
		kept.AsOf = nil
		if !reflect.DeepEqual(kept, live) {
			t.Errorf("%v: kept %s funnel\n%+v\nwant the one counted now\n%+v", window, what, kept, live)
		}
		if got := credited(kept); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: %s credits %v, want %v", window, what, got, want)
		}
	}
	p := reports.Period{Since: day("2026-03-01"), Until: day("2026-04-01")}
	for _, c := range []struct {
		window           time.Duration
		campaign, winbak map[string]map[string]int
	}{
		{time.Hour,
			map[string]map[string]int{"a": {"": 2, "intro": 0, "reminder": 0}, "b": {"": 1, "intro": 0}, "holdout": {"": 1}},
			map[string]map[string]int{"": {"": 1, "first": 0, "second": 0}}},
		{24 * time.Hour,
			map[string]map[string]int{"a": {"": 0, "intro": 1, "reminder": 1}, "b": {"": 1, "intro": 0}, "holdout": {"": 1}},
			map[string]map[string]int{"": {"": 0, "first": 0, "second": 1}}},
		{263 * time.Hour,
			map[string]map[string]int{"a": {"": 0, "intro": 1, "reminder": 1}, "b": {"": 1, "intro": 0}, "holdout": {"": 1}},
			map[string]map[string]int{"": {"": 0, "first": 0, "second": 1}}},
		{264 * time.Hour,
			map[string]map[string]int{"a": {"": 0, "intro": 1, "reminder": 1}, "b": {"": 0, "intro": 1}, "holdout": {"": 1}},
			map[string]map[string]int{"": {"": 0, "first": 0, "second": 1}}},
	} {
		check(c.window, "campaign", c.campaign, func(q reports.FunnelQuery) (reports.FunnelReport, error) {
			return reports.CampaignFunnel(ctx, w.st, "spring-sale", q)
		})
		check(c.window, "winback", c.winbak, func(q reports.FunnelQuery) (reports.FunnelReport, error) {
			q.Period = p
			return reports.JourneyFunnel(ctx, w.st, "winback", q)
		})
	}
	// Revenue follows the credit: with 264 hours B1's 30 is the intro's.
	r, err := reports.CampaignFunnel(ctx, w.st, "spring-sale", reports.FunnelQuery{Window: 264 * time.Hour, Kept: true})
	if err != nil {
		t.Fatal(err)
	}
	if b := r.Arms[1]; b.Steps[0].Revenue["USD"] != 30 || b.Revenue["USD"] != 30 || len(b.UnattributedRevenue) != 0 {
		t.Errorf("arm b with 264 hours = %+v", b)
	}
}

// TestKeptJourneyFunnelsOfAnyPeriod: a journey's funnel over a period of
// the reader's own sums the days the refresh kept and counts the rest now:
// the runs started since the refresh, the part of a day the period cuts,
// the months before the twelve it keeps. What changes after the refresh
// in a kept day shows at the next one.
func TestKeptJourneyFunnelsOfAnyPeriod(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	x, _ := w.winback()
	refreshed := day("2026-04-01 06:00")
	m := mgmt.New(mgmt.Deps{Store: w.st}, mgmt.Options{Now: func() time.Time { return refreshed }})
	if _, err := m.RefreshScores(ctx, access.Operator("test")); err != nil {
		t.Fatal(err)
	}
	// W's run starts after the refresh, gets the first mail and converts
	// two days later (45).
	wc := w.customer("W", "en", "")
	testdb.MustExec(t, w.st, `INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
		VALUES ('winback', 'r-w', $1, 'sweep', $2)`, wc, day("2026-04-01 08:00"))
	w.message("winback", "winback/"+wc+"/r-w/first", wc, "first", day("2026-04-01 08:00"), "", "open")
	testdb.MustExec(t, w.st, `INSERT INTO conversions (journey, run_id, customer_id, step, event_id, revenue, currency, converted_at)
		VALUES ('winback', 'r-w', $1, 'first', 'o-2', 45, 'USD', $2)`, wc, day("2026-04-03"))
	funnelOf := func(p reports.Period, kept bool) reports.FunnelReport {
		t.Helper()
		r, err := reports.JourneyFunnel(ctx, w.st, "winback", reports.FunnelQuery{Period: p, Window: 3 * 24 * time.Hour, Kept: kept})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		name    string
		p       reports.Period
		entered int
		asOf    bool
	}{
		// X, Y (March) and W (after the refresh).
		{"March to now", reports.Period{Since: day("2026-03-01"), Until: day("2026-04-05")}, 3, true},
		// X's run started at midnight on 2 March: Y and W.
		{"from noon on 2 March", reports.Period{Since: day("2026-03-02 12:00"), Until: day("2026-04-05")}, 2, true},
		// Z's February run is inside the kept months too; so is X's.
		{"February and March", reports.Period{Since: day("2026-02-01"), Until: day("2026-03-03")}, 2, true},
		// Before the twelve months the refresh keeps: counted now.
		{"before", reports.Period{Since: day("2024-06-01"), Until: day("2025-04-01")}, 0, false},
	} {
		live, kept := funnelOf(c.p, false), funnelOf(c.p, true)
		if (kept.AsOf != nil) != c.asOf || kept.AsOf != nil && !kept.AsOf.Equal(refreshed) {
			t.Errorf("%s: as of %v, want the refresh's: %v", c.name, kept.AsOf, c.asOf)
		}
		kept.AsOf = nil
		if !reflect.DeepEqual(kept, live) {
			t.Errorf("%s: kept\n%+v\nwant the one counted now\n%+v", c.name, kept, live)
		}
		if entered := 0; len(kept.Arms) > 0 {
			entered = kept.Arms[0].Entered
			if entered != c.entered {
				t.Errorf("%s: %d entered, want %d", c.name, entered, c.entered)
			}
		} else if c.entered != 0 {
			t.Errorf("%s: nobody entered, want %d", c.name, c.entered)
		}
	}
	// W's conversion came 2 days after its mail: the first's, with 45.
	r := funnelOf(reports.Period{Since: day("2026-03-01"), Until: day("2026-04-05")}, true)
	if a := r.Arms[0]; a.Converted != 2 || a.Steps[0].Step != "first" || a.Steps[0].Conversions != 1 || a.Steps[0].Revenue["USD"] != 45 ||
		a.Steps[0].Opened != 2 {
		t.Errorf("March to now = %+v", a)
	}
	// X's second mail bounces after the refresh: the kept day says it was
	// delivered until the next refresh.
	testdb.MustExec(t, w.st, `UPDATE messages SET delivery = 'bounced' WHERE idempotency_key = $1`, "winback/"+x+"/r-x/second")
	p := reports.Period{Since: day("2026-03-01"), Until: day("2026-03-31")}
	if s := funnelOf(p, true).Arms[0].Steps[1]; s.Step != "second" || s.Delivered != 1 {
		t.Errorf("kept second before the next refresh = %+v, want it delivered", s)
	}
	if s := funnelOf(p, false).Arms[0].Steps[1]; s.Delivered != 0 {
		t.Errorf("second counted now = %+v, want it bounced", s)
	}
}
