package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func applyVersion(t *testing.T, s *store.Store, name, source string) (store.CampaignVersion, string) {
	t.Helper()
	v, outcome, err := s.ApplyCampaign(t.Context(), "desc "+source, "schedule", store.CampaignVersion{
		Campaign: name, Source: source, Spec: []byte(`{"name":"` + name + `","source":"` + source + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, outcome
}

func TestCampaignVersions(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	v1, out := applyVersion(t, s, "spring", "one")
	if out != store.Inserted || v1.Version != 1 {
		t.Fatalf("first apply: version %d %s, want 1 inserted", v1.Version, out)
	}
	if v, out := applyVersion(t, s, "spring", "one"); out != store.Unchanged || v.Version != 1 {
		t.Errorf("same file again: version %d %s, want 1 unchanged", v.Version, out)
	}
	v2, out := applyVersion(t, s, "spring", "two")
	if out != store.Updated || v2.Version != 2 {
		t.Errorf("edited file: version %d %s, want 2 updated", v2.Version, out)
	}
	old, err := s.CampaignVersion(ctx, "spring", 1)
	if err != nil || old.Source != "one" {
		t.Errorf("version 1 = %+v, %v; want the first file kept", old, err)
	}
	cur, err := s.CampaignVersion(ctx, "spring", 0)
	if err != nil || cur.Version != 2 || string(cur.Spec) == "" {
		t.Errorf("current = %+v, %v; want version 2", cur, err)
	}
	if _, err := s.CampaignVersion(ctx, "spring", 9); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version 9: %v, want ErrNotFound", err)
	}
	if _, err := s.GetCampaign(ctx, "autumn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown campaign: %v, want ErrNotFound", err)
	}
}

func TestCampaignStatus(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c, err := s.SetCampaignStatus(ctx, "spring", "paused", t0)
	if err != nil || c.Status != "paused" || c.PausedAt == nil || !c.PausedAt.Equal(t0) {
		t.Fatalf("pause: %+v, %v", c, err)
	}
	if live, err := s.LiveCampaigns(ctx); err != nil || len(live) != 1 || live[0].Status != "paused" || live[0].Version != 1 {
		t.Errorf("live campaigns %+v, %v; want spring version 1, paused (its runs still hear their events)", live, err)
	}
	c, err = s.SetCampaignStatus(ctx, "spring", "active", t0.Add(time.Hour))
	if err != nil || c.Status != "active" || c.ResumedAt == nil || !c.ResumedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("resume: %+v, %v", c, err)
	}
	if c, _ = s.SetCampaignStatus(ctx, "spring", "archived", t0); c.Status != "archived" {
		t.Fatalf("archive: %+v", c)
	}
	live, err := s.LiveCampaigns(ctx)
	if err != nil || len(live) != 0 {
		t.Errorf("live campaigns %+v, %v; want none after archiving", live, err)
	}
	if _, out := applyVersion(t, s, "spring", "one"); out != store.Unchanged {
		t.Errorf("re-apply: %s", out)
	}
	if c, _ := s.GetCampaign(ctx, "spring"); c.Status != "active" {
		t.Errorf("re-applying an archived campaign left it %s, want active", c.Status)
	}
	if _, err := s.SetCampaignStatus(ctx, "autumn", "paused", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pause unknown: %v", err)
	}
	if _, err := s.SetCampaignStatus(ctx, "spring", "sleeping", t0); err == nil {
		t.Error("an unknown status was stored")
	}
}

