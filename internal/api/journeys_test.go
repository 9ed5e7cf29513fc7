package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/tidingsdev/tidings/internal/router/routertest"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

func TestEventPostedTwiceStartsTheJourneyOnce(t *testing.T) {
	a := newAPI(t, true)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	ev := map[string]any{"event_id": "signup-C-1", "customer": "C-1", "type": "signup"}
	var results []eventResult
	for range 2 {
		status, body := a.do("POST", "/v1/events", ev)
		var r eventResult
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%d %s", status, body)
		}
		results = append(results, r)
		if want := map[bool]int{false: 201, true: 200}[r.Duplicate]; status != want {
			t.Errorf("status %d for duplicate=%v", status, r.Duplicate)
		}
	}
	if results[0].Duplicate || !results[0].Routed || !results[1].Duplicate {
		t.Fatalf("results = %+v; want the first routed and the second a duplicate", results)
	}
	wid := workflows.JourneyID(workflows.Onboarding, id)
	if got := routertest.Heard(t, a.temporal, wid, 1); !slices.Equal(got, []string{"signup-C-1"}) {
		t.Errorf("onboarding heard %v, want the signup once", got)
	}
	if n := routertest.Runs(t, a.temporal, wid); n != 1 {
		t.Errorf("onboarding started %d times", n)
	}
	status, body := a.do("POST", "/v1/events/batch", map[string]any{"events": []map[string]any{
		ev, {"event_id": "act-1", "customer": id, "type": "activated"},
	}})
	var batch batchEventsResponse
	if err := json.Unmarshal(body, &batch); status != 200 || err != nil || batch.Recorded != 1 || batch.Duplicates != 1 {
		t.Fatalf("batch: %d %s", status, body)
	}
	if got := routertest.Heard(t, a.temporal, wid, 2); !slices.Equal(got, []string{"signup-C-1", "act-1"}) {
		t.Errorf("onboarding heard %v after the batch", got)
	}
}

func TestEventPostedWhileTemporalIsDownIsStored(t *testing.T) {
	a := newAPI(t, false)
	a.customer("C-1", nil)
	status, body := a.do("POST", "/v1/events", map[string]any{"event_id": "o-1", "customer": "C-1", "type": "order_delivered"})
	var r eventResult
	if err := json.Unmarshal(body, &r); status != http.StatusCreated || err != nil || r.Routed || r.Duplicate {
		t.Fatalf("%d %s; want 201, stored, not routed yet", status, body)
	}
	// A page view concerns no journey: it is stored as handled and does not
	// wait in the outbox with the delivery.
	status, body = a.do("POST", "/v1/events", map[string]any{"event_id": "pv-1", "customer": "C-1", "type": "page_view"})
	if err := json.Unmarshal(body, &r); status != http.StatusCreated || err != nil || !r.Routed {
		t.Fatalf("page view: %d %s; want 201, stored and done", status, body)
	}
	if n, _ := a.store.OutboxSize(t.Context()); n != 1 {
		t.Errorf("outbox = %d, want only the delivery waiting for Temporal", n)
	}
}

func TestEraseRemovesPersonalDataAndCancelsJourneys(t *testing.T) {
	a := newAPI(t, true)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com", "first_name": "Ann", "birthday": "1990-05-01", "attributes": map[string]any{"plan": "gold"}})
	if status, body := a.do("POST", "/v1/events", map[string]any{"event_id": "s-1", "customer": "C-1", "type": "signup", "properties": map[string]any{"referrer": "ann's friend"}}); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	wid := workflows.JourneyID(workflows.Onboarding, id)
	routertest.Heard(t, a.temporal, wid, 1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		open, err := a.store.OpenJourneys(t.Context(), id, []string{workflows.Onboarding})
		if err == nil && len(open) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("onboarding run never claimed: %v %v", open, err)
		}
	}

	status, body := a.do("GET", "/v1/customers/C-1/export", nil)
	var ex store.CustomerExport
	if err := json.Unmarshal(body, &ex); status != 200 || err != nil || ex.Customer.Email != "ann@example.com" || len(ex.Events) != 1 {
		t.Fatalf("export: %d %s", status, body)
	}

	status, body = a.do("DELETE", "/v1/customers/C-1", nil)
	if status != 200 || !strings.Contains(string(body), `"journeys_cancelled": true`) {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	if status, _ := a.do("GET", "/v1/customers/C-1", nil); status != 404 {
		t.Errorf("GET erased by external ID: %d, want 404", status)
	}
	ex, err := a.store.ExportCustomer(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Customer.Email != "" || ex.Customer.FirstName != "" || ex.Customer.Birthday != nil || len(ex.Customer.Attributes) != 0 || len(ex.Events[0].Properties) != 0 {
		t.Errorf("personal data left after erasure: %+v", ex)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		d, err := a.temporal.DescribeWorkflowExecution(ctx, wid, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("onboarding is %v after erasure, want canceled", d.WorkflowExecutionInfo.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ex, err = a.store.ExportCustomer(t.Context(), id); err != nil || len(ex.JourneyRuns) != 1 ||
		ex.JourneyRuns[0].Outcome != store.OutcomeErased || ex.JourneyRuns[0].EndedAt == nil {
		t.Errorf("journey runs after erasure: %+v (%v); want the onboarding run ended as erased", ex.JourneyRuns, err)
	}
	// Retrying by Tidings ID is safe.
	if status, body := a.do("DELETE", "/v1/customers/"+id, nil); status != 200 {
		t.Errorf("repeat DELETE: %d %s", status, body)
	}
	if status, _ := a.do("POST", "/v1/events", map[string]any{"event_id": "s-2", "customer": id, "type": "signup"}); status != 422 {
		t.Errorf("event for an erased customer: %d, want 422", status)
	}
}
