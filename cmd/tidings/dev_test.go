package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// syncBuffer is a bytes.Buffer the command writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devRun is one `tidings dev` process run in-process, with what its banner
// says.
type devRun struct {
	t              *testing.T
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	exited         chan int
	api, key, ui   string
	temporal       string
}

// startDev runs `tidings dev` with every port chosen by the system and
// waits for its banner.
func startDev(t *testing.T, env map[string]string, dataDir string, extra ...string) *devRun {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	d := &devRun{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: stop, exited: make(chan int, 1)}
	a := &app{getenv: func(k string) string { return env[k] }, stdout: d.stdout, stderr: d.stderr, stdin: strings.NewReader("")}
	args := append([]string{"dev", "--data-dir", dataDir, "--temporal-port", "0", "--ui-port", "0", "--smtp-addr", "127.0.0.1:0"}, extra...)
	go func() { d.exited <- run(ctx, a, args) }()
	t.Cleanup(func() { d.shutdown() })

	field := func(label string) string {
		m := regexp.MustCompile(`(?m)^  ` + label + ` {2,}(\S+)`).FindStringSubmatch(d.stdout.String())
		if m == nil {
			return ""
		}
		return m[1]
	}
	d.waitOutput("the banner", "Try it:")
	d.api = strings.TrimSuffix(field("HTTP API"), "/v1")
	d.key, d.ui, d.temporal = field("API key"), field("Temporal UI"), field("Temporal")
	if d.api == "" || d.key == "" || d.ui == "" || d.temporal == "" {
		t.Fatalf("banner lacks an address:\n%s", d.stdout.String())
	}
	return d
}