// TestCampaignGateNotesWhoWaits: a gate check of a paused campaign notes
// the workflow so a resume can wake it; a check of an active one forgets
// it, and so does forgetting a workflow that is gone.
func TestCampaignGateNotesWhoWaits(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	applyVersion(t, s, "autumn", "one")
	check := func(campaign, id, want string) {
		t.Helper()
		if got, err := s.CheckCampaignGate(ctx, campaign, id); err != nil || got != want {
			t.Fatalf("gate of %s for %s = %q, %v; want %q", campaign, id, got, err, want)
		}
	}
	waiting := func(campaign string, want ...string) {
		t.Helper()
		got, err := s.CampaignGateWaits(ctx, campaign)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("waiting at %s: %q, %v; want %q", campaign, got, err, want)
		}
	}
	check("spring", "campaign/spring/c1", "active")
	waiting("spring")
	for _, c := range []string{"spring", "autumn"} {
		if _, err := s.SetCampaignStatus(ctx, c, "paused", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	check("spring", "campaign/spring/c1", "paused")
	check("spring", "campaign/spring/c2", "paused")
	check("spring", "campaign/spring/c1", "paused") // polling again notes it once
	check("autumn", "campaign/autumn/c1", "paused")
	waiting("spring", "campaign/spring/c1", "campaign/spring/c2")
	if _, err := s.SetCampaignStatus(ctx, "spring", "active", time.Now()); err != nil {
		t.Fatal(err)
	}
	check("spring", "campaign/spring/c1", "active")
	waiting("spring", "campaign/spring/c2")
	if err := s.ForgetCampaignGateWait(ctx, "spring", "campaign/spring/c2"); err != nil {
		t.Fatal(err)
	}
	waiting("spring")
	waiting("autumn", "campaign/autumn/c1")
	if _, err := s.CheckCampaignGate(ctx, "winter", "campaign/winter/c1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("gate of an unknown campaign: %v, want ErrNotFound", err)
	}
}

// enterOne enters one customer with EnterCampaign or, as a page of one,
// with EnterCampaignBatch: both keep the same rules.
type enterOne func(s *store.Store, e store.CampaignEntry, again time.Duration) (store.CampaignEntry, bool, error)

var entryFuncs = map[string]enterOne{
	"EnterCampaign": func(s *store.Store, e store.CampaignEntry, again time.Duration) (store.CampaignEntry, bool, error) {
		return s.EnterCampaign(context.Background(), e, again)
	},
	"EnterCampaignBatch": func(s *store.Store, e store.CampaignEntry, again time.Duration) (store.CampaignEntry, bool, error) {
		got, ok, err := s.EnterCampaignBatch(context.Background(), []store.CampaignEntry{e}, again)
		if err != nil {
			return store.CampaignEntry{}, false, err
		}
		return got[0], ok[0], nil
	},
}

func TestEnterCampaignRules(t *testing.T) {
	for name, fn := range entryFuncs {
		t.Run(name, func(t *testing.T) { testEnterCampaignRules(t, fn) })
	}
}

func testEnterCampaignRules(t *testing.T, fn enterOne) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	c := campaignCustomer(t, s, "ann")
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	enter := func(run string, at time.Time, again time.Duration) (store.CampaignEntry, bool) {
		t.Helper()
		e, ok, err := fn(s, store.CampaignEntry{Campaign: "spring", CustomerID: c, Version: 1, RunID: run, EnteredAt: at}, again)
		if err != nil {
			t.Fatal(err)
		}
		return e, ok
	}
	if e, ok := enter("r1", t0, 0); !ok || e.Occurrence != 1 {
		t.Fatalf("first entry %+v %v", e, ok)
	}
	if e, ok := enter("r1", t0, 0); !ok || e.Occurrence != 1 {
		t.Errorf("retried entry %+v %v, want the same entry back", e, ok)
	}
	if _, ok := enter("r2", t0.Add(400*24*time.Hour), 0); ok {
		t.Error("once per customer: a second entry was allowed")
	}
	if _, ok := enter("r3", t0.Add(29*24*time.Hour), 30*24*time.Hour); ok {
		t.Error("again after 30d: an entry after 29 days was allowed")
	}
	if e, ok := enter("r4", t0.Add(31*24*time.Hour), 30*24*time.Hour); !ok || e.Occurrence != 2 {
		t.Errorf("again after 30d: entry after 31 days %+v %v, want occurrence 2", e, ok)
	}
	if err := s.FinishCampaignEntry(ctx, "spring", "r4", "converted", &t0, t0); err != nil {
		t.Fatal(err)
	}
	var entries int
	var outcome string
	var goalAt *time.Time
	if err := s.Pool().QueryRow(ctx, `
		SELECT count(*) OVER (), outcome, goal_at FROM campaign_entries
		WHERE campaign = 'spring' AND customer_id = $1 ORDER BY occurrence DESC LIMIT 1`, c).Scan(&entries, &outcome, &goalAt); err != nil {
		t.Fatal(err)
	}
	if entries != 2 || outcome != "converted" || goalAt == nil {
		t.Errorf("%d entries, the last %q with goal at %v; want 2, the second converted", entries, outcome, goalAt)
	}
}

