package devserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/internal/testdb"
)

const taskQueue = "devserver-test"

// napWorkflow sleeps for an hour unless woken by a "wake" signal, like a
// journey waiting for its next step.
func napWorkflow(ctx workflow.Context) (string, error) {
	timer := workflow.NewTimer(ctx, time.Hour)
	woken := ""
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) { woken = "timer" })
	sel.AddReceive(workflow.GetSignalChannel(ctx, "wake"), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, &woken)
	})
	sel.Select(ctx)
	return woken, nil
}

// testLogger shows the server's warnings in the test log only when the
// test fails.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// running is a started server with a client and a worker on taskQueue.
type running struct {
	srv    *Server
	client client.Client
	worker worker.Worker
}

func start(t testing.TB, opt Options) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := Start(ctx, opt)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	o := srv.ClientOptions()
	o.Logger = quietSDKLogger{}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		srv.Stop()
		t.Fatalf("dial: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(napWorkflow)
	w.RegisterActivity(noop)
	w.RegisterWorkflow(oneActivityWorkflow)
	w.RegisterWorkflow(journeyWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	r := &running{srv: srv, client: c, worker: w}
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	if r.srv == nil {
		return
	}
	r.worker.Stop()
	r.client.Close()
	r.srv.Stop()
	r.srv = nil
}

// timerState reads the workflow's history: whether the hour timer was
// started and whether it fired.
func timerState(t *testing.T, c client.Client, id string) (started, fired bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			if d := e.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration(); d != time.Hour {
				t.Errorf("timer duration %v, want 1h", d)
			}
			started = true
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			fired = true
		}
	}
	return started, fired
}

// checkSurvivesRestart starts a sleeping workflow, restarts the server on
// the same persistence and shows the workflow still running with its timer
// pending, then wakes it to prove it continues where it was.
func checkSurvivesRestart(t *testing.T, opt Options) {
	r := start(t, opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const id = "journey/nap/customer-1"
	if _, err := r.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, napWorkflow); err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	for {
		if started, _ := timerState(t, r.client, id); started {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the workflow never started its timer")
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.stop()

	r = start(t, opt)
	desc, err := r.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatalf("describe after restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("status after restart = %v, want running", st)
	}
	if started, fired := timerState(t, r.client, id); !started || fired {
		t.Fatalf("after restart: timer started=%v fired=%v, want a pending timer", started, fired)
	}

	if err := r.client.SignalWorkflow(ctx, id, "", "wake", "signal"); err != nil {
		t.Fatalf("signal: %v", err)
	}
	var woken string
	if err := r.client.GetWorkflow(ctx, id, "").Get(ctx, &woken); err != nil {
		t.Fatalf("result: %v", err)
	}
	if woken != "signal" {
		t.Errorf("woken by %q, want signal", woken)
	}
}

func TestSQLiteSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	checkSurvivesRestart(t, Options{DataDir: dir, FrontendPort: AnyPort, Logger: testLogger(t)})
	for _, f := range []string{"temporal.db", "temporal-visibility.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no database file %s: %v", f, err)
		}
	}
}

func TestSQLiteDirectoryFromBeforeTheSplitKeepsItsVisibilityRecords(t *testing.T) {
	dir := t.TempDir()
	if _, err := sqliteStore(filepath.Join(dir, sqliteFile)); err != nil {
		t.Fatal(err)
	}
	st, err := prepareSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.visibility != nil {
		t.Errorf("visibility in %s; want it where the existing workflows are listed, in %s", st.visibility.DatabaseName, sqliteFile)
	}
	if _, err := os.Stat(filepath.Join(dir, sqliteVisibilityFile)); err == nil {
		t.Errorf("%s was created beside an existing %s", sqliteVisibilityFile, sqliteFile)
	}
}

