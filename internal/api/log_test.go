package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

func TestSuppressionsOverTheAPI(t *testing.T) {
	e := newEngagement(t)
	status, body := e.do("POST", "/v1/suppressions", map[string]any{"channel": "email", "address": "Old-Mailbox@Example.com", "detail": "closed"})
	if status != http.StatusCreated || !strings.Contains(string(body), `"created": true`) || !strings.Contains(string(body), `"reason": "manual"`) {
		t.Fatalf("add: %d %s", status, body)
	}
	if status, body = e.do("POST", "/v1/suppressions", map[string]any{"channel": "email", "address": "old-mailbox@example.com", "reason": "complaint"}); status != http.StatusOK || !strings.Contains(string(body), `"reason": "manual"`) {
		t.Errorf("add again: %d %s, want 200 keeping the first reason", status, body)
	}
	for _, bad := range []map[string]any{
		{"channel": "fax", "address": "x@example.com"},
		{"channel": "email", "address": "not an address"},
		{"channel": "sms", "address": "+1 415 555 0123", "reason": "because"},
	} {
		if status, body := e.do("POST", "/v1/suppressions", bad); status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field"`) {
			t.Errorf("add %v: %d %s, want 422 naming the field", bad, status, body)
		}
	}
	if status, _ := e.do("POST", "/v1/suppressions", map[string]any{"channel": "sms", "address": "+1 415 555 0123", "reason": "unsubscribe"}); status != http.StatusCreated {
		t.Errorf("add a phone number: %d", status)
	}
	status, body = e.do("GET", "/v1/suppressions?channel=email&limit=1", nil)
	var list suppressionList
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Suppressions) != 1 || list.Suppressions[0].Address != "old-mailbox@example.com" || list.Next != "" {
		t.Errorf("list email: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/v1/suppressions?after=not-a-cursor", nil); status != 400 {
		t.Errorf("a forged cursor: %d, want 400", status)
	}
	if status, _ := e.do("DELETE", "/v1/suppressions/email/nobody@example.com", nil); status != 404 {
		t.Errorf("remove what is not there: %d, want 404", status)
	}
	if status, body := e.do("DELETE", "/v1/suppressions/email/old-mailbox@example.com?note="+url.QueryEscape("mailbox works again"), nil); status != 200 {
		t.Fatalf("remove: %d %s", status, body)
	}
	status, body = e.do("GET", "/v1/suppressions/email/old-mailbox@example.com", nil)
	if status != 404 {
		t.Errorf("get a removed one: %d %s", status, body)
	}
	hist, _ := e.store.SuppressionHistory(t.Context(), "email", "old-mailbox@example.com")
	if len(hist) != 2 || hist[1].Action != "removed" || hist[1].Detail != "mailbox works again" || !strings.HasPrefix(hist[1].Actor, "api_key:") {
		t.Errorf("history = %+v, want the addition and the recorded removal by the key", hist)
	}
	audit, err := e.store.AuditEntries(t.Context(), store.AuditQuery{Action: "suppression.remove"})
	if err != nil || len(audit) != 1 {
		t.Errorf("audit = %+v %v, want the removal", audit, err)
	}
}

func TestTheMessageLogOverTheAPI(t *testing.T) {
	e := newEngagement(t)
	cust := e.shopper(t, "C-log")
	id, _ := e.send(t, cust, "winback_offer", delivery.TopicMarketing, map[string]any{"coupon": "SPRING-10", "discount_percent": 10})
	other := e.shopper(t, "C-log-2")
	e.send(t, other, "care", delivery.TopicCare, nil)

	status, body := e.do("GET", "/v1/messages?customer=C-log", nil)
	var list messageList
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Messages) != 1 || list.Messages[0].ID != id {
		t.Fatalf("list by customer: %d %s", status, body)
	}
	status, body = e.do("GET", "/v1/messages?campaign=spring&limit=1", nil)
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Messages) != 1 || list.Next == "" {
		t.Fatalf("list by campaign, one per page: %d %s", status, body)
	}
	first := list.Messages[0].ID
	status, body = e.do("GET", "/v1/messages?campaign=spring&limit=1&after="+list.Next, nil)
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Messages) != 1 || list.Messages[0].ID == first {
		t.Errorf("the second page: %d %s", status, body)
	}
	for _, q := range []string{"since=yesterday", "limit=0", "after=xyz"} {
		if status, _ := e.do("GET", "/v1/messages?"+q, nil); status != 400 {
			t.Errorf("?%s: %d, want 400", q, status)
		}
	}
	if status, _ := e.do("GET", "/v1/messages?customer=C-nobody", nil); status != 404 {
		t.Errorf("an unknown customer: %d, want 404", status)
	}
	status, body = e.do("GET", "/v1/messages/"+id, nil)
	var rec store.MessageRecord
	if err := json.Unmarshal(body, &rec); status != 200 || err != nil || rec.Content == nil || !rec.Content.Tracked ||
		!strings.Contains(rec.Content.HTML, "/c/") || rec.Content.Headers["X-Tidings-Message-ID"] != id || len(rec.Content.Links) == 0 {
		t.Fatalf("show: %d %s", status, body)
	}
	if len(rec.Attempts) != 1 || rec.Attempts[0].Outcome != store.StatusSent || rec.Attempts[0].ProviderMessageID == "" {
		t.Errorf("show: attempts %+v, want the one accepted hand-over", rec.Attempts)
	}
	for _, bad := range []string{"not-a-uuid", "9d2c8e54-0000-4000-8000-000000000000"} {
		if status, _ := e.do("GET", "/v1/messages/"+bad, nil); status != 404 {
			t.Errorf("show %s: %d, want 404", bad, status)
		}
	}
}
