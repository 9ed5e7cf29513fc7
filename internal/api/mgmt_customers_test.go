package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

// search runs GET /v1/customers with the query and returns the external
// IDs found and the next cursor.
func (a *testAPI) search(key, query string) ([]string, string, reply) {
	a.t.Helper()
	r := a.send(http.MethodGet, "/v1/customers?"+query, "", "Authorization", "Bearer "+key)
	var page mgmt.CustomerPage
	if r.status != http.StatusOK || json.Unmarshal(r.body, &page) != nil {
		return nil, "", r
	}
	var ids []string
	for _, c := range page.Customers {
		ids = append(ids, c.ExternalID)
	}
	slices.Sort(ids)
	return ids, page.Next, r
}

func TestCustomerSearch(t *testing.T) {
	a := newAPI(t, false)
	viewer := a.keyFor("viewer")
	a.customer("C-1", map[string]any{"email": "Ada@Example.com", "phone": "+14155550100", "first_name": "Ada", "last_name": "Lovelace", "tags": []string{"vip"}})
	a.customer("C-2", map[string]any{"email": "adam@example.com", "first_name": "Adam", "last_name": "Smith"})
	a.customer("C-3", map[string]any{"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper", "tags": []string{"vip"}})
	a.customer("C-4", map[string]any{"first_name": "Linus", "last_name": "Adams"})
	a.customer("C-5", map[string]any{"first_name": "Percent", "last_name": "Sign"})
	gone := a.customer("C-6", map[string]any{"email": "gone@example.com", "first_name": "Ada", "last_name": "Gone"})
	if r := a.send(http.MethodDelete, "/v1/customers/"+gone, "", "Authorization", "Bearer "+a.key); r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
		t.Fatalf("erase: %s", r)
	}

	for _, tc := range []struct{ query, want string }{
		{"q=ada@example.com", "C-1"},
		{"q=" + url.QueryEscape("(415) 555-0100"), "C-1"},
		{"phone=" + url.QueryEscape("+1 415 555 0100"), "C-1"},
		{"q=C-3", "C-3"},
		{"external_id=C-2", "C-2"},
		{"q=ada", "C-1 C-2 C-4"},
		{"q=" + url.QueryEscape("Ada Lo"), "C-1"},
		{"name=ADAMS", "C-4"},
		{"tag=vip", "C-1 C-3"},
		{"tag=vip&name=gr", "C-3"},
		{"q=" + url.QueryEscape("%"), ""},
		{"email=gone@example.com", ""},
		{"q=nobody", ""},
	} {
		ids, _, r := a.search(viewer, tc.query)
		if strings.Join(ids, " ") != tc.want || r.status != http.StatusOK {
			t.Errorf("%s: found %v (%s), want %q", tc.query, ids, r, tc.want)
		}
	}

	// Keyset pages: every customer once, however the pages fall.
	var all []string
	after := ""
	for range 10 {
		ids, next, r := a.search(viewer, "limit=2&after="+after)
		if r.status != http.StatusOK {
			t.Fatalf("page after %q: %s", after, r)
		}
		all = append(all, ids...)
		if next == "" {
			break
		}
		after = next
	}
	slices.Sort(all)
	if strings.Join(all, " ") != "C-1 C-2 C-3 C-4 C-5" {
		t.Errorf("paging found %v", all)
	}

	for query, field := range map[string]string{"phone=12": "phone", "after=not-a-cursor": "after", "limit=501": "limit"} {
		_, _, r := a.search(viewer, query)
		if r.status < 400 || r.status >= 500 || apiError(t, r.body).Field != field {
			t.Errorf("%s: %s, want a 4xx naming %s", query, r, field)
		}
	}
}

