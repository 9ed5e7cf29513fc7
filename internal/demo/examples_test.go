package demo

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// minMembers is how many customers of the demo company every example
// segment and campaign audience must hold, so that trying an example on the
// demo shows something.
const minMembers = 5

// TestEveryExampleHasMembersInTheDemo loads the demo company and counts
// every segment and campaign audience in examples/ against it with the
// segment code the product uses.
func TestEveryExampleHasMembersInTheDemo(t *testing.T) {
	t.Parallel()
	st, now := loaded(t)
	ctx := t.Context()
	count := func(name string, def *segment.Definition) {
		t.Helper()
		n, err := segment.Count(ctx, st.Pool(), def, segment.At(now))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %d members", name, n)
		if n < minMembers {
			t.Errorf("%s has %d members in the demo company, want at least %d", name, n, minMembers)
		}
	}

	segments, _ := filepath.Glob("../../examples/segments/*")
	if len(segments) == 0 {
		t.Fatal("no example segments")
	}
	for _, f := range segments {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		def, err := segment.Parse(b, f)
		if err != nil {
			t.Fatal(err)
		}
		count(filepath.Base(f), def)
	}

	// A campaign's saved segment is the example of that name, as the docs
	// save it with `tidings segments save`.
	saved := func(_ context.Context, name string) (string, error) {
		for _, ext := range []string{".yaml", ".json"} {
			if b, err := os.ReadFile("../../examples/segments/" + name + ext); err == nil {
				return string(b), nil
			}
		}
		return "", store.ErrNotFound
	}
	campaigns, _ := filepath.Glob("../../examples/campaigns/*.yaml")
	if len(campaigns) == 0 {
		t.Fatal("no example campaigns")
	}
	for _, f := range campaigns {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := campaign.Parse(b, f)
		if err != nil {
			t.Fatal(err)
		}
		def, err := spec.Audience.Definition(ctx, saved)
		if err != nil {
			t.Fatal(err)
		}
		count(filepath.Base(f)+" audience", def)
	}
}

