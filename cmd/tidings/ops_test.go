package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// process is one long-running `tidings` command run in-process with JSON
// logs, as an orchestrator runs it.
type process struct {
	t      *testing.T
	stderr *syncBuffer
	stop   context.CancelFunc
	exited chan int
}

func startProcess(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	p := &process{t: t, stderr: &syncBuffer{}, stop: stop, exited: make(chan int, 1)}
	a := &app{getenv: func(k string) string { return env[k] }, stdout: io.Discard, stderr: p.stderr, stdin: strings.NewReader("")}
	go func() { p.exited <- run(ctx, a, append([]string{"--log-format", "json"}, args...)) }()
	t.Cleanup(func() { p.shutdown() })
	return p
}

// lines are the process's log records; every line must be a JSON object.
func (p *process) lines() []map[string]any {
	p.t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if l == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			p.t.Errorf("log line is not JSON: %q", l)
			continue
		}
		out = append(out, rec)
	}
	return out
}

// waitLog waits for a record with msg whose key holds want, and returns it.
func (p *process) waitLog(msg, key, want string) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		for _, rec := range p.lines() {
			if rec["msg"] == msg && strings.Contains(stringOf(rec[key]), want) {
				return rec
			}
		}
		select {
		case code := <-p.exited:
			p.t.Fatalf("exited %d before logging %q with %s %q:\n%s", code, msg, key, want, p.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.t.Fatalf("no %q with %s %q in the log:\n%s", msg, key, want, p.stderr)
	return nil
}

func (p *process) shutdown() int {
	if p.stop == nil {
		return 0
	}
	p.stop()
	p.stop = nil
	select {
	case code := <-p.exited:
		return code
	case <-time.After(time.Minute):
		p.t.Fatalf("did not stop within a minute:\n%s", p.stderr)
		return -1
	}
}

func stringOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// getJSON fetches url and decodes a JSON answer.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// waitStatus polls url until it answers want.
func waitStatus(t *testing.T, url string, want int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, body := getJSON(t, url)
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s answers %d %v, want %d", url, code, body, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// lateTemporal starts the embedded Temporal server on port, serving only
// the default namespace.
func lateTemporal(t *testing.T, port int) *devserver.Server {
	t.Helper()
	srv, err := devserver.Start(t.Context(), devserver.Options{DataDir: t.TempDir(), FrontendPort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// TestWorkerWaitsForALateTemporal starts `tidings worker` before its
// Temporal server exists: it waits, saying the frontend is not answering,
// then (the server up, the namespace not) that the namespace is not
// registered and how to create it; /healthz and /readyz say the same.
// Once the namespace is registered the worker polls, a stored signup is
// routed and welcomed, and /metrics shows the Temporal SDK's series and
// Tidings' own. Every line it logs is JSON.
func TestWorkerWaitsForALateTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s := migratedEnv(t)
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	port := freeTCPPort(t)
	env["TIDINGS_TEMPORAL_ADDRESS"] = "127.0.0.1:" + strconv.Itoa(port)
	env["TIDINGS_TEMPORAL_NAMESPACE"] = "shop-prod"
	env["TIDINGS_TEMPORAL_TASK_QUEUE"] = "late-worker"
	env["TIDINGS_SMTP_URL"] = sink.URL()
	env["TIDINGS_METRICS_ADDR"] = "127.0.0.1:0"

	p := startProcess(t, env, "worker", "--outbox-interval", "200ms")
	ops := "http://" + stringOf(p.waitLog("metrics and health endpoints listening", "addr", "127.0.0.1:")["addr"])
	p.waitLog("waiting for Temporal", "reason", "127.0.0.1:"+strconv.Itoa(port)+" is not answering")
	code, health := getJSON(t, ops+"/healthz")
	checks, _ := health["checks"].(map[string]any)
	if code != http.StatusServiceUnavailable || !strings.Contains(stringOf(checks["temporal"]), "not answering") || checks["database"] != "ok" {
		t.Errorf("/healthz while Temporal is down: %d %v", code, health)
	}
	if code, ready := getJSON(t, ops+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Temporal is down: %d %v, want 503", code, ready)
	}

	srv := lateTemporal(t, port)
	p.waitLog("waiting for Temporal", "reason", `no namespace "shop-prod"`)
	rec := p.waitLog("waiting for Temporal", "reason", "temporal operator namespace create --namespace shop-prod")
	if rec["level"] != "WARN" {
		t.Errorf("waiting is logged at %v, want WARN", rec["level"])
	}
	c, err := client.Dial(srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WorkflowService().RegisterNamespace(t.Context(), &workflowservice.RegisterNamespaceRequest{
		Namespace: "shop-prod", WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	ready := waitStatus(t, ops+"/readyz", http.StatusOK)
	if checks, _ := ready["checks"].(map[string]any); checks["worker"] != "polling" {
		t.Errorf("/readyz of a polling worker: %v", ready)
	}
	waitStatus(t, ops+"/healthz", http.StatusOK)

	cust, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ada@example.com"),
		FirstName: testdb.String("Ada"), TimeZone: testdb.String("Asia/Shanghai")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent(t.Context(), store.EventInput{EventID: "signup-1", CustomerID: cust.ID, Type: "signup", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for sink.Count() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if sink.Count() != 1 {
		t.Fatalf("%d emails after the signup, want the welcome; log:\n%s", sink.Count(), p.stderr)
	}
	for {
		m, err := testdb.MessageByKey(t.Context(), s, "onboarding/"+cust.ID+"/"+runIDOf(t, s, cust.ID)+"/welcome")
		if err == nil && m.Status == store.StatusSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the welcome is not recorded as sent: %+v %v", m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	metrics := scrape(t, ops+"/metrics")
	for _, want := range []string{
		`tidings_messages_total{channel="email",journey="onboarding",reason="",status="sent",template="welcome",topic="care"} 1`,
		`tidings_send_duration_seconds_count{channel="email"} 1`,
		`tidings_send_slot_seconds_total{channel="email",phase="relay"}`,
		`tidings_send_slot_seconds_total{channel="email",phase="record"}`,
		`tidings_batch_messages_pending 0`,
		`tidings_events_routed_total{journey="onboarding",outcome="delivered"} 1`,
		`tidings_event_outbox 0`,
		`tidings_event_outbox_oldest_age_seconds 0`,
		`tidings_messages{channel="email",status="sent"} 1`,
		`temporal_workflow_task_execution_latency_seconds_bucket`,
		`temporal_request_total`,
		`temporal_activity_execution_latency_seconds_bucket`,
		`temporal_worker_task_slots_available`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The dashboard reads only series a worker serves (and the API's HTTP
	// series, which TestAPIServesWhileTemporalIsLate's process serves).
	dash, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`tidings_[a-z_]+`).FindAllString(string(dash), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if !strings.HasPrefix(base, "tidings_http_") && !strings.Contains(metrics, "# TYPE "+base+" ") {
			t.Errorf("the dashboard reads %s, which /metrics does not serve", name)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
	if code := p.shutdown(); code != 0 {
		t.Errorf("worker exited %d after SIGTERM, want 0", code)
	}
	for _, rec := range p.lines() {
		if rec["level"] == "ERROR" {
			t.Errorf("error logged: %v", rec)
		}
	}
}

// TestAPIServesWhileTemporalIsLate starts `tidings api` with Temporal not
// there yet: it stores events at once (they wait in the outbox), /readyz
// says ready and /healthz names Temporal as waiting. When Temporal comes,
// the default schedules are created and the waiting events are routed.
func TestAPIServesWhileTemporalIsLate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s := migratedEnv(t)
	port := freeTCPPort(t)
	env["TIDINGS_TEMPORAL_ADDRESS"] = "127.0.0.1:" + strconv.Itoa(port)
	env["TIDINGS_TEMPORAL_TASK_QUEUE"] = "late-api"
	env["TIDINGS_API_ADDR"] = "127.0.0.1:0"
	_, key, err := s.CreateAPIKey(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ada@example.com")}); err != nil {
		t.Fatal(err)
	}

	p := startProcess(t, env, "api", "--outbox-interval", "200ms")
	api := "http://" + stringOf(p.waitLog("HTTP API listening", "addr", "127.0.0.1:")["addr"])
	p.waitLog("waiting for Temporal", "reason", "is not answering")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api+"/v1/events",
		strings.NewReader(`{"event_id":"signup-1","customer":"C-1","type":"signup"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("POST /v1/events while Temporal is down: %s", res.Status)
	}
	if code, body := getJSON(t, api+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz of the API while Temporal is down: %d %v, want 200 (events are stored)", code, body)
	}
	code, health := getJSON(t, api+"/healthz")
	if checks, _ := health["checks"].(map[string]any); code != http.StatusServiceUnavailable || !strings.HasPrefix(stringOf(checks["temporal"]), "waiting:") {
		t.Errorf("/healthz while Temporal is down: %d %v", code, health)
	}

	srv := lateTemporal(t, port)
	p.waitLog("default schedules created", "schedules", "birthday-sweep")
	waitStatus(t, api+"/healthz", http.StatusOK)
	c, err := client.Dial(srv.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, id := range []string{"birthday-sweep", "winback-sweep"} {
		if _, err := c.ScheduleClient().GetHandle(t.Context(), id).Describe(t.Context()); err != nil {
			t.Errorf("schedule %s after Temporal came: %v", id, err)
		}
	}
	waitRouted(t, s, p.stderr)
	if code := p.shutdown(); code != 0 {
		t.Errorf("api exited %d after SIGTERM, want 0", code)
	}
	p.lines() // every line JSON
}

// TestStartupFailuresAreJSON: with --log-format json, a configuration that
// does not load and a database that is not there are reported as one JSON
// record each, and nothing else is written.
func TestStartupFailuresAreJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
		code int
	}{
		{map[string]string{"TIDINGS_QUIET_HOURS": "late"}, "TIDINGS_QUIET_HOURS", exitUsage},
		{map[string]string{"TIDINGS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable",
			"TIDINGS_SIGNING_SECRET": "a-test-signing-secret-0123"}, "127.0.0.1:1", exitFailure},
	} {
		r := tidings(t, tc.env, "--log-format", "json", "worker")
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		var rec map[string]any
		if r.code != tc.code || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil ||
			rec["level"] != "ERROR" || !strings.Contains(stringOf(rec["err"]), tc.want) {
			t.Errorf("want exit %d and one JSON error naming %s, got\n%s", tc.code, tc.want, r)
		}
	}
}
