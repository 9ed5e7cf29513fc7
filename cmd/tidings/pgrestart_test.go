package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// dbProxy stands between a process and PostgreSQL. cut drops every
// connection and refuses new ones, as a restarting server does, until
// restore.
type dbProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func startDBProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *dbProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *dbProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// proxiedEnv is migratedEnv with the process's database behind a proxy the
// test controls and a Temporal server to route to.
func proxiedEnv(t *testing.T) (map[string]string, *store.Store, *dbProxy, *temporaltest.TestServer) {
	t.Helper()
	env, s := migratedEnv(t)
	u, err := url.Parse(env["TIDINGS_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	proxy := startDBProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	env["TIDINGS_DATABASE_URL"] = u.String() + "&connect_timeout=2"
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	env["TIDINGS_TEMPORAL_ADDRESS"] = srv.GetFrontendHostPort()
	env["TIDINGS_TEMPORAL_NAMESPACE"] = srv.GetDefaultNamespace()
	return env, s, proxy, srv
}

// waitRouted waits until the outbox is empty: every stored event routed.
func waitRouted(t *testing.T, s *store.Store, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		o, err := s.OutboxStats(t.Context())
		if err == nil && o.Size == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored events not routed: %+v %v\n%s", o, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestIngestAcrossAPostgreSQLRestart posts events to `tidings api` while
// its PostgreSQL goes away and comes back (a proxy drops every connection
// and refuses new ones for two seconds). Every event the API answers 2xx
// for is in the database at that moment; what it could not store is
// answered 5xx, never 4xx; a client retrying gets every event stored once,
// and every stored event is routed afterwards.
func TestIngestAcrossAPostgreSQLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s, proxy, _ := proxiedEnv(t)
	env["TIDINGS_TEMPORAL_TASK_QUEUE"] = "pg-restart"
	env["TIDINGS_API_ADDR"] = "127.0.0.1:0"
	_, key, err := s.CreateAPIKey(t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	const customers, events = 10, 120
	for i := range customers {
		if _, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: fmt.Sprintf("C-%d", i),
			Email: testdb.String(fmt.Sprintf("c%d@example.com", i))}); err != nil {
			t.Fatal(err)
		}
	}
	p := startProcess(t, env, "api", "--outbox-interval", "200ms")
	api := "http://" + stringOf(p.waitLog("HTTP API listening", "addr", "127.0.0.1:")["addr"])

	post := func(i int) int {
		typ := "page_view"
		if i%4 == 0 {
			typ = "purchase"
		}
		body := fmt.Sprintf(`{"event_id":"ev-%d","customer":"C-%d","type":%q,"properties":{"amount":12.5}}`, i, i%customers, typ)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, api+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST ev-%d: %v", i, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	stored := func(i int) bool {
		var n int
		if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events WHERE event_id = $1`, fmt.Sprintf("ev-%d", i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var refused, retries int
	cutAt, restoreAt := events/3, events/3+20
	var downSince time.Time
	for i := 0; i < events; i++ {
		if i == cutAt {
			proxy.cut()
			downSince = time.Now()
		}
		for attempt := 0; ; attempt++ {
			if !downSince.IsZero() && (i >= restoreAt || time.Since(downSince) > 2*time.Second) {
				proxy.restore()
				downSince = time.Time{}
			}
			code := post(i)
			if code >= 200 && code < 300 {
				if !stored(i) {
					t.Fatalf("ev-%d answered %d but is not in the database", i, code)
				}
				break
			}
			if code < 500 {
				t.Fatalf("ev-%d answered %d while the database was away; want 5xx", i, code)
			}
			refused++
			if attempt > 100 {
				t.Fatalf("ev-%d still refused after %d attempts", i, attempt)
			}
			retries++
			time.Sleep(100 * time.Millisecond)
		}
	}
	if refused == 0 {
		t.Error("no request was refused while the database was away: the cut did not happen")
	}
	t.Logf("%d events posted; %d answers were 5xx while PostgreSQL was away, each retried", events, refused)
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM events WHERE event_id LIKE 'ev-%'`).Scan(&n); err != nil || n != events {
		t.Errorf("%d events stored (%v), want %d, each once", n, err, events)
	}
	waitRouted(t, s, p.stderr)
	if code := p.shutdown(); code != 0 {
		t.Errorf("api exited %d, want 0", code)
	}
}

// TestSendingAcrossAPostgreSQLRestart runs a care send to 300 customers
// through `tidings worker` while its PostgreSQL goes away for three
// seconds in the middle: the send finishes afterwards, every customer gets
// the message, and no one gets it twice.
func TestSendingAcrossAPostgreSQLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s, proxy, srv := proxiedEnv(t)
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	env["TIDINGS_TEMPORAL_TASK_QUEUE"] = "pg-restart-send"
	env["TIDINGS_SMTP_URL"] = sink.URL()
	env["TIDINGS_QUIET_HOURS"] = "00:00-00:00"
	env["TIDINGS_METRICS_ADDR"] = "127.0.0.1:0"
	const n = 300
	testdb.MustExec(t, s, `INSERT INTO customers (external_id, email, first_name, time_zone, tags)
		SELECT 'R-' || g, 'r' || g || '@example.com', 'Ada', 'UTC', ARRAY['restart'] FROM generate_series(1, $1::int) g`, n)

	p := startProcess(t, env, "worker")
	p.waitLog("worker started", "task_queue", "pg-restart-send")
	run, err := srv.GetDefaultClient().ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{TaskQueue: "pg-restart-send"},
		workflows.CareSendWorkflow, workflows.CareSendInput{Template: "care", Topic: "care", Tag: "restart", RunKey: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	for sink.Count() < n/3 {
		time.Sleep(5 * time.Millisecond)
	}
	proxy.cut()
	time.Sleep(3 * time.Second)
	proxy.restore()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("care send after PostgreSQL came back: %v\n%s", err, p.stderr)
	}
	got := map[string]int{}
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	twice := 0
	for _, c := range got {
		if c > 1 {
			twice++
		}
	}
	var sent int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE status = 'sent' AND idempotency_key LIKE 'care/restart/%'`).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d customers, %d got the message, %d got it more than once, %d sent in the ledger", n, len(got), twice, sent)
	if len(got) != n || twice != 0 || sent != n {
		t.Errorf("after the restart: %d of %d customers got the message, %d twice, ledger %d sent; want each once", len(got), n, twice, sent)
	}
}
