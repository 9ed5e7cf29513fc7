package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

type openAPIDocument struct {
	Paths map[string]map[string]struct {
		OperationID string `json:"operationId"`
		RequestBody *struct {
			Content map[string]struct {
				Example json.RawMessage `json:"example"`
			} `json:"content"`
		} `json:"requestBody"`
	} `json:"paths"`
}

func TestOpenAPIDocumentListsExactlyTheRoutes(t *testing.T) {
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	served := []string{"GET /metrics"}
	for _, rt := range (&Server{}).routes() {
		served = append(served, rt.pattern)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented and served routes differ:\ndocumented: %v\nserved:     %v", documented, served)
	}
}

// TestOpenAPIExamplesAreAccepted sends every documented request example to
// the handlers, in document order of dependency: customers first.
func TestOpenAPIExamplesAreAccepted(t *testing.T) {
	a := newAPI(t, false)
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	params := regexp.MustCompile(`\{[a-z_]+\}`)
	fill := map[string]string{"{external_id}": "C-1001", "{customer}": "C-1001", "{channel}": "email", "{topic}": "marketing", "{user}": "mei@example.com", "{name}": "welcome"}
	order := []string{"/v1/customers", "/v1/customers/{external_id}", "/v1/customers/batch", "/v1/customers/{customer}/consents/{channel}/{topic}", "/v1/events", "/v1/events/batch",
		"/v1/users", "/v1/users/{user}", "/v1/apikeys", "/v1/session", "/v1/suppressions", "/v1/templates/{name}/preview"}
	// The sign-in example's user.
	if r := a.send("POST", "/v1/users", `{"email":"ann@example.com","role":"viewer","password":"correct horse battery staple"}`, "Authorization", "Bearer "+a.key); r.status != 201 {
		t.Fatal(r)
	}
	tried := 0
	for path, ops := range doc.Paths {
		for _, op := range ops {
			if op.RequestBody != nil && op.RequestBody.Content["application/json"].Example != nil && !slices.Contains(order, path) {
				t.Errorf("%s has a JSON example this test does not send; add it to the order", path)
			}
		}
	}
	for _, path := range order {
		for method, op := range doc.Paths[path] {
			if op.RequestBody == nil {
				continue
			}
			ex := op.RequestBody.Content["application/json"].Example
			if ex == nil {
				t.Errorf("%s %s documents no example", method, path)
				continue
			}
			url := params.ReplaceAllStringFunc(path, func(p string) string { return fill[p] })
			status, body := a.do(strings.ToUpper(method), url, []byte(ex))
			if status >= 400 {
				t.Errorf("example of %s %s refused: %d %s", method, path, status, body)
			}
			tried++
		}
	}
	if tried != len(order) {
		t.Errorf("sent %d examples, want %d", tried, len(order))
	}
	status, body := a.get("/v1/openapi.json")
	if status != 200 || !strings.Contains(body, `"openapi": "3.0.3"`) {
		t.Errorf("GET /v1/openapi.json: %d", status)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	a := newAPI(t, false)
	a.customer("C-1", nil)
	a.do("GET", "/v1/customers/C-404", nil)
	_, body := a.get("/metrics")
	for _, want := range []string{
		`tidings_http_requests_total{method="PUT",route="PUT /v1/customers/{external_id}",status="201"} 1`,
		`tidings_http_requests_total{method="GET",route="GET /v1/customers/{customer}",status="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func testMessages(t *testing.T, a *testAPI) {
	t.Helper()
	c, err := a.store.CustomerByExternalID(t.Context(), "C-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.Pool().Exec(t.Context(), `
		INSERT INTO messages (idempotency_key, customer_id, journey, step, channel, template, topic, status)
		VALUES ('k', $1, 'welcome', '1', 'email', 'welcome', 'marketing', 'queued')`, c.ID); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	a := newAPI(t, false, func(o *Options) {
		o.Dev = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
			_, _ = w.Write([]byte("caught"))
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, a.srv, 10*time.Second, a.srv.log) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/dev/mail")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b := make([]byte, 16)
		n, _ := resp.Body.Read(b)
		got <- resp.Status + " " + string(b[:n])
	}()
	<-entered
	stop() // SIGTERM arrives while the request is in flight
	time.Sleep(50 * time.Millisecond)
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("server still accepts new connections after shutdown began")
	}
	close(release)
	if r := <-got; r != "200 OK caught" {
		t.Errorf("request in flight got %q, want it to finish", r)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v after a clean shutdown", err)
	}
}