// TestReloadKeepsWhatJourneysChanged: journeys and campaigns tag customers,
// untag them and set attributes; loading the demo again (a restart of
// `tidings dev --demo`) keeps all of it and reports every customer
// unchanged.
func TestReloadKeepsWhatJourneysChanged(t *testing.T) {
	t.Parallel()
	st, _ := testdb.New(t)
	ctx := t.Context()
	now := time.Now()
	l, err := Load(ctx, st, 200, DefaultSeed, now)
	if err != nil {
		t.Fatal(err)
	}
	var lapsed, untagged []string
	for _, c := range l.Customers {
		id := l.IDs[c.Input.ExternalID]
		switch {
		case c.Cohort == CohortLapsed:
			if err := st.AddCustomerTag(ctx, id, workflows.DefaultLapsedTag); err != nil {
				t.Fatal(err)
			}
			lapsed = append(lapsed, id)
		case slices.Contains(c.Input.Tags, "newsletter") && len(untagged) < 5:
			if err := st.RemoveCustomerTag(ctx, id, "newsletter"); err != nil {
				t.Fatal(err)
			}
			if err := st.SetCustomerAttribute(ctx, id, "favourite_category", "changed"); err != nil {
				t.Fatal(err)
			}
			untagged = append(untagged, id)
		}
	}
	if len(lapsed) < 10 || len(untagged) < 5 {
		t.Fatalf("%d lapsed and %d newsletter customers, want more to test with", len(lapsed), len(untagged))
	}

	again, err := Load(ctx, st, 200, DefaultSeed, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Import.Unchanged != 200 || again.Import.Updated != 0 || again.Import.Inserted != 0 {
		t.Errorf("second load: %d new, %d updated, %d unchanged; want all 200 unchanged",
			again.Import.Inserted, again.Import.Updated, again.Import.Unchanged)
	}
	for _, id := range lapsed {
		c, err := st.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(c.Tags, workflows.DefaultLapsedTag) {
			t.Errorf("%s lost the %q tag on reload: %v", c.ExternalID, workflows.DefaultLapsedTag, c.Tags)
		}
	}
	for _, id := range untagged {
		c, err := st.Customer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(c.Tags, "newsletter") || c.Attributes["favourite_category"] != "changed" {
			t.Errorf("%s: reload undid a campaign's change: tags %v, favourite_category %v", c.ExternalID, c.Tags, c.Attributes["favourite_category"])
		}
	}
}

// TestSMSCustomersAreAwakeAtEveryHour: whatever hour of the year the demo
// is first loaded, and at any hour it is started again in the day after, a
// few lapsed customers who allowed marketing SMS are awake, so the win-back
// sweep's last chance arrives by SMS in the catcher.
func TestSMSCustomersAreAwakeAtEveryHour(t *testing.T) {
	t.Parallel()
	awake := awakeTest("21:00-09:00")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	worst, worstAt := 1<<30, time.Time{}
	zones := map[string]bool{}
	for anchor := start; anchor.Before(start.AddDate(1, 0, 0)); anchor = anchor.Add(53 * time.Hour) {
		c := Generate(0, DefaultSeed, anchor)
		var sms []Customer
		for _, cu := range c.Customers {
			if cu.SMSMarketing && cu.Cohort == CohortLapsed {
				sms = append(sms, cu)
			}
		}
		for h := range 24 {
			at := anchor.Add(time.Duration(h)*time.Hour + 17*time.Minute)
			n := 0
			for _, cu := range sms {
				if awake(at, cu) {
					n++
					zones[*cu.Input.TimeZone] = true
				}
			}
			if n < worst {
				worst, worstAt = n, at
			}
		}
	}
	t.Logf("fewest lapsed SMS customers awake: %d (at %s); their zones: %v", worst, worstAt.Format(time.RFC3339), zones)
	if worst < 3 {
		t.Errorf("at %s only %d lapsed customers who allowed SMS are awake, want at least 3", worstAt.Format(time.RFC3339), worst)
	}
	for _, region := range []string{"America/", "Europe/", "Australia/"} {
		found := false
		for z := range zones {
			found = found || strings.HasPrefix(z, region)
		}
		if !found {
			t.Errorf("no SMS customer in %s*", region)
		}
	}
}

// TestDemoPhonesAreReservedForFiction: every demo phone number is in a
// range set aside for films and books, so the demo never texts a person.
func TestDemoPhonesAreReservedForFiction(t *testing.T) {
	t.Parallel()
	c := Generate(0, DefaultSeed, time.Now())
	phones := 0
	for _, cu := range c.Customers {
		if cu.Input.Phone == nil {
			continue
		}
		phones++
		p := *cu.Input.Phone
		fiction := strings.HasPrefix(p, "+1") && len(p) == 12 && p[5:10] == "55501" ||
			strings.HasPrefix(p, "+442079460") && len(p) == 13 ||
			strings.HasPrefix(p, "+61491") && slices.Contains(auMobiles, p[6:])
		if !fiction {
			t.Errorf("%s has %s, not a number reserved for fiction", cu.Input.ExternalID, p)
		}
	}
	if phones < 200 {
		t.Errorf("%d demo customers have a phone number, want over 200", phones)
	}
}

// TestDeliveriesGetNoOtherCappedEmail: the scenario delivers orders only to
// customers it sends no other capped email that day, so the survey and its
// reminder (two emails: the daily cap) both arrive.
func TestDeliveriesGetNoOtherCappedEmail(t *testing.T) {
	t.Parallel()
	for _, anchor := range []time.Time{time.Now(), time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC), time.Date(2026, 12, 24, 14, 0, 0, 0, time.UTC)} {
		c := Generate(0, DefaultSeed, anchor)
		n := 0
		for _, cu := range c.Customers {
			if !deliverable(cu) {
				continue
			}
			n++
			if cu.BirthdayToday || cu.Cohort == CohortLapsed {
				t.Errorf("%s (birthday today %v, %s) may be delivered to", cu.Input.ExternalID, cu.BirthdayToday, cu.Cohort)
			}
		}
		if n < 50 {
			t.Errorf("anchor %s: %d customers to deliver to, want at least 50", anchor, n)
		}
	}
}
