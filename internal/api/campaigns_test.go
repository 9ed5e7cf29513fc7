package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

func TestCampaignResultsOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	ctx := t.Context()
	if _, _, err := a.store.ApplyCampaign(ctx, "spring sale", "once", store.CampaignVersion{
		Campaign: "spring-sale", Source: "name: spring-sale", Spec: []byte(`{"name":"spring-sale"}`),
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	until := at.Add(7 * 24 * time.Hour)
	for i, ext := range []string{"C-1", "C-2", "C-3"} {
		id := a.customer(ext, map[string]any{"email": ext + "@example.com"})
		if _, _, err := a.store.EnterCampaign(ctx, store.CampaignEntry{Campaign: "spring-sale", CustomerID: id, Version: 1,
			RunID: ext, Holdout: i == 2, Variant: map[bool]string{true: "", false: "calm"}[i == 2], EnteredAt: at,
			GoalEvent: "purchase", GoalUntil: &until}, 0); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := a.store.RecordEvent(ctx, store.EventInput{EventID: "buy-1", CustomerID: id, Type: "purchase", OccurredAt: at.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	status, body := a.do(http.MethodGet, "/v1/campaigns/spring-sale/results", nil)
	if status != http.StatusOK {
		t.Fatalf("results: %d %s", status, body)
	}
	var rep store.CampaignReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Arms) != 2 || rep.Arms[0].Variant != "calm" || rep.Arms[0].Entered != 2 || rep.Arms[0].Converted != 1 ||
		!rep.Arms[1].Holdout || rep.Arms[1].Entered != 1 || rep.UpliftPoints == nil || *rep.UpliftPoints != 50 {
		t.Errorf("results %s, want calm 1 of 2 converted vs holdout 0 of 1: uplift 50 points", body)
	}

	status, body = a.do(http.MethodGet, "/v1/campaigns/autumn/results", nil)
	if status != http.StatusNotFound || apiError(t, body).Code != codeNotFound {
		t.Errorf("unknown campaign: %d %s, want 404 not_found", status, body)
	}
	status, body = a.do(http.MethodGet, "/v1/campaigns", nil)
	var list struct {
		Campaigns []store.Campaign `json:"campaigns"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Campaigns) != 1 || list.Campaigns[0].Name != "spring-sale" {
		t.Errorf("list: %d %s", status, body)
	}
	if status, _ := a.doRaw(http.MethodGet, "/v1/campaigns/spring-sale/results", "", nil); status != http.StatusUnauthorized {
		t.Errorf("results without a key: %d, want 401", status)
	}
}
