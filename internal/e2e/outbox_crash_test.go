package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/router"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// deliveries records which events a router's Temporal calls carried.
type deliveries struct {
	router.Temporal
	mu   sync.Mutex
	seen map[string]int
	// after, when set, is called once after that many calls reached
	// Temporal; every later call fails, as in a process that died.
	after int
	die   func()
	dead  atomic.Bool
	calls atomic.Int64
}

var errKilled = errors.New("process killed")

func (d *deliveries) record(arg any) {
	ev, _ := arg.(workflows.Event)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen[ev.EventID]++
}

func (d *deliveries) reached() {
	if n := d.calls.Add(1); d.after > 0 && n == int64(d.after) {
		d.die()
		d.dead.Store(true)
	}
}

func (d *deliveries) SignalWithStartWorkflow(ctx context.Context, id, signal string, arg any,
	o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	if d.dead.Load() {
		return nil, errKilled
	}
	run, err := d.Temporal.SignalWithStartWorkflow(ctx, id, signal, arg, o, wf, args...)
	if err == nil {
		d.record(arg)
		d.reached()
	}
	return run, err
}

func (d *deliveries) SignalWorkflow(ctx context.Context, id, runID, signal string, arg any) error {
	if d.dead.Load() {
		return errKilled
	}
	err := d.Temporal.SignalWorkflow(ctx, id, runID, signal, arg)
	if err == nil {
		d.record(arg)
		d.reached()
	}
	return err
}

// TestEventsRedeliveredAfterACrashActOnce kills a process in the middle of
// its outbox transaction, after Temporal accepted some of its deliveries
// and before the transaction marked them routed: its PostgreSQL session
// dies, the row locks go, nothing is committed. Another process drains the
// outbox and delivers those events again (delivery is at least once), and
// no journey acts twice on one: every customer gets one onboarding run and
// one welcome.
func TestEventsRedeliveredAfterACrashActOnce(t *testing.T) {
	e := newEnv(t, setup{NoOutbox: true})
	const n, killAfter = 60, 20
	zone := awake(t)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.customer(store.CustomerInput{ExternalID: fmt.Sprintf("C-%d", i),
			Email: ptr(fmt.Sprintf("c%d@shop.example", i)), FirstName: ptr("Ada"), TimeZone: ptr(zone)})
		if _, err := e.store.RecordEvent(t.Context(), store.EventInput{EventID: fmt.Sprintf("signup-%d", i),
			CustomerID: ids[i], Type: workflows.EventSignup, OccurredAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}

	// The process that dies has its own pool, named so its sessions can be
	// ended from outside, as the kernel ends them when the process is
	// killed.
	dying, err := store.Open(t.Context(), e.dsn+"&application_name=dying-router")
	if err != nil {
		t.Fatal(err)
	}
	defer dying.Close()
	crashed := &deliveries{Temporal: e.temporal, seen: map[string]int{}, after: killAfter, die: func() {
		if _, err := e.store.Pool().Exec(context.Background(),
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dying-router'`); err != nil {
			t.Errorf("end the dying process's sessions: %v", err)
		}
	}}
	routed, err := router.New(dying, crashed, router.Options{TaskQueue: e.queue, BatchSize: n}).Drain(t.Context())
	if err == nil || routed != 0 {
		t.Fatalf("the dying process's drain = %d routed, %v; want it to fail with nothing routed", routed, err)
	}
	if o, err := e.store.OutboxStats(t.Context()); err != nil || o.Size != n {
		t.Fatalf("outbox after the crash: %+v, %v; want all %d events still there", o, err, n)
	}

	healthy := &deliveries{Temporal: e.temporal, seen: map[string]int{}}
	if _, err := router.New(e.store, healthy, router.Options{TaskQueue: e.queue}).Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	redelivered := 0
	for id := range crashed.seen {
		if healthy.seen[id] > 0 {
			redelivered++
		}
	}
	t.Logf("events delivered by the process that died: %d; delivered again after the crash: %d (of %d)", len(crashed.seen), redelivered, n)
	if len(crashed.seen) < killAfter || len(crashed.seen) >= n || redelivered != len(crashed.seen) || len(healthy.seen) != n {
		t.Errorf("delivered %d before the crash, %d of them again, %d after; want every event once after and the crashed ones again",
			len(crashed.seen), redelivered, len(healthy.seen))
	}

	for i, id := range ids {
		e.waitMail(fmt.Sprintf("c%d@shop.example", i), 1)
		runs, err := e.store.JourneyRuns(t.Context(), workflows.Onboarding, id)
		if err != nil || len(runs) != 1 {
			t.Errorf("customer %d: onboarding runs %+v, %v; want one", i, runs, err)
		}
		var welcomes int
		for _, m := range e.ledger(id) {
			if strings.HasSuffix(m.IdempotencyKey, "/welcome") {
				welcomes++
			}
		}
		if welcomes != 1 {
			t.Errorf("customer %d: %d welcomes in the ledger, want 1", i, welcomes)
		}
	}
	for i := range ids {
		if got := len(e.mailTo(fmt.Sprintf("c%d@shop.example", i))); got != 1 {
			t.Errorf("customer %d got %d emails, want the one welcome", i, got)
		}
	}
}
