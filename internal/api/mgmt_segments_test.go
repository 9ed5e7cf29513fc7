package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

const buyersZH = `name: buyers-zh
description: zh-CN customers who bought
match:
  locale: zh-CN
  orders_count: {gte: 1}
`

func TestSegmentsOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	marketer, viewer := a.keyFor("marketer"), a.keyFor("viewer")
	ctx := t.Context()
	for _, ext := range []string{"C-1", "C-2", "C-3"} {
		a.customer(ext, map[string]any{"email": ext + "@example.com", "first_name": "Mei", "locale": map[bool]string{true: "en", false: "zh-CN"}[ext == "C-3"]})
	}
	for _, ext := range []string{"C-1", "C-3"} {
		c, _ := a.store.CustomerByExternalID(ctx, ext)
		if _, err := a.store.RecordEvent(ctx, store.EventInput{EventID: "buy-" + ext, CustomerID: c.ID, Type: "purchase",
			Properties: map[string]any{"value": 120.0}, OccurredAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	// A bad definition is 422 with each problem located; nothing is saved.
	r := a.file("/v1/segments", "application/yaml", strings.Replace(buyersZH, "orders_count", "orders_cont", 1), marketer)
	if e := apiError(t, r.body); r.status != http.StatusUnprocessableEntity || len(e.Problems) == 0 || e.Problems[0].Line != 5 {
		t.Errorf("save a bad definition: %s", r)
	}
	r = a.file("/v1/segments", "application/yaml", buyersZH, marketer)
	var saved mgmt.SavedSegment
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &saved) != nil || saved.Name != "buyers-zh" || saved.Definition != strings.TrimSpace(buyersZH) {
		t.Fatalf("save: %s", r)
	}
	if r = a.file("/v1/segments", "application/yaml", buyersZH, marketer); r.status != http.StatusOK || !strings.Contains(string(r.body), `"outcome": "unchanged"`) {
		t.Errorf("save again: %s", r)
	}

	// Preview a saved segment and an inline one; the sample carries the
	// computed fields.
	r = a.send(http.MethodGet, "/v1/segments/buyers-zh/preview?sample=5", "", "Authorization", "Bearer "+viewer)
	var p mgmt.SegmentPreview
	if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil || p.Count != 1 || len(p.Sample) != 1 ||
		p.Sample[0].ExternalID != "C-1" || p.Sample[0].Lifecycle == "" || p.Sample[0].OrdersCount != 1 {
		t.Errorf("preview saved: %s", r)
	}
	r = a.file("/v1/segments/preview?sample=0", "application/json", `{"match": {"orders_count": {"gte": 0}}}`, viewer)
	if json.Unmarshal(r.body, &p) != nil || p.Count != 3 || len(p.Sample) != 0 {
		t.Errorf("preview inline JSON: %s", r)
	}

	// A definition reading scores warns until they are computed.
	tiered := "match: {value_tier: high}\n"
	r = a.file("/v1/segments/preview", "application/yaml", tiered, viewer)
	if json.Unmarshal(r.body, &p) != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "never been computed") {
		t.Errorf("preview before scores: %s", r)
	}
	if r = a.file("/v1/segments/refresh-scores", "application/json", "", marketer); r.status != http.StatusOK || !strings.Contains(string(r.body), `"customers": 3`) {
		t.Errorf("refresh-scores: %s", r)
	}
	r = a.file("/v1/segments/preview", "application/yaml", tiered, viewer)
	if json.Unmarshal(r.body, &p) != nil || len(p.Warnings) != 0 {
		t.Errorf("preview after scores: %s", r)
	}

	// List, get, delete; what changed state is audited.
	r = a.send(http.MethodGet, "/v1/segments", "", "Authorization", "Bearer "+viewer)
	if !strings.Contains(string(r.body), `"name": "buyers-zh"`) {
		t.Errorf("list: %s", r)
	}
	if r = a.send(http.MethodDelete, "/v1/segments/buyers-zh", "", "Authorization", "Bearer "+marketer); r.status != http.StatusNoContent {
		t.Errorf("delete: %s", r)
	}
	for _, path := range []string{"/v1/segments/buyers-zh", "/v1/segments/buyers-zh/preview"} {
		if r = a.send(http.MethodGet, path, "", "Authorization", "Bearer "+viewer); r.status != http.StatusNotFound || apiError(t, r.body).Field != "name" {
			t.Errorf("%s after delete: %s", path, r)
		}
	}
	if got := a.audited("key-marketer"); got != "segment.delete segment.refresh_scores segment.save segment.save" {
		t.Errorf("audited: %s", got)
	}
}

func TestTemplatesOverTheAPI(t *testing.T) {
	a := newAPI(t, false)
	viewer := a.keyFor("viewer")
	a.customer("C-1", map[string]any{"email": "mei@example.com", "first_name": "Mei", "locale": "zh-CN"})

	r := a.send(http.MethodGet, "/v1/templates", "", "Authorization", "Bearer "+viewer)
	var list struct{ Templates []mgmt.TemplateInfo }
	if json.Unmarshal(r.body, &list) != nil || len(list.Templates) < 5 {
		t.Fatalf("list: %s", r)
	}
	for _, tp := range list.Templates {
		if tp.Name == "survey_request" && (len(tp.Channels) != 2 || len(tp.Locales) < 3) {
			t.Errorf("survey_request: %+v", tp)
		}
	}

	// For a customer: their locale and name.
	r = a.file("/v1/templates/welcome/preview", "application/json", `{"customer": "C-1"}`, viewer)
	var p mgmt.Preview
	if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil || p.Locale != "zh-CN" || !strings.Contains(p.Subject, "欢迎") || p.HTML == "" {
		t.Errorf("preview for a customer: %s", r)
	}
	r = a.file("/v1/templates/survey_request/preview", "application/json", `{"locale": "zh-TW", "channel": "sms"}`, viewer)
	if json.Unmarshal(r.body, &p) != nil || p.Locale != "zh-TW" || p.SMS == "" || p.Segments < 1 {
		t.Errorf("preview an SMS: %s", r)
	}
	for body, field := range map[string]string{`{"channel": "sms"}`: "channel", `{"customer": "C-404"}`: "customer", `{"channel": "fax"}`: "channel"} {
		r = a.file("/v1/templates/welcome/preview", "application/json", body, viewer)
		if r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != field {
			t.Errorf("preview %s: %s, want 422 naming %s", body, r, field)
		}
	}
	if r = a.file("/v1/templates/nope/preview", "application/json", "", viewer); r.status != http.StatusUnprocessableEntity || apiError(t, r.body).Field != "template" {
		t.Errorf("unknown template: %s", r)
	}
	if r = a.send(http.MethodGet, "/v1/templates/check", "", "Authorization", "Bearer "+viewer); !strings.Contains(string(r.body), `"ok": true`) {
		t.Errorf("check: %s", r)
	}
}

// audited lists the audit log's actions by actor, newest first.
func (a *testAPI) audited(actor string) string {
	a.t.Helper()
	es, err := a.store.AuditEntries(a.t.Context(), store.AuditQuery{Actor: actor, Limit: 20})
	if err != nil {
		a.t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	return strings.Join(actions, " ")
}