// TestEnterCampaignBatchEntersAPage enters a page in which one customer
// entered before under another run: the others enter with their holdout
// and variant, the earlier one is refused, and entering the page again
// returns the same entries.
func TestEnterCampaignBatchEntersAPage(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	ids := []string{campaignCustomer(t, s, "p1"), campaignCustomer(t, s, "p2"), campaignCustomer(t, s, "p3")}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if _, _, err := s.EnterCampaign(ctx, store.CampaignEntry{Campaign: "spring", CustomerID: ids[1], Version: 1, RunID: "earlier", EnteredAt: t0}, 0); err != nil {
		t.Fatal(err)
	}
	page := make([]store.CampaignEntry, len(ids))
	for i, id := range ids {
		page[i] = store.CampaignEntry{Campaign: "spring", CustomerID: id, Version: 1, RunID: "fire/" + id, EnteredAt: t0.Add(time.Hour),
			Holdout: i == 2, Variant: map[bool]string{true: "", false: "calm"}[i == 2], GoalEvent: "purchase"}
	}
	for pass := range 2 {
		got, ok, err := s.EnterCampaignBatch(ctx, page, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !ok[0] || ok[1] || !ok[2] {
			t.Fatalf("pass %d: entered %v, want the first and third only", pass, ok)
		}
		if got[0].Occurrence != 1 || got[0].Variant != "calm" || got[0].GoalEvent != "purchase" || !got[2].Holdout || got[2].RunID != "fire/"+ids[2] {
			t.Errorf("pass %d: entries %+v", pass, got)
		}
	}
}

func TestCampaignResultsByVariantAndHoldout(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	applyVersion(t, s, "spring", "one")
	t0 := time.Now().Add(-time.Hour)
	until := t0.Add(7 * 24 * time.Hour)
	add := func(ext, variant string, holdout, buys bool, status, reason string) {
		t.Helper()
		c := campaignCustomer(t, s, ext)
		if _, _, err := s.EnterCampaign(ctx, store.CampaignEntry{Campaign: "spring", CustomerID: c, Version: 1, RunID: ext,
			Holdout: holdout, Variant: variant, EnteredAt: t0, GoalEvent: "purchase", GoalUntil: &until}, 0); err != nil {
			t.Fatal(err)
		}
		if buys {
			if _, err := s.RecordEvent(ctx, store.EventInput{EventID: "buy-" + ext, CustomerID: c, Type: "purchase", OccurredAt: t0.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		if status == "" {
			return
		}
		step := "announce"
		if variant != "" {
			step += ":" + variant
		}
		m, _, err := s.ReserveMessage(ctx, store.Message{ID: uuid.NewString(), IdempotencyKey: "campaign/spring/1/" + c + "/announce/1",
			CustomerID: c, Journey: "campaign/spring", Step: step, Channel: "email", Template: "spring_sale", Topic: "marketing"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteMessage(ctx, m.ID, store.Outcome{Status: status, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	add("a1", "calm", false, true, store.StatusSent, "")
	add("a2", "calm", false, false, store.StatusSent, "")
	add("b1", "urgent", false, false, store.StatusSkipped, "no_consent")
	add("b2", "urgent", false, false, store.StatusFailed, "bounced")
	add("h1", "", true, true, "", "")
	add("h2", "", true, false, "", "")
	add("h3", "", true, false, "", "")
	add("h4", "", true, false, "", "")
	if err := s.RecordCampaignSkip(ctx, "spring", campaignCustomer(t, s, "b1"), 1, "announce", "urgent", "late_after_pause"); err != nil {
		t.Fatal(err)
	}
	// A later step that is not split counts for the arm the customer is in.
	a1 := campaignCustomer(t, s, "a1")
	thanks, _, err := s.ReserveMessage(ctx, store.Message{ID: uuid.NewString(), IdempotencyKey: "campaign/spring/1/" + a1 + "/thanks/1",
		CustomerID: a1, Journey: "campaign/spring", Step: "thanks", Channel: "email", Template: "survey_thanks", Topic: "marketing"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteMessage(ctx, thanks.ID, store.Outcome{Status: store.StatusSent}); err != nil {
		t.Fatal(err)
	}

	rep, err := s.CampaignResults(ctx, "spring")
	if err != nil {
		t.Fatal(err)
	}
	byArm := map[string]store.CampaignArm{}
	for _, a := range rep.Arms {
		key := a.Variant
		if a.Holdout {
			key = "holdout"
		}
		byArm[key] = a
	}
	if a := byArm["calm"]; a.Entered != 2 || a.Converted != 1 || a.Sent != 3 || a.ConversionRate != 0.5 || a.UpliftPoints == nil || *a.UpliftPoints != 25 {
		t.Errorf("calm %+v, want 2 entered, 1 converted (50%%, 25 points over the holdout), 3 sent", a)
	}
	if _, ok := byArm[""]; ok || len(rep.Arms) != 3 {
		t.Errorf("arms %+v, want calm, urgent and holdout only", rep.Arms)
	}
	if a := byArm["urgent"]; a.UpliftPoints == nil || *a.UpliftPoints != -25 {
		t.Errorf("urgent %+v, want 25 points below the holdout", a)
	}
	if rep.Status != "active" || rep.Version != 1 || rep.UpliftPoints == nil || *rep.UpliftPoints != 0 || *rep.TreatmentRate != 0.25 {
		t.Errorf("report %+v, want active version 1 with 25%% treatment vs 25%% holdout", rep)
	}
	if a := byArm["urgent"]; a.Entered != 2 || a.Failed != 1 || a.Skipped["no_consent"] != 1 || a.Skipped["late_after_pause"] != 1 {
		t.Errorf("urgent %+v, want 1 failed, skipped no_consent and late_after_pause", a)
	}
	if a := byArm["holdout"]; a.Entered != 4 || a.Converted != 1 || a.Sent != 0 {
		t.Errorf("holdout %+v, want 4 entered, 1 converted, nothing sent", a)
	}
	tr, hr, up, ok := rep.Uplift()
	if !ok || tr != 0.25 || hr != 0.25 || up != 0 {
		t.Errorf("uplift %v (%v vs %v, %v), want 25%% vs 25%%", up, tr, hr, ok)
	}
	if _, err := s.CampaignResults(ctx, "autumn"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("report of unknown campaign: %v", err)
	}
}

func TestCustomerAttributeAndUntag(t *testing.T) {
	s, _ := testdb.New(t)
	ctx := t.Context()
	c := campaignCustomer(t, s, "ann")
	if err := s.AddCustomerTag(ctx, c, "vip"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCustomerAttribute(ctx, c, "offer_seen", true); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveCustomerTag(ctx, c, "vip"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Customer(ctx, c)
	if len(got.Tags) != 0 || got.Attributes["offer_seen"] != true {
		t.Errorf("customer tags %v attributes %v", got.Tags, got.Attributes)
	}
	if err := s.SetCustomerAttribute(ctx, uuid.NewString(), "a", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}
}

// campaignCustomer returns the ID of the customer with external ID ext,
// creating it on first use.
func campaignCustomer(t *testing.T, s *store.Store, ext string) string {
	t.Helper()
	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: ext, Email: testdb.String(ext + "@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
