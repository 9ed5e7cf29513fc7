package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/workflows"
)

// TestWorkerHelpListsEveryJourney: the worker's help names every journey
// the registry declares, and `tidings schedules --help` every sweep kind, so
// neither falls behind when a journey is added.
func TestWorkerHelpListsEveryJourney(t *testing.T) {
	r := tidings(t, nil, "worker", "--help")
	for _, j := range workflows.Journeys() {
		if !strings.Contains(r.stdout, j.Name) || !strings.Contains(r.stdout, j.Summary) {
			t.Errorf("worker --help lacks journey %s (%s):\n%s", j.Name, j.Summary, r.stdout)
		}
	}
	r = tidings(t, nil, "schedules", "--help")
	for _, kind := range workflows.SweepKinds() {
		if !strings.Contains(r.stdout, kind) {
			t.Errorf("schedules --help lacks run kind %s:\n%s", kind, r.stdout)
		}
	}
}

// TestWorkerAndAPIRefuseTheDefaultSecret: with the public default signing
// secret, links and coupons could be forged, so both exit 2 saying what to
// set, before they connect to anything.
func TestWorkerAndAPIRefuseTheDefaultSecret(t *testing.T) {
	env, _ := migratedEnv(t)
	delete(env, "TIDINGS_SIGNING_SECRET")
	env["TIDINGS_TEMPORAL_ADDRESS"] = "127.0.0.1:1"
	env["TIDINGS_API_ADDR"] = "127.0.0.1:0"
	for _, cmd := range []string{"worker", "api"} {
		r := tidings(t, env, cmd)
		if r.code != exitUsage || !strings.Contains(r.stderr, "TIDINGS_SIGNING_SECRET") || !strings.Contains(r.stderr, "forge") {
			t.Errorf("tidings %s with the default signing secret: want exit 2 naming TIDINGS_SIGNING_SECRET\n%s", cmd, r)
		}
	}
}

// journeyEnv is migratedEnv with a real Temporal server and a real SMTP
// server in-process, the settings pointing at them and at task queue queue:
// what commands that run journeys need.
func journeyEnv(t *testing.T, queue string) (map[string]string, *store.Store, *temporaltest.TestServer, *smtpsink.Sink) {
	t.Helper()
	env, s := migratedEnv(t)
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	sink, err := smtpsink.Start(smtpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	env["TIDINGS_TEMPORAL_ADDRESS"] = srv.GetFrontendHostPort()
	env["TIDINGS_TEMPORAL_NAMESPACE"] = srv.GetDefaultNamespace()
	env["TIDINGS_TEMPORAL_TASK_QUEUE"] = queue
	env["TIDINGS_SMTP_URL"] = sink.URL()
	return env, s, srv, sink
}

// TestWorkerWelcomesASignupEndToEnd runs `tidings worker` against a real
// Temporal server and a real SMTP server: a stored signup event is routed
// from the outbox, the onboarding journey starts, and the welcome email
// arrives through the send path. Ending the context stops the command
// cleanly, as SIGTERM does.
func TestWorkerWelcomesASignupEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	env, s, _, sink := journeyEnv(t, "cli-e2e")

	c, _, err := s.UpsertCustomer(t.Context(), store.CustomerInput{ExternalID: "C-1", Email: testdb.String("ada@example.com"),
		FirstName: testdb.String("Ada"), TimeZone: testdb.String("Asia/Shanghai")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordEvent(t.Context(), store.EventInput{EventID: "signup-1", CustomerID: c.ID, Type: "signup", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &bytes.Buffer{}, stderr: &stderr, stdin: strings.NewReader("")}
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, a, []string{"worker", "--outbox-interval", "200ms"}) }()

	deadline := time.Now().Add(time.Minute)
	for sink.Count() == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		stop()
		t.Fatalf("%d emails arrived, want the welcome; worker log:\n%s", len(msgs), stderr.String())
	}
	h, err := msgs[0].Header()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs[0].To) != 1 || msgs[0].To[0] != "ada@example.com" || h.Get("Subject") == "" {
		t.Errorf("email to %v with subject %q, want the welcome to ada@example.com", msgs[0].To, h.Get("Subject"))
	}
	// The message arrives before the send path records its outcome.
	key := "onboarding/" + c.ID + "/" + runIDOf(t, s, c.ID) + "/welcome"
	m, err := testdb.MessageByKey(t.Context(), s, key)
	for wait := time.Now().Add(10 * time.Second); err == nil && m.Status != store.StatusSent && time.Now().Before(wait); {
		time.Sleep(50 * time.Millisecond)
		m, err = testdb.MessageByKey(t.Context(), s, key)
	}
	if err != nil || m.Status != store.StatusSent {
		t.Errorf("ledger row of the welcome: %+v, %v; want sent", m, err)
	}

	stop()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("worker exited %d after stop, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("worker did not stop")
	}
}

// runIDOf is the run ID of the customer's onboarding, from journey_runs.
func runIDOf(t *testing.T, s *store.Store, customerID string) string {
	t.Helper()
	runs, err := s.JourneyRuns(t.Context(), "onboarding", customerID)
	if err != nil || len(runs) != 1 {
		t.Fatalf("onboarding runs of %s: %+v, %v", customerID, runs, err)
	}
	return runs[0].RunID
}
