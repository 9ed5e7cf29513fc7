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

// runBatch starts n workflows at once and waits for all of them.
func runBatch(tb testing.TB, c client.Client, prefix string, n int) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: taskQueue}, oneActivityWorkflow)
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
func BenchmarkPersistence(b *testing.B) {
	const batch = 100
	dsn := testdb.Create(b)
	dropTemporalDatabases(b, dsn)
	sqlite := start(b, Options{DataDir: b.TempDir(), FrontendPort: AnyPort, Logger: testLogger(b)})
	postgres := start(b, Options{Persistence: Postgres, PostgresURL: dsn, FrontendPort: AnyPort, Logger: testLogger(b)})
	runBatch(b, sqlite.client, "warm", 10)
	runBatch(b, postgres.client, "warm", 10)

	var onSQLite, onPostgres time.Duration
	round := 0
	for b.Loop() {
		round++
		onSQLite += runBatch(b, sqlite.client, fmt.Sprintf("r%d", round), batch)
		onPostgres += runBatch(b, postgres.client, fmt.Sprintf("r%d", round), batch)
	}
	total := float64(round * batch)
	sqliteRate, postgresRate := total/onSQLite.Seconds(), total/onPostgres.Seconds()
	b.ReportMetric(sqliteRate, "sqlite-wf/s")
	b.ReportMetric(postgresRate, "postgres-wf/s")
	b.ReportMetric(postgresRate/sqliteRate, "postgres/sqlite")
}
