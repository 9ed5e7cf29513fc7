package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/router/routertest"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/internal/tracking"
)

const taskQueue = "api-test"

// testAPI is a running API server over a real database, with a real router
// pointed either at a real Temporal server or at a closed port.
type testAPI struct {
	t        *testing.T
	srv      *Server
	http     *httptest.Server
	store    *store.Store
	key      string
	signer   *token.Signer
	temporal client.Client
}

type apiOption func(*Options)

// newAPI starts the server. With withTemporal, journeys run on an in-process
// Temporal server; without, Temporal is "down" (a closed port).
func newAPI(t *testing.T, withTemporal bool, opts ...apiOption) *testAPI {
	t.Helper()
	s, _ := testdb.New(t)
	var tc client.Client
	if withTemporal {
		ts := temporaltest.NewServer(temporaltest.WithT(t))
		ts.NewWorker(taskQueue, routertest.Register(s))
		tc = ts.GetDefaultClient()
	} else {
		down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(down.Close)
		tc = down
	}
	reg := prometheus.NewRegistry()
	rt := router.New(s, tc, router.Options{TaskQueue: taskQueue, CallTimeout: 2 * time.Second, Metrics: router.NewMetrics(reg)})
	signer := token.NewSigner("test-secret-at-least-16")
	opt := Options{DefaultRegion: "US"}
	for _, o := range opts {
		o(&opt)
	}
	srv := New(Deps{Store: s, Router: rt, Signer: signer, Tracking: tracking.NewSigner("test-secret-at-least-16"), Log: slog.New(slog.DiscardHandler), Registry: reg}, opt)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	_, key, err := s.CreateAPIKey(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return &testAPI{t: t, srv: srv, http: hs, store: s, key: key, signer: signer, temporal: tc}
}

// do sends a request with the API key and returns the status and body.
func (a *testAPI) do(method, path string, body any) (int, []byte) {
	a.t.Helper()
	return a.doRaw(method, path, "Bearer "+a.key, body)
}

func (a *testAPI) doRaw(method, path, auth string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.http.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// form posts an HTML form (or the RFC 8058 one-click body) to a public page.
func (a *testAPI) form(path, body string) (int, string) {
	a.t.Helper()
	resp, err := a.http.Client().Post(a.http.URL+path, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (a *testAPI) get(path string, header ...string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(a.t.Context(), http.MethodGet, a.http.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.http.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// customer upserts a customer through the API and returns its Tidings ID.
func (a *testAPI) customer(externalID string, fields map[string]any) string {
	a.t.Helper()
	status, body := a.do(http.MethodPut, "/v1/customers/"+externalID, fields)
	if status != http.StatusCreated && status != http.StatusOK {
		a.t.Fatalf("PUT customer %s: %d %s", externalID, status, body)
	}
	var r upsertResponse
	if err := json.Unmarshal(body, &r); err != nil {
		a.t.Fatal(err)
	}
	return r.Customer.ID
}

// apiError decodes an error body.
func apiError(t *testing.T, body []byte) Error {
	t.Helper()
	var e struct {
		Error Error `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not a JSON error body (%v): %s", err, body)
	}
	return e.Error
}

func TestRequestsWithoutAValidKeyGet401(t *testing.T) {
	a := newAPI(t, false)
	a.customer("C-1", map[string]any{"email": "ann@example.com"})
	k, revoked, err := a.store.CreateAPIKey(t.Context(), "old")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.RevokeAPIKey(t.Context(), k.Prefix); err != nil {
		t.Fatal(err)
	}
	typo := "x" // a last character the key does not end with
	if strings.HasSuffix(a.key, typo) {
		typo = "y"
	}
	for _, tc := range []struct{ name, auth string }{
		{"no header", ""},
		{"not bearer", "Basic dXNlcjpwYXNz"},
		{"unknown key", "Bearer tdg_notarealkey"},
		{"revoked key", "Bearer " + revoked},
		{"key with a typo", "Bearer " + a.key[:len(a.key)-1] + typo},
	} {
		status, body := a.doRaw(http.MethodGet, "/v1/customers/C-1", tc.auth, nil)
		if status != http.StatusUnauthorized || apiError(t, body).Code != codeUnauthorized {
			t.Errorf("%s: %d %s, want 401 unauthorized", tc.name, status, body)
		}
	}
	if status, body := a.do(http.MethodGet, "/v1/customers/C-1", nil); status != http.StatusOK {
		t.Errorf("valid key: %d %s", status, body)
	}
	if status, _ := a.get("/v1/openapi.json"); status != http.StatusOK {
		t.Errorf("the OpenAPI document needs no key, got %d", status)
	}
}

func TestBadInputIsRejectedNamingTheFieldAndWritesNothing(t *testing.T) {
	a := newAPI(t, false, func(o *Options) { o.MaxBodyBytes = 64 << 10 })
	existing := a.customer("C-OK", map[string]any{"email": "ok@example.com"})
	many := make([]map[string]any, MaxBatch+1)
	for i := range many {
		many[i] = map[string]any{"external_id": "B-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)}
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"malformed JSON", "POST", "/v1/customers", `{"external_id": "C-1",`, 400, codeInvalidJSON, ""},
		{"not JSON at all", "POST", "/v1/customers", `external_id=C-1`, 400, codeInvalidJSON, ""},
		{"empty body", "POST", "/v1/customers", ``, 400, codeInvalidJSON, ""},
		{"trailing data", "POST", "/v1/customers", `{"external_id": "C-1"} {}`, 400, codeInvalidJSON, ""},
		{"unknown field", "POST", "/v1/customers", `{"external_id": "C-1", "emial": "a@example.com"}`, 400, codeUnknownField, "emial"},
		{"wrong JSON type", "POST", "/v1/customers", `{"external_id": 42}`, 400, codeInvalidJSON, "external_id"},
		{"invalid email", "POST", "/v1/customers", `{"external_id": "C-1", "email": "ann@@example"}`, 422, codeInvalid, "email"},
		{"invalid phone", "POST", "/v1/customers", `{"external_id": "C-1", "phone": "+1 555"}`, 422, codeInvalid, "phone"},
		{"ambiguous zone", "POST", "/v1/customers", `{"external_id": "C-1", "time_zone": "EST"}`, 422, codeInvalid, "time_zone"},
		{"unknown zone", "POST", "/v1/customers", `{"external_id": "C-1", "time_zone": "Mars/Olympus"}`, 422, codeInvalid, "time_zone"},
		{"invalid locale", "POST", "/v1/customers", `{"external_id": "C-1", "locale": "not a locale!"}`, 422, codeInvalid, "locale"},
		{"missing external_id", "POST", "/v1/customers", `{"email": "a@example.com"}`, 422, codeInvalid, "external_id"},
		{"path and body disagree", "PUT", "/v1/customers/C-1", `{"external_id": "C-2"}`, 422, codeInvalid, "external_id"},
		{"bad row in a batch", "POST", "/v1/customers/batch",
			`{"customers": [{"external_id": "C-1"}, {"external_id": "C-2", "email": "nope"}]}`, 422, codeInvalid, "customers[1].email"},
		{"duplicate in a batch", "POST", "/v1/customers/batch",
			`{"customers": [{"external_id": "C-1"}, {"external_id": "C-1"}]}`, 422, codeInvalid, "customers[1].external_id"},
		{"batch too large", "POST", "/v1/customers/batch", map[string]any{"customers": many}, 422, codeInvalid, "customers"},
		{"oversized body", "POST", "/v1/customers", `{"external_id": "C-1", "first_name": "` + strings.Repeat("a", 70<<10) + `"}`, 413, codeTooLarge, ""},
		{"event without type", "POST", "/v1/events", `{"event_id": "e1", "customer": "C-OK"}`, 422, codeInvalid, "type"},
		{"event type not snake_case", "POST", "/v1/events", `{"event_id": "e1", "customer": "C-OK", "type": "Order Placed"}`, 422, codeInvalid, "type"},
		{"event for unknown customer", "POST", "/v1/events", `{"event_id": "e1", "customer": "C-404", "type": "signup"}`, 422, codeInvalid, "customer"},
		{"purchase amount not a number", "POST", "/v1/events", `{"event_id": "e1", "customer": "C-OK", "type": "purchase", "properties": {"amount": "12"}}`, 422, codeInvalid, "properties.amount"},
		{"bad event in a batch", "POST", "/v1/events/batch",
			`{"events": [{"event_id": "e1", "customer": "C-OK", "type": "signup"}, {"event_id": "", "customer": "C-OK", "type": "signup"}]}`, 422, codeInvalid, "events[1].event_id"},
		{"consent on unknown channel", "PUT", "/v1/customers/C-OK/consents/fax/marketing", `{"status": "denied", "source": "call"}`, 422, codeInvalid, "channel"},
		{"consent status misspelt", "PUT", "/v1/customers/C-OK/consents/email/marketing", `{"status": "no", "source": "call"}`, 422, codeInvalid, "status"},
		{"consent without source", "PUT", "/v1/customers/C-OK/consents/email/marketing", `{"status": "denied"}`, 422, codeInvalid, "source"},
		{"unknown endpoint", "GET", "/v1/nothing", nil, 404, codeNotFound, ""},
		{"wrong method", "PATCH", "/v1/events", `{}`, 405, codeMethod, ""},
	} {
		status, body := a.do(tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, status, tc.status, body)
			continue
		}
		e := apiError(t, body)
		if e.Code != tc.code || e.Field != tc.field {
			t.Errorf("%s: code %q field %q, want %q %q (%s)", tc.name, e.Code, e.Field, tc.code, tc.field, e.Message)
		}
		if tc.field != "" && !strings.Contains(e.Message, tc.field) {
			t.Errorf("%s: message %q does not name the field %s", tc.name, e.Message, tc.field)
		}
	}
	if n, _ := testdb.CountCustomers(t.Context(), a.store); n != 1 {
		t.Errorf("%d customers stored after only bad input, want 1", n)
	}
	if evs, _ := a.store.CustomerEvents(t.Context(), existing, "", time.Time{}, 10); len(evs) != 0 {
		t.Errorf("bad events were stored: %+v", evs)
	}
	if cs, _ := a.store.Consents(t.Context(), existing); len(cs) != 0 {
		t.Errorf("bad consent was stored: %+v", cs)
	}
}

func TestCustomerUpsertGetBatchAndConsents(t *testing.T) {
	a := newAPI(t, false)
	status, body := a.do("PUT", "/v1/customers/C-1", map[string]any{"email": "Ann@Example.COM", "phone": "(415) 555-0132", "time_zone": "America/Los_Angeles"})
	if status != http.StatusCreated {
		t.Fatalf("first PUT: %d %s", status, body)
	}
	status, body = a.do("PUT", "/v1/customers/C-1", map[string]any{"email": "Ann@Example.COM"})
	if status != http.StatusOK || !strings.Contains(string(body), `"outcome": "unchanged"`) {
		t.Fatalf("same PUT again: %d %s, want 200 unchanged", status, body)
	}
	status, body = a.do("GET", "/v1/customers/C-1", nil)
	var got customerResponse
	if err := json.Unmarshal(body, &got); status != 200 || err != nil {
		t.Fatalf("GET: %d %s", status, body)
	}
	if got.Email != "Ann@example.com" || got.Phone != "+14155550132" {
		t.Errorf("stored email %q phone %q; want normalised", got.Email, got.Phone)
	}
	status, body = a.do("POST", "/v1/customers/batch", map[string]any{"customers": []map[string]any{
		{"external_id": "C-1", "first_name": "Ann"}, {"external_id": "C-2", "locale": "zh_tw"},
	}})
	var batch batchCustomersResponse
	if err := json.Unmarshal(body, &batch); status != 200 || err != nil || batch.Inserted != 1 || batch.Updated != 1 {
		t.Fatalf("batch: %d %s", status, body)
	}
	status, body = a.do("PUT", "/v1/customers/C-1/consents/sms/marketing", map[string]any{"status": "granted", "source": "checkout_form", "ip": "203.0.113.7"})
	if status != 200 {
		t.Fatalf("set consent: %d %s", status, body)
	}
	status, body = a.do("GET", "/v1/customers/"+got.ID+"/consents", nil)
	var cs consentsResponse
	if err := json.Unmarshal(body, &cs); status != 200 || err != nil || len(cs.Consents) != 1 || len(cs.History) != 1 {
		t.Fatalf("consents: %d %s", status, body)
	}
	if h := cs.History[0]; h.Source != "checkout_form" || h.Actor != "api_key:test" || h.IP != "203.0.113.7" {
		t.Errorf("consent evidence = %+v", h)
	}
	if status, _ := a.do("GET", "/v1/customers/C-404", nil); status != http.StatusNotFound {
		t.Errorf("unknown customer: %d, want 404", status)
	}
}
