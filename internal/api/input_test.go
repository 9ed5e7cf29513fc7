package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHostileInputIsRefusedNamingTheField sends every ingest route what a
// careless or hostile client sends: NUL bytes, header injection in names,
// timestamps in no known form, amounts no total can hold, values too long
// for an index. Each answers a 4xx naming the field, never a 500, and
// nothing of the request is stored.
func TestHostileInputIsRefusedNamingTheField(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com"})
	long := strings.Repeat("x", 201)
	purchases := make([]map[string]any, 101)
	for i := range purchases {
		purchases[i] = map[string]any{"event_id": fmt.Sprintf("big-%d", i), "customer": "C-1", "type": "purchase", "properties": map[string]any{"amount": 9999999999.0}}
	}
	consent := "/v1/customers/C-1/consents/email/marketing"
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field, says        string
	}{
		{"header injection in a first name", "POST", "/v1/customers", map[string]any{"external_id": "H-1", "first_name": "Eve\r\nBcc: evil@example.com"}, 400, "first_name", "U+000D"},
		{"NUL in a last name", "PUT", "/v1/customers/H-2", map[string]any{"last_name": "O\x00Brien"}, 400, "last_name", "U+0000"},
		{"C1 control in a first name", "POST", "/v1/customers", map[string]any{"external_id": "H-3", "first_name": "An\u0085n"}, 400, "first_name", "U+0085"},
		{"NUL in a city", "POST", "/v1/customers", map[string]any{"external_id": "H-4", "city": "Taipei\x00"}, 400, "city", "U+0000"},
		{"NUL in a tag", "POST", "/v1/customers", map[string]any{"external_id": "H-5", "tags": []string{"vip", "b\x00d"}}, 400, "tags[1]", "U+0000"},
		{"NUL in an attribute", "POST", "/v1/customers", map[string]any{"external_id": "H-6", "attributes": map[string]any{"notes": []any{"ok", map[string]any{"x": "\x00"}}}}, 400, "attributes.notes[1].x", "NUL"},
		{"NUL in an attribute name", "POST", "/v1/customers", map[string]any{"external_id": "H-7", "attributes": map[string]any{"pla\x00n": "gold"}}, 400, "attributes", "NUL"},
		{"NUL in an email address", "POST", "/v1/customers", map[string]any{"external_id": "H-8", "email": "ann\x00@example.com"}, 400, "email", "NUL"},
		{"NUL in the external ID of the path", "PUT", "/v1/customers/H%009", map[string]any{"first_name": "Ann"}, 400, "external_id", "U+0000"},
		{"a city longer than any", "POST", "/v1/customers", map[string]any{"external_id": "H-10", "city": long}, 422, "city", "longer than 200"},
		{"a tag longer than any", "POST", "/v1/customers", map[string]any{"external_id": "H-11", "tags": []string{strings.Repeat("t", 5000)}}, 422, "tags", "longer than 200"},
		{"an email address longer than any", "POST", "/v1/customers", map[string]any{"external_id": "H-12", "email": strings.Repeat("a", 300) + "@example.com"}, 422, "email", "longer than 254"},
		{"one bad row in a batch", "POST", "/v1/customers/batch", map[string]any{"customers": []map[string]any{{"external_id": "H-13"}, {"external_id": "H-14", "first_name": "Eve\nX"}}}, 400, "customers[1].first_name", "U+000A"},

		{"NUL in an event ID", "POST", "/v1/events", map[string]any{"event_id": "e-\x001", "customer": "C-1", "type": "signup"}, 400, "event_id", "U+0000"},
		{"NUL in an event property", "POST", "/v1/events", map[string]any{"event_id": "e-2", "customer": "C-1", "type": "signup", "properties": map[string]any{"referrer": "x\x00"}}, 400, "properties.referrer", "NUL"},
		{"NUL in the customer of an event", "POST", "/v1/events", map[string]any{"event_id": "e-3", "customer": "C-\x001", "type": "signup"}, 400, "customer", "NUL"},
		{"NUL in an event type", "POST", "/v1/events", map[string]any{"event_id": "e-4", "customer": "C-1", "type": "sign\x00up"}, 400, "type", "NUL"},
		{"an event ID longer than any", "POST", "/v1/events", map[string]any{"event_id": long, "customer": "C-1", "type": "signup"}, 422, "event_id", "longer than 200"},
		{"occurred_at in words", "POST", "/v1/events", map[string]any{"event_id": "e-5", "customer": "C-1", "type": "signup", "occurred_at": "yesterday"}, 400, "occurred_at", "RFC 3339"},
		{"occurred_at without a zone", "POST", "/v1/events", map[string]any{"event_id": "e-6", "customer": "C-1", "type": "signup", "occurred_at": "2026-05-01 14:30:00"}, 400, "occurred_at", "RFC 3339"},
		{"occurred_at as a number", "POST", "/v1/events", map[string]any{"event_id": "e-7", "customer": "C-1", "type": "signup", "occurred_at": 1777000000}, 400, "occurred_at", "string"},
		{"a purchase no total holds", "POST", "/v1/events", map[string]any{"event_id": "e-8", "customer": "C-1", "type": "purchase", "properties": map[string]any{"amount": 1e13}}, 400, "properties.amount", "too large"},
		{"purchases that overflow the total together", "POST", "/v1/events/batch", map[string]any{"events": purchases}, 400, "properties.amount", "total spent"},
		{"one bad event in a batch", "POST", "/v1/events/batch", map[string]any{"events": []map[string]any{{"event_id": "e-9", "customer": id, "type": "signup"}, {"event_id": "e-10", "customer": id, "type": "signup", "occurred_at": "01/05/2026"}}}, 400, "events[1].occurred_at", "RFC 3339"},

		{"NUL in a consent source", "PUT", consent, map[string]any{"status": "denied", "source": "form\x00"}, 400, "source", "NUL"},
		{"NUL in a consent IP", "PUT", consent, map[string]any{"status": "denied", "source": "form", "ip": "10.0.0.1\x00"}, 400, "ip", "NUL"},
		{"NUL in the idempotency key of a message", "POST", "/v1/messages", map[string]any{"customer": "C-1", "template": "care", "topic": "transactional", "idempotency_key": "order-\x001"}, 400, "idempotency_key", "NUL"},
		{"NUL in the customer of a message", "POST", "/v1/messages", map[string]any{"customer": "C-\x001", "template": "care", "topic": "transactional", "idempotency_key": "order-2"}, 400, "customer", "NUL"},
		{"NUL in a variable of a message", "POST", "/v1/messages", map[string]any{"customer": "C-1", "template": "care", "topic": "transactional", "vars": map[string]any{"order": "\x00"}, "idempotency_key": "order-3"}, 400, "vars.order", "NUL"},

		{"NUL in the customer of a consent", "PUT", "/v1/customers/C-%001/consents/email/marketing", map[string]any{"status": "denied", "source": "form"}, 404, "customer", "no customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := a.rowCounts()
			status, body := a.do(tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("%d, want %d: %s", status, tc.status, body)
			}
			e := apiError(t, body)
			if e.Field != tc.field || !strings.Contains(e.Message, tc.says) {
				t.Errorf("error names %q: %q; want %q and %q", e.Field, e.Message, tc.field, tc.says)
			}
			if after := a.rowCounts(); after != before {
				t.Errorf("rows (customers, events, consent changes, messages) went from %v to %v", before, after)
			}
		})
	}

	// A quote or an apostrophe in a name is an ordinary character.
	for i, name := range []string{`Quinn "Q`, `Zoë "Zed" O'Brien`} {
		status, body := a.do("POST", "/v1/customers", map[string]any{"external_id": fmt.Sprintf("Q-%d", i), "email": "q@example.com", "first_name": name})
		if status != http.StatusCreated || !strings.Contains(string(body), strings.ReplaceAll(name, `"`, `\"`)) {
			t.Errorf("first name %s: %d %s; want 201 and the name as sent", name, status, body)
		}
	}
}

// rowCounts counts what an ingest request can write.
func (a *testAPI) rowCounts() [4]int {
	a.t.Helper()
	var n [4]int
	err := a.store.Pool().QueryRow(a.t.Context(), `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM events),
		(SELECT count(*) FROM consent_changes), (SELECT count(*) FROM messages)`).Scan(&n[0], &n[1], &n[2], &n[3])
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}
