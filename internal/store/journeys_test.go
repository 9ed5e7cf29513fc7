package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// addZoned stores a customer with a time zone and an optional birthday.
func addZoned(t *testing.T, s *store.Store, externalID, zone, birthday string) string {
	t.Helper()
	in := store.CustomerInput{ExternalID: externalID, TimeZone: testdb.String(zone)}
	if birthday != "" {
		in.Birthday = testdb.String(birthday)
	}
	c, _, err := s.UpsertCustomer(t.Context(), in)
	if err != nil {
		t.Fatalf("upsert customer %s: %v", externalID, err)
	}
	return c.ID
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestClaimJourneyRunHonoursTheWindow(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addZoned(t, s, "C-1", "UTC", "")
	t0 := mustTime(t, "2026-03-01T10:00:00Z")

	claim := func(runID string, at time.Time, window time.Duration) bool {
		t.Helper()
		ok, err := s.ClaimJourneyRun(ctx, store.JourneyRun{Journey: "survey", RunID: runID, CustomerID: c, StartedAt: at}, window)
		if err != nil {
			t.Fatalf("claim %s: %v", runID, err)
		}
		return ok
	}
	month := 30 * 24 * time.Hour
	if !claim("r1", t0, month) {
		t.Fatal("first survey of the month was refused")
	}
	if !claim("r1", t0, month) {
		t.Error("claiming the same run again (a retried activity) was refused")
	}
	if claim("r2", t0.Add(10*24*time.Hour), month) {
		t.Error("a second survey 10 days later was allowed, want at most one per 30 days")
	}
	if !claim("r3", t0.Add(31*24*time.Hour), month) {
		t.Error("a survey 31 days later was refused")
	}
	if claim("o2", t0.Add(400*24*time.Hour), 0) {
		// window 0 means "ever": r1 and r3 exist.
		t.Error("window 0 allowed a run although earlier runs exist")
	}

	if err := s.FinishJourneyRun(ctx, "survey", "r1", "answered", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishJourneyRun(ctx, "survey", "r1", "no_response", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	runs, err := s.JourneyRuns(ctx, "survey", c)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("runs = %+v, want r3 and r1", runs)
	}
	if runs[1].RunID != "r1" || runs[1].Outcome != "answered" || runs[1].EndedAt == nil {
		t.Errorf("r1 = %+v, want ended with the first outcome, answered", runs[1])
	}
}

func TestConcurrentClaimsStartOneRun(t *testing.T) {
	s, _ := testdb.New(t)
	c := addZoned(t, s, "C-1", "UTC", "")
	at := mustTime(t, "2026-03-01T10:00:00Z")
	results := make(chan bool, 8)
	for i := range 8 {
		go func() {
			ok, err := s.ClaimJourneyRun(t.Context(), store.JourneyRun{
				Journey: "onboarding", RunID: "run-" + string(rune('a'+i)), CustomerID: c, StartedAt: at}, 0)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		}()
	}
	won := 0
	for range 8 {
		if <-results {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d of 8 concurrent claims won, want exactly 1", won)
	}
}

func TestOpenJourneysAreTheClaimedRunsNotYetFinished(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	ann, bob := addZoned(t, s, "C-1", "UTC", ""), addZoned(t, s, "C-2", "UTC", "")
	at := mustTime(t, "2026-03-01T10:00:00Z")
	for _, r := range []store.JourneyRun{
		{Journey: "onboarding", RunID: "o1", CustomerID: ann, StartedAt: at},
		{Journey: "winback", RunID: "w1", CustomerID: ann, StartedAt: at},
		{Journey: "survey", RunID: "s1", CustomerID: ann, StartedAt: at},
		{Journey: "winback", RunID: "w2", CustomerID: bob, StartedAt: at},
	} {
		if _, err := s.ClaimJourneyRun(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishJourneyRun(ctx, "winback", "w1", "lapsed", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenJourneys(ctx, ann, []string{"onboarding", "winback"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(open, []string{"onboarding"}) {
		t.Errorf("ann is in %v of onboarding and winback, want [onboarding] (her win-back ended, her survey was not asked about)", open)
	}
	open, err = s.OpenJourneys(ctx, addZoned(t, s, "C-3", "UTC", ""), []string{"onboarding", "winback", "survey"})
	if err != nil || len(open) != 0 {
		t.Errorf("a customer who never started a journey is in %v (%v), want none", open, err)
	}
}

func TestConversionIsRecordedOncePerRun(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addZoned(t, s, "C-1", "UTC", "")
	conv := store.Conversion{Journey: "winback", RunID: "r1", CustomerID: c, Step: "offer",
		EventID: "order-9", Revenue: 42.5, Currency: "USD", ConvertedAt: mustTime(t, "2026-03-02T08:00:00Z")}
	for range 2 {
		if err := s.RecordConversion(ctx, conv); err != nil {
			t.Fatal(err)
		}
	}
	got, err := testdb.Conversions(ctx, s, "winback")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Step != "offer" || got[0].Revenue != 42.5 || !got[0].ConvertedAt.Equal(conv.ConvertedAt) {
		t.Errorf("conversions = %+v, want one for step offer with 42.50", got)
	}
}

func TestAddCustomerTagOnce(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := addZoned(t, s, "C-1", "UTC", "")
	for range 2 {
		if err := s.AddCustomerTag(ctx, c, "lapsed"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Customer(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tags, []string{"lapsed"}) {
		t.Errorf("tags = %v, want [lapsed]", got.Tags)
	}
	if err := s.AddCustomerTag(ctx, "00000000-0000-0000-0000-000000000001", "lapsed"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("tagging a missing customer: %v, want not found", err)
	}
}

// birthdays runs the sweep query page by page like the sweep does.
func birthdays(t *testing.T, s *store.Store, at time.Time, hour, limit int) []store.BirthdayCandidate {
	t.Helper()
	var all []store.BirthdayCandidate
	var cur store.BirthdayCursor
	for range 100 {
		page, err := s.BirthdayPage(t.Context(), store.BirthdayQuery{At: at, SendMinute: hour * 60, KeyPrefix: "birthday/", After: cur, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		last := page[len(page)-1]
		cur = store.BirthdayCursor{MonthDay: last.MonthDay, ID: last.ID}
	}
	t.Fatal("birthday paging did not end")
	return nil
}

func ids(cs []store.BirthdayCandidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(xs ...string) []string {
	slices.Sort(xs)
	return xs
}

func TestBirthdayPageFollowsEachCustomersLocalDateAndHour(t *testing.T) {
	s, _ := testdb.New(t)
	// 2026-06-15T01:30Z is 09:30 on June 15 in Shanghai and 21:30 on June 14
	// in New York.
	at := mustTime(t, "2026-06-15T01:30:00Z")
	shanghai15 := addZoned(t, s, "SH-15", "Asia/Shanghai", "1990-06-15")
	newYork15 := addZoned(t, s, "NY-15", "America/New_York", "1985-06-15")
	newYork14 := addZoned(t, s, "NY-14", "America/New_York", "1985-06-14")
	addZoned(t, s, "SH-14", "Asia/Shanghai", "1990-06-14")
	addZoned(t, s, "SH-16", "Asia/Shanghai", "1990-06-16")
	addZoned(t, s, "NONE", "UTC", "")

	if got, want := ids(birthdays(t, s, at, 9, 1)), sorted(shanghai15, newYork14); !slices.Equal(got, want) {
		t.Errorf("at 09:30 Shanghai / 21:30 New York greeted %v, want Shanghai's June 15 and New York's June 14", got)
	}
	// Before 09:00 in Shanghai only New York (evening of the 14th) is due.
	early := mustTime(t, "2026-06-15T00:30:00Z")
	if got, want := ids(birthdays(t, s, early, 9, 10)), sorted(newYork14); !slices.Equal(got, want) {
		t.Errorf("at 08:30 Shanghai greeted %v, want only New York's June 14", got)
	}
	// 13:00 UTC is 09:00 on June 15 in New York: its June 15 birthday is due,
	// and a missed morning in Shanghai is still caught up (21:00 there).
	later := mustTime(t, "2026-06-15T13:00:00Z")
	if got, want := ids(birthdays(t, s, later, 9, 10)), sorted(shanghai15, newYork15); !slices.Equal(got, want) {
		t.Errorf("at 09:00 New York greeted %v, want both June 15 birthdays", got)
	}
	for _, c := range birthdays(t, s, later, 9, 10) {
		if c.LocalYear != 2026 {
			t.Errorf("candidate %s has local year %d, want 2026", c.ID, c.LocalYear)
		}
	}

	// A ledger row for this year's greeting takes the customer out.
	if _, _, err := s.ReserveMessage(t.Context(), store.Message{IdempotencyKey: "birthday/" + shanghai15 + "/2026",
		CustomerID: shanghai15, Journey: "birthday", Step: "greeting", Channel: "email", Template: "birthday", Topic: "marketing",
		Status: store.StatusSent}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(birthdays(t, s, later, 9, 10)), sorted(newYork15); !slices.Equal(got, want) {
		t.Errorf("after greeting Shanghai the sweep found %v, want only New York", got)
	}
}

func TestBirthdayPageGreetsFebruary29OnFebruary28InCommonYears(t *testing.T) {
	s, _ := testdb.New(t)
	leapling := addZoned(t, s, "LEAP", "Asia/Shanghai", "2000-02-29")
	feb28 := addZoned(t, s, "FEB28", "Asia/Shanghai", "2001-02-28")

	common := mustTime(t, "2027-02-28T02:00:00Z") // 10:00 Feb 28 2027 in Shanghai
	if got, want := ids(birthdays(t, s, common, 9, 10)), sorted(leapling, feb28); !slices.Equal(got, want) {
		t.Errorf("Feb 28 2027 greeted %v, want the Feb 29 and Feb 28 birthdays", got)
	}
	if got := birthdays(t, s, mustTime(t, "2027-03-01T02:00:00Z"), 9, 10); len(got) != 0 {
		t.Errorf("Mar 1 2027 greeted %v, want nobody", ids(got))
	}
	leap28 := mustTime(t, "2028-02-28T02:00:00Z")
	if got, want := ids(birthdays(t, s, leap28, 9, 10)), sorted(feb28); !slices.Equal(got, want) {
		t.Errorf("Feb 28 2028 greeted %v, want only the Feb 28 birthday", got)
	}
	leap29 := mustTime(t, "2028-02-29T02:00:00Z")
	if got, want := ids(birthdays(t, s, leap29, 9, 10)), sorted(leapling); !slices.Equal(got, want) {
		t.Errorf("Feb 29 2028 greeted %v, want the leapling", got)
	}
}

func TestDatePagesUseTheirIndexes(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	testdb.MustExec(t, s, `
		INSERT INTO customers (external_id, time_zone, birthday, first_purchase_at)
		SELECT 'C-' || g, (ARRAY['Asia/Shanghai', 'America/New_York', 'Europe/Berlin'])[1 + g % 3],
			date '1970-01-01' + (g % 20000), timestamptz '2020-01-01' + (g % 2000) * interval '1 day'
		FROM generate_series(1, 50000) g`)
	testdb.MustExec(t, s, `ANALYZE customers`)
	at := mustTime(t, "2026-06-15T01:30:00Z")
	for index, query := range map[string]string{"customers_birthday_md": store.BirthdayPageSQL, "customers_first_purchase_md": store.AnniversaryPageSQL} {
		rows, err := s.Pool().Query(ctx, `EXPLAIN `+query, at, store.BirthdayMonthDays(at), 0,
			"00000000-0000-0000-0000-000000000000", 540, "birthday/", 500)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, index) || strings.Contains(text, "Seq Scan on customers") {
			t.Errorf("sweep does not use %s:\n%s", index, text)
		}
	}
	got := birthdays(t, s, at, 9, 500)
	if len(got) == 0 {
		t.Error("no birthdays found among 50,000 customers")
	}
}

// TestAnniversaryPageFollowsTheLocalDateOfTheFirstPurchase: the first
// purchase's date is the customer's local one (an evening order in New York
// is the next day in UTC), the count of years comes along, and a customer
// whose first purchase was this year has no anniversary yet.
func TestAnniversaryPageFollowsTheLocalDateOfTheFirstPurchase(t *testing.T) {
	s, _ := testdb.New(t)
	first := func(ext, zone, at string) string {
		id := addZoned(t, s, ext, zone, "")
		testdb.MustExec(t, s, `UPDATE customers SET first_purchase_at = $2, last_purchase_at = $2 WHERE id = $1`, id, mustTime(t, at))
		return id
	}
	// 23:30 on March 10 in New York (summer time) is already March 11 in UTC.
	newYork := first("NY", "America/New_York", "2024-03-11T03:30:00Z")
	shanghai := first("SH", "Asia/Shanghai", "2023-03-11T02:00:00Z")
	first("THIS-YEAR", "Asia/Shanghai", "2026-03-11T02:00:00Z")
	first("OTHER-DAY", "Asia/Shanghai", "2023-03-12T02:00:00Z")
	addZoned(t, s, "NEVER-BOUGHT", "Asia/Shanghai", "")

	page := func(at string) []store.BirthdayCandidate {
		t.Helper()
		got, err := s.AnniversaryPage(t.Context(), store.BirthdayQuery{At: mustTime(t, at), SendMinute: 9 * 60, KeyPrefix: "anniversary/", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// 02:00Z on March 11 2026 is 10:00 in Shanghai and 22:00 on March 10 in
	// New York: both anniversaries fall on their local today.
	got := page("2026-03-11T02:00:00Z")
	if !slices.Equal(ids(got), sorted(newYork, shanghai)) {
		t.Fatalf("anniversaries %v, want New York's (March 10 local) and Shanghai's", ids(got))
	}
	for _, c := range got {
		if want := map[string]int{newYork: 2, shanghai: 3}[c.ID]; c.Years != want || c.LocalYear != 2026 {
			t.Errorf("%s: %d years in local year %d, want %d in 2026", c.ID, c.Years, c.LocalYear, want)
		}
	}
	if got := page("2026-03-12T02:00:00Z"); len(got) != 1 || got[0].Years != 3 {
		t.Errorf("March 12 in Shanghai found %+v, want only OTHER-DAY's third anniversary", got)
	}
}

func TestBirthdayMonthDays(t *testing.T) {
	cases := []struct {
		at   string
		want []int16
	}{
		{"2026-06-15T12:00:00Z", []int16{614, 615, 616}},
		{"2027-03-01T12:00:00Z", []int16{228, 229, 301, 302}},
		{"2028-02-28T12:00:00Z", []int16{227, 228, 229}},
		{"2026-12-31T23:00:00Z", []int16{1230, 1231, 101}},
	}
	for _, c := range cases {
		if got := store.BirthdayMonthDays(mustTime(t, c.at)); !slices.Equal(got, c.want) {
			t.Errorf("BirthdayMonthDays(%s) = %v, want %v", c.at, got, c.want)
		}
	}
}

func TestLapsedCustomersLeavesOutRecentAndRunningWinbacks(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	now := mustTime(t, "2026-06-15T03:00:00Z")
	day := 24 * time.Hour
	lapsed := addZoned(t, s, "LAPSED", "UTC", "")
	recentBuyer := addZoned(t, s, "RECENT", "UTC", "")
	neverBought := addZoned(t, s, "NEVER", "UTC", "")
	hadWinback := addZoned(t, s, "HAD", "UTC", "")
	oldWinback := addZoned(t, s, "OLD", "UTC", "")
	for id, ago := range map[string]int{lapsed: 90, recentBuyer: 30, hadWinback: 120, oldWinback: 400} {
		testdb.MustExec(t, s, `UPDATE customers SET last_purchase_at = $2 WHERE id = $1`, id, now.Add(-time.Duration(ago)*day))
	}
	_ = neverBought
	for id, ago := range map[string]int{hadWinback: 100, oldWinback: 200} {
		if _, err := s.ClaimJourneyRun(ctx, store.JourneyRun{Journey: "winback", RunID: "r-" + id, CustomerID: id, StartedAt: now.Add(-time.Duration(ago) * day)}, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishJourneyRun(ctx, "winback", "r-"+id, "completed", now.Add(-time.Duration(ago-21)*day)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for {
		page, err := s.LapsedCustomers(ctx, store.LapsedQuery{Journey: "winback", LastPurchaseBefore: now.Add(-60 * day),
			NoRunSince: now.Add(-180 * day), After: after, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	slices.Sort(got)
	if want := sorted(lapsed, oldWinback); !slices.Equal(got, want) {
		t.Errorf("lapsed = %v, want the 90-day lapsed customer and the one whose win-back was 200 days ago", got)
	}
}

func TestAudiencePageFiltersByTagAndSkipsSentCustomers(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	vip1 := addZoned(t, s, "VIP1", "UTC", "")
	vip2 := addZoned(t, s, "VIP2", "UTC", "")
	plain := addZoned(t, s, "PLAIN", "UTC", "")
	for _, id := range []string{vip1, vip2} {
		if err := s.AddCustomerTag(ctx, id, "vip"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "care/run-1/" + vip1, CustomerID: vip1,
		Journey: "care", Step: "send", Channel: "email", Template: "care", Topic: "care", Status: store.StatusSkipped}); err != nil {
		t.Fatal(err)
	}
	// A row still queued (deferred by quiet hours) keeps the customer due.
	if _, _, err := s.ReserveMessage(ctx, store.Message{IdempotencyKey: "care/run-1/" + plain, CustomerID: plain,
		Journey: "care", Step: "send", Channel: "email", Template: "care", Topic: "care"}); err != nil {
		t.Fatal(err)
	}
	page := func(tag string) []string {
		got, err := s.AudiencePage(ctx, store.AudienceQuery{Tag: tag, KeyPrefix: "care/run-1/", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := page("vip"); !slices.Equal(got, []string{vip2}) {
		t.Errorf("vip audience = %v, want only %s (the other was sent already)", got, vip2)
	}
	if got, want := page(""), sorted(vip2, plain); !slices.Equal(got, want) {
		t.Errorf("everyone = %v, want %v", got, want)
	}
	tally := func(tag string) map[string]int {
		got, err := s.AudienceTally(ctx, store.AudienceQuery{Tag: tag, KeyPrefix: "care/run-1/"})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := tally(""); len(got) != 2 || got[store.StatusSkipped] != 1 || got[store.StatusQueued] != 1 {
		t.Errorf("tally of everyone = %v, want one skipped and one queued", got)
	}
	if got := tally("vip"); len(got) != 1 || got[store.StatusSkipped] != 1 {
		t.Errorf("tally of vip = %v, want one skipped", got)
	}
	later, err := s.AudienceTally(ctx, store.AudienceQuery{KeyPrefix: "care/run-1/", Since: time.Now().Add(time.Minute)})
	if err != nil || len(later) != 0 {
		t.Errorf("tally of rows created from a minute on = %v, %v; want nothing", later, err)
	}
}