func TestCustomerTimelineIsNewestFirstAndPaged(t *testing.T) {
	a := newAPI(t, false)
	ctx := t.Context()
	id := a.customer("C-1", map[string]any{"email": "ada@example.com", "first_name": "Ada"})
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	if _, err := a.store.RecordEvent(ctx, store.EventInput{EventID: "e-1", CustomerID: id, Type: "order_placed", OccurredAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.ClaimJourneyRun(ctx, store.JourneyRun{Journey: "welcome", RunID: "r-1", CustomerID: id, Trigger: "signup", StartedAt: t0.Add(time.Minute)}, 0); err != nil {
		t.Fatal(err)
	}
	m, _, err := a.store.ReserveMessage(ctx, store.Message{IdempotencyKey: "k-1", CustomerID: id, Journey: "welcome", Step: "hello",
		Channel: "email", Template: "welcome", Topic: "marketing", Status: "queued"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.store.CompleteMessage(ctx, m.ID, store.Outcome{Status: "skipped", Reason: "no_consent"}); err != nil {
		t.Fatal(err)
	}
	if err := a.store.FinishJourneyRun(ctx, "welcome", "r-1", "completed", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.store.RecordSurveyAnswer(ctx, store.SurveyResponse{CustomerID: id, Survey: "nps", Score: 9, MessageID: m.ID, AnsweredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if r := a.send(http.MethodPut, "/v1/customers/C-1/consents/email/marketing", `{"status":"granted","source":"signup form"}`, "Authorization", "Bearer "+a.key); r.status >= 300 {
		t.Fatalf("consent: %s", r)
	}

	r := a.send(http.MethodGet, "/v1/customers/C-1/timeline", "", "Authorization", "Bearer "+a.keyFor("viewer"))
	var tl struct {
		Customer store.Customer
		Items    []struct {
			At     time.Time
			Kind   string
			Detail map[string]any
		}
		Next string
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &tl) != nil || tl.Customer.ExternalID != "C-1" {
		t.Fatalf("timeline: %s", r)
	}
	var kinds []string
	for i, it := range tl.Items {
		kinds = append(kinds, it.Kind)
		if i > 0 && it.At.After(tl.Items[i-1].At) {
			t.Errorf("item %d (%s at %s) is newer than the one before", i, it.Kind, it.At)
		}
	}
	if got := strings.Join(kinds, " "); got != "consent survey message journey event" {
		t.Errorf("kinds newest first: %s", got)
	}
	for _, it := range tl.Items {
		switch it.Kind {
		case "message":
			if it.Detail["status"] != "skipped" || it.Detail["reason"] != "no_consent" || it.Detail["template"] != "welcome" {
				t.Errorf("message item %v", it.Detail)
			}
		case "journey":
			if it.Detail["journey"] != "welcome" || it.Detail["outcome"] != "completed" {
				t.Errorf("journey item %v", it.Detail)
			}
		case "consent":
			if it.Detail["status"] != "granted" || it.Detail["topic"] != "marketing" {
				t.Errorf("consent item %v", it.Detail)
			}
		case "survey":
			if it.Detail["score"] != float64(9) {
				t.Errorf("survey item %v", it.Detail)
			}
		}
	}

	// Pages of two: the same items in the same order.
	var paged []string
	after := ""
	for range 5 {
		r := a.send(http.MethodGet, "/v1/customers/"+id+"/timeline?limit=2&after="+after, "", "Authorization", "Bearer "+a.key)
		var page struct {
			Items []struct{ Kind string }
			Next  string
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &page) != nil {
			t.Fatalf("page: %s", r)
		}
		for _, it := range page.Items {
			paged = append(paged, it.Kind)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if strings.Join(paged, " ") != strings.Join(kinds, " ") {
		t.Errorf("paged %v, want %v", paged, kinds)
	}
	if r := a.send(http.MethodGet, "/v1/customers/nobody/timeline", "", "Authorization", "Bearer "+a.key); r.status != http.StatusNotFound {
		t.Errorf("unknown customer: %s", r)
	}
	if r := a.send(http.MethodGet, "/v1/customers/C-1/timeline?after=zzz", "", "Authorization", "Bearer "+a.key); r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != "after" {
		t.Errorf("bad cursor: %s", r)
	}
}