// TestSQLiteVisibilityListsWithFewerIndexes shows the lists still answer,
// through a kept index and through a dropped one, and that the file keeps
// only the listed indexes, also in a directory from before the split.
func TestSQLiteVisibilityListsWithFewerIndexes(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{DataDir: dir, FrontendPort: AnyPort, Logger: testLogger(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, id := range []string{"journey/nap/customer-1", "journey/nap/customer-2"} {
		if _, err := r.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, napWorkflow); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
	}
	if err := r.client.SignalWorkflow(ctx, "journey/nap/customer-1", "", "wake", "signal"); err != nil {
		t.Fatal(err)
	}
	if err := r.client.GetWorkflow(ctx, "journey/nap/customer-1", "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{
		"WorkflowType = 'napWorkflow'":                        "journey/nap/customer-1 journey/nap/customer-2",
		"ExecutionStatus = 'Running'":                         "journey/nap/customer-2",
		"HistoryLength > 0 AND ExecutionStatus = 'Completed'": "journey/nap/customer-1", // no index left
	} {
		if got := listWorkflowIDs(ctx, t, r.client, query, want); got != want {
			t.Errorf("list %q = %q, want %q", query, got, want)
		}
	}
	r.stop()
	if got, want := visibilityIndexes(t, filepath.Join(dir, sqliteVisibilityFile)), strings.Join(sorted(listedBy), " "); got != want {
		t.Errorf("visibility indexes = %s\nwant %s", got, want)
	}

	old := t.TempDir()
	if _, err := sqliteStore(filepath.Join(old, sqliteFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareSQLite(old); err != nil {
		t.Fatal(err)
	}
	if got, want := visibilityIndexes(t, filepath.Join(old, sqliteFile)), strings.Join(sorted(listedBy), " "); got != want {
		t.Errorf("visibility indexes in a directory from before the split = %s\nwant %s", got, want)
	}
}

// listWorkflowIDs lists the IDs a visibility query matches, sorted, waiting
// for want: visibility records are written after the workflow changes.
func listWorkflowIDs(ctx context.Context, t *testing.T, c client.Client, query, want string) string {
	t.Helper()
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list %q: %v", query, err)
		}
		var ids []string
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		got := strings.Join(sorted(ids), " ")
		select {
		case <-ctx.Done():
			return got
		case <-time.After(100 * time.Millisecond):
		}
		if got == want {
			return got
		}
	}
}

// visibilityIndexes names the indexes on the visibility table at path.
func visibilityIndexes(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, " ")
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestPostgresSurvivesRestart(t *testing.T) {
	dsn := testdb.Create(t)
	dropTemporalDatabases(t, dsn)
	checkSurvivesRestart(t, Options{Persistence: Postgres, PostgresURL: dsn, FrontendPort: AnyPort, Logger: testLogger(t)})
}

// dropTemporalDatabases removes the databases Start creates beside dsn's
// when the test ends (after the server stopped: cleanups run last-in first-out).
func dropTemporalDatabases(t testing.TB, dsn string) {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimPrefix(u.Path, "/")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, testdb.AdminURL())
		if err != nil {
			t.Logf("drop temporal databases: %v", err)
			return
		}
		defer conn.Close(ctx)
		for _, db := range []string{base + "_temporal", base + "_temporal_visibility"} {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
				t.Logf("drop %s: %v", db, err)
			}
		}
	})
}

func TestWebUIServesTheNamespace(t *testing.T) {
	r := start(t, Options{DataDir: t.TempDir(), FrontendPort: AnyPort, UIPort: AnyPort, Namespace: "tidings-ui", Logger: testLogger(t)})
	if r.srv.UIURL() == "" {
		t.Fatal("no UI URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The UI's API proxies to the embedded frontend: the namespace we
	// registered must come back through it.
	var body string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.UIURL()+"/api/v1/namespaces/tidings-ui", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body = string(b)
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("UI never answered for the namespace; last body %q, err %v", body, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	var reply struct {
		NamespaceInfo struct{ Name string } `json:"namespaceInfo"`
		Config        struct {
			Retention string `json:"workflowExecutionRetentionTtl"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(body), &reply); err != nil {
		t.Fatalf("namespace reply %q: %v", body, err)
	}
	if reply.NamespaceInfo.Name != "tidings-ui" || reply.Config.Retention != "604800s" {
		t.Errorf("namespace via UI = %+v, want tidings-ui with 7-day retention", reply)
	}
	res, err := http.Get(r.srv.UIURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
		t.Errorf("UI page: status %d, %d bytes", res.StatusCode, len(page))
	}
}

func TestOptionsAreChecked(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{}, "Logger is required"},
		{Options{Logger: testLogger(t), Persistence: "mysql"}, `persistence "mysql"`},
		{Options{Logger: testLogger(t), Persistence: Postgres}, "PostgresURL is required"},
	} {
		_, err := Start(ctx, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%+v) = %v, want error containing %q", tc.opt, err, tc.want)
		}
	}
	// A busy frontend port is named in the error instead of failing deep
	// inside the server.
	r := start(t, Options{DataDir: t.TempDir(), FrontendPort: AnyPort, Logger: testLogger(t)})
	port := r.srv.FrontendHostPort()[strings.LastIndex(r.srv.FrontendHostPort(), ":")+1:]
	_, err := Start(ctx, Options{DataDir: t.TempDir(), FrontendPort: atoi(t, port), Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "port "+port+" is not free") {
		t.Errorf("second server on the same port: %v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Error("busy port should fail fast")
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
