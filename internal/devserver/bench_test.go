package devserver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/internal/testdb"
)

// noop is the cheapest activity: the benchmark measures the server's
// persistence, not the work.
func noop(context.Context) error { return nil }

// oneActivityWorkflow is a journey reduced to its bones: one step, one
// activity, done.
func oneActivityWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, noop).Get(ctx, nil)
}

// journeyWorkflow has the shape of a journey's first day: claim the run,
// load the profile, send the first message, then wait on a long timer until
// an event arrives, and record the outcome. Each step is a history write,
// as in onboarding or a survey.
func journeyWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range 3 {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(ctx, 48*time.Hour), func(workflow.Future) {})
	sel.AddReceive(workflow.GetSignalChannel(ctx, "event"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.Select(ctx)
	return workflow.ExecuteActivity(ctx, noop).Get(ctx, nil)
}

// runBatch starts n one-activity workflows at once and waits for all of them.
func runBatch(tb testing.TB, c client.Client, prefix string, n int) time.Duration {
	return runWorkflows(tb, c, prefix, n, oneActivityWorkflow, false)
}

// runJourneys starts n journey-shaped workflows at once, sends each its
// event, and waits for all of them.
func runJourneys(tb testing.TB, c client.Client, prefix string, n int) time.Duration {
	return runWorkflows(tb, c, prefix, n, journeyWorkflow, true)
}

func runWorkflows(tb testing.TB, c client.Client, prefix string, n int, wf any, signal bool) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("%s-%d", prefix, i)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, wf)
			if err == nil && signal {
				err = c.SignalWorkflow(ctx, id, "", "event", "purchase")
			}
			if err == nil {
				err = run.Get(ctx, nil)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("workflow: %v", err)
	}
	return time.Since(begin)
}

// BenchmarkPersistence runs the same workload (batches of workflows each
// running one no-op activity, started together and awaited) on a SQLite
// and a PostgreSQL server in the same run, alternating batches so machine
// load affects both alike, and reports workflows/s for each and their ratio.
//
//	go test ./internal/devserver -run '^$' -bench Persistence -benchtime 5x
func BenchmarkPersistence(b *testing.B) { comparePersistence(b, runBatch, "wf/s") }

// BenchmarkPersistenceJourney is BenchmarkPersistence on journey-shaped
// workflows (three activities, a timer raced by a signal, a last activity),
// the work `tidings dev` mostly does.
//
//	go test ./internal/devserver -run '^$' -bench PersistenceJourney -benchtime 5x
func BenchmarkPersistenceJourney(b *testing.B) { comparePersistence(b, runJourneys, "journeys/s") }

// comparePersistence runs batches of 100 on a SQLite and a PostgreSQL
// server in the same run, alternating so machine load affects both alike,
// and reports the rate of each (unit) and their ratio.
func comparePersistence(b *testing.B, run func(testing.TB, client.Client, string, int) time.Duration, unit string) {
	const batch = 100
	dsn := testdb.Create(b)
	dropTemporalDatabases(b, dsn)
	sqlite := start(b, Options{DataDir: b.TempDir(), FrontendPort: AnyPort, Logger: testLogger(b)})
	postgres := start(b, Options{Persistence: Postgres, PostgresURL: dsn, FrontendPort: AnyPort, Logger: testLogger(b)})
	run(b, sqlite.client, "warm", 10)
	run(b, postgres.client, "warm", 10)

	var onSQLite, onPostgres time.Duration
	round := 0
	for b.Loop() {
		round++
		onSQLite += run(b, sqlite.client, fmt.Sprintf("r%d", round), batch)
		onPostgres += run(b, postgres.client, fmt.Sprintf("r%d", round), batch)
	}
	total := float64(round * batch)
	sqliteRate, postgresRate := total/onSQLite.Seconds(), total/onPostgres.Seconds()
	b.ReportMetric(sqliteRate, "sqlite-"+unit)
	b.ReportMetric(postgresRate, "postgres-"+unit)
	b.ReportMetric(postgresRate/sqliteRate, "postgres/sqlite")
}