// waitOutput waits until stdout contains want.
func (d *devRun) waitOutput(what, want string) {
	d.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(d.stdout.String(), want) {
		select {
		case code := <-d.exited:
			d.t.Fatalf("tidings dev exited %d before %s\nstdout:\n%s\nstderr:\n%s", code, what, d.stdout, d.stderr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no %s from tidings dev\nstdout:\n%s\nstderr:\n%s", what, d.stdout, d.stderr)
		}
	}
}

// shutdown stops the command as Ctrl-C does and returns its exit code.
func (d *devRun) shutdown() int {
	if d.stop == nil {
		return 0
	}
	d.stop()
	d.stop = nil
	select {
	case code := <-d.exited:
		return code
	case <-time.After(time.Minute):
		d.t.Fatalf("tidings dev did not stop within a minute\nstderr:\n%s", d.stderr)
		return -1
	}
}

// call sends a JSON request with the dev API key and decodes the answer.
func (d *devRun) call(method, path, body string, out any) {
	d.t.Helper()
	req, _ := http.NewRequestWithContext(d.t.Context(), method, d.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		d.t.Fatalf("%s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			d.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// page fetches a page the way a browser would.
func (d *devRun) page(url string) (int, string) {
	d.t.Helper()
	res, err := http.Get(url)
	if err != nil {
		d.t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDevRunsTheWholeProduct starts `tidings dev --demo` on an empty
// database, signs a customer up through the printed API with the
// printed key, and finds the welcome on the catcher's page, beside the demo
// company's welcomes. Stopped as by Ctrl-C and started again, the customer's
// onboarding is still waiting for its next step and still hears events; the
// demo company is not loaded twice.
func TestDevRunsTheWholeProduct(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env := map[string]string{
		"TIDINGS_DATABASE_URL": testdb.Create(t), // empty: the command migrates it
		"TIDINGS_API_ADDR":     "127.0.0.1:0",
		"TIDINGS_LOG_LEVEL":    "warn",
	}
	dataDir := t.TempDir()
	d := startDev(t, env, dataDir, "--demo", "--demo-customers", "150")

	var created struct {
		Customer struct {
			ID string `json:"id"`
		} `json:"customer"`
	}
	d.call(http.MethodPut, "/v1/customers/ada", `{"email":"ada@example.com","first_name":"Ada","time_zone":"Europe/London"}`, &created)
	d.call(http.MethodPost, "/v1/events", `{"event_id":"signup-ada","customer":"ada","type":"signup"}`, nil)

	catcher := d.api + "/dev/"
	if !strings.Contains(d.stdout.String(), catcher) {
		t.Errorf("banner does not point at the catcher page %s:\n%s", catcher, d.stdout)
	}
	d.waitOutput("the demo's sign-ups", " sign-ups posted")
	m := regexp.MustCompile(`demo: (\d+) sign-ups posted`).FindStringSubmatch(d.stdout.String())
	signups, _ := strconv.Atoi(m[1])
	if signups == 0 {
		t.Fatalf("the demo signed nobody up:\n%s", d.stdout)
	}
	welcome := regexp.MustCompile(`>(Welcome to|欢迎加入|歡迎加入)`)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, body := d.page(catcher)
		if strings.Contains(body, "ada@example.com") && len(welcome.FindAllString(body, -1)) >= signups+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("catcher page never listed Ada's welcome and the %d demo welcomes:\n%s\nstdout:\n%s\nstderr:\n%s", signups, body, d.stdout, d.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := d.page(d.ui); code != http.StatusOK {
		t.Errorf("Temporal Web UI at %s answered %d", d.ui, code)
	}
	checkConsoleLink(t, d)
	d.waitOutput("the demo's report", "demo: watch the mail arrive")
	if !strings.Contains(d.stdout.String(), "demo: 150 customers (150 new") {
		t.Errorf("first start did not load the 150 demo customers:\n%s", d.stdout)
	}
	// The refresh it runs measures the demo's two saved segments.
	if !strings.Contains(d.stdout.String(), "customers scored, 2 segment and campaign audiences measured") {
		t.Errorf("the demo's refresh measured no saved segment:\n%s", d.stdout)
	}
	if code := d.shutdown(); code != 0 {
		t.Fatalf("tidings dev exited %d after Ctrl-C\nstderr:\n%s", code, d.stderr)
	}

	d = startDev(t, env, dataDir, "--demo", "--demo-customers", "150")
	c, err := client.DialContext(t.Context(), client.Options{HostPort: d.temporal, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	journey := workflows.JourneyID(workflows.Onboarding, created.Customer.ID)
	desc, err := c.DescribeWorkflowExecution(t.Context(), journey, "")
	if err != nil {
		t.Fatalf("Ada's onboarding after the restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("Ada's onboarding after the restart is %v, want still running (waiting for the tips)", st)
	}
	d.call(http.MethodPost, "/v1/events", `{"event_id":"activated-ada","customer":"ada","type":"activated"}`, nil)
	var res workflows.OnboardingResult
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := c.GetWorkflow(ctx, journey, "").Get(ctx, &res); err != nil || res.Outcome != workflows.OutcomeConverted {
		t.Errorf("onboarding after activation: %+v, %v; want converted", res, err)
	}
	d.waitOutput("the demo's report", "demo: watch the mail arrive")
	if !strings.Contains(d.stdout.String(), "demo: 150 customers (0 new, 0 updated, 150 unchanged)") {
		t.Errorf("second start changed the demo company:\n%s", d.stdout)
	}
}

// checkConsoleLink follows the banner's console link: it signs the dev
// admin in (a session cookie, on to the overview) and works only once.
func checkConsoleLink(t *testing.T, d *devRun) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  Console {2,}(\S+)`).FindStringSubmatch(d.stdout.String())
	if m == nil || !strings.HasPrefix(m[1], d.api+"/console/login/link?token=") {
		t.Fatalf("banner has no console sign-in link:\n%s", d.stdout)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		resp, err := noFollow.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("console link, use %d: %d, want %d", i+1, resp.StatusCode, want)
		}
		if i == 0 && (resp.Header.Get("Location") != "/console/" || !strings.Contains(resp.Header.Get("Set-Cookie"), "tidings_session=")) {
			t.Fatalf("console link did not sign in: %v", resp.Header)
		}
	}
}

// quietLogger silences the test's Temporal client.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// TestDevSendsToTheConfiguredSMTPServer: with TIDINGS_SMTP_URL set to a real
// server, the welcome goes there and the catcher holds no mail.
func TestDevSendsToTheConfiguredSMTPServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	env := map[string]string{
		"TIDINGS_DATABASE_URL": testdb.Create(t),
		"TIDINGS_API_ADDR":     "127.0.0.1:0",
		"TIDINGS_LOG_LEVEL":    "warn",
		"TIDINGS_SMTP_URL":     sink.URL(),
	}
	d := startDev(t, env, t.TempDir(), "--no-ui")
	if !strings.Contains(d.stdout.String(), "mail goes to "+sink.URL()) {
		t.Errorf("banner does not say mail goes to %s:\n%s", sink.URL(), d.stdout)
	}
	d.call(http.MethodPut, "/v1/customers/bo", `{"email":"bo@example.com","first_name":"Bo","time_zone":"Asia/Taipei","locale":"zh-TW"}`, nil)
	d.call(http.MethodPost, "/v1/events", `{"event_id":"signup-bo","customer":"bo","type":"signup"}`, nil)
	deadline := time.Now().Add(time.Minute)
	for sink.Count() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "bo@example.com" {
		t.Fatalf("SMTP server got %d messages, want the welcome to bo@example.com\nstderr:\n%s", len(msgs), d.stderr)
	}
	_, body := d.page(d.api + "/dev/messages.json")
	if !strings.Contains(body, `"messages":[]`) {
		t.Errorf("catcher holds messages although mail went to the SMTP server: %s", body)
	}
}
