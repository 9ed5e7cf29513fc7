package manage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/templates"
)

type example struct{ name, src string }

func exampleFiles(t *testing.T) []example {
	t.Helper()
	files, _ := filepath.Glob("../../../examples/campaigns/*.yaml")
	if len(files) < 4 {
		t.Fatalf("found %d example campaigns, want at least 4", len(files))
	}
	var out []example
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, example{filepath.Base(f), string(b)})
	}
	return out
}

const winback = `name: dry-winback
audience: {match: {tags: spring}}
trigger: {schedule: {cron: "0 9 * * MON", zone: Europe/Berlin}}
holdout: 30
goal: {event: purchase, within: 14d}
steps:
  - wait: {duration: 1d}
  - branch:
      id: by-tier
      if: {match: {tags: vip}}
      then:
        - send: {id: offer-vip, template: winback_offer, vars: {coupon: VIP-20, discount_percent: 20}}
      else:
        - send: {id: offer, template: winback_offer, vars: {coupon: SPRING-10, discount_percent: 10}}
`

// TestDryRunSizesTheAudienceAndRendersFirstMessages plans a campaign over
// real customers: the holdout count is exactly who campaign.HeldOut keeps
// back, and each sample's first message is the one their branch leads to,
// rendered in their own locale with the file's vars.
func TestDryRunSizesTheAudienceAndRendersFirstMessages(t *testing.T) {
	st, _ := testdb.New(t)
	var ids []string
	for i := range 16 {
		in := store.CustomerInput{
			ExternalID: fmt.Sprintf("C-%02d", i), Email: testdb.String(fmt.Sprintf("c%d@example.com", i)),
			FirstName: testdb.String("Ann"), Locale: testdb.String([]string{"en", "zh-CN"}[i%2]), Tags: []string{"spring"},
		}
		if i%3 == 0 {
			in.Tags = append(in.Tags, "vip")
		}
		c, _, err := st.UpsertCustomer(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if _, _, err := st.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "other", Email: testdb.String("o@example.com")}); err != nil {
		t.Fatal(err)
	}
	s := parse(t, winback)
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // a Wednesday
	p, err := manage.DryRun(t.Context(), st.Pool(), st, templateSet(t), s, manage.DryRunOptions{
		Now: now, Samples: 3, Company: templates.Company{Name: "Lumen & Co", PostalAddress: "1 Harbour Road"},
	})
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, id := range ids {
		if campaign.HeldOut(s.Name, id, s.Holdout) {
			held++
		}
	}
	if p.Audience != 16 || p.HeldOut != int64(held) || p.Treatment != int64(16-held) {
		t.Errorf("audience %d, held out %d, treatment %d; want 16, %d, %d", p.Audience, p.HeldOut, p.Treatment, held, 16-held)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var next []string
	for _, at := range p.Next {
		next = append(next, at.In(berlin).Format("Mon 2006-01-02 15:04"))
	}
	if want := []string{"Mon 2026-03-09 09:00", "Mon 2026-03-16 09:00", "Mon 2026-03-23 09:00"}; !slices.Equal(next, want) {
		t.Errorf("next firings %v, want %v", next, want)
	}
	if !p.EvaluatedAt.Equal(p.Next[0]) {
		t.Errorf("audience evaluated at %v, want the first firing %v", p.EvaluatedAt, p.Next[0])
	}
	if len(p.Samples) != 3 {
		t.Fatalf("%d samples, want 3", len(p.Samples))
	}
	for _, smp := range p.Samples {
		c, err := st.Customer(t.Context(), smp.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if campaign.HeldOut(s.Name, c.ID, s.Holdout) {
			t.Errorf("sample %s is in the holdout; samples show what the treatment gets", c.ExternalID)
		}
		step, coupon, branch := "offer", "SPRING-10", "else"
		if slices.Contains(c.Tags, "vip") {
			step, coupon, branch = "offer-vip", "VIP-20", "then"
		}
		if smp.Step != step || smp.Rendered == nil || smp.Rendered.Locale != c.Locale || !strings.Contains(smp.Rendered.Text, coupon) {
			t.Errorf("sample %s (%s, tags %v): %+v, want step %s rendered in %s with coupon %s", c.ExternalID, c.Locale, c.Tags, smp, step, c.Locale, coupon)
		}
		if want := []string{"wait 1d", "branch by-tier: " + branch}; !slices.Equal(smp.After, want) {
			t.Errorf("sample %s: after %q, want %q", c.ExternalID, smp.After, want)
		}
		if !strings.Contains(smp.Rendered.Text, "1 Harbour Road") {
			t.Errorf("sample %s: footer without the company address:\n%s", c.ExternalID, smp.Rendered.Text)
		}
	}
}

func TestDryRunOfAnEventCampaignEvaluatesNow(t *testing.T) {
	st, _ := testdb.New(t)
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, ex := range exampleFiles(t) {
		if ex.name != "nps-after-delivery.yaml" {
			continue
		}
		p, err := manage.DryRun(t.Context(), st.Pool(), st, templateSet(t), parse(t, ex.src), manage.DryRunOptions{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if !p.EvaluatedAt.Equal(now) || len(p.Next) != 0 || p.Audience != 0 || p.Trigger != "event order_delivered" {
			t.Errorf("plan %+v, want an empty audience evaluated now, no firings", p)
		}
		if !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "audience is empty") }) {
			t.Errorf("warnings %q, want one about the empty audience", p.Warnings)
		}
		return
	}
	t.Fatal("examples/campaigns/nps-after-delivery.yaml is missing")
}

func TestNextFiringsOfOnceLocalSpanEveryZone(t *testing.T) {
	s := parse(t, head+"  - send: {template: welcome}\n")
	s.Trigger = campaign.Trigger{Kind: campaign.TriggerOnce, At: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC), Local: true}
	next, err := manage.NextFirings(s.Trigger, time.Now(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 2 || !next[0].Equal(time.Date(2026, 3, 31, 19, 0, 0, 0, time.UTC)) || !next[1].Equal(time.Date(2026, 4, 1, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("firings %v, want 09:00 in UTC+14 (19:00Z the day before) and in UTC-12 (21:00Z)", next)
	}
}
