package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Ingest goals.
const (
	ingestRatioGoal = 0.3
	ingestRateGoal  = 5000
)

// Sizes of the ingest run.
const (
	ingestBatch   = 500
	ingestPosters = 4
)

// ingest posts n events in batches to the API, which stores them (folding
// purchases into the customers' aggregates) and routes them to the
// journeys they concern; the baseline is a plain pgx COPY of the same rows
// into the same table, half before and half after.
//
// The mix is a busy shop's stream: 90% page views (stored, concern no
// journey), 6% purchases (signalled to the onboarding and win-back of
// customers in them, and each starting a cross-sell when its email is due:
// recorded now, started days later) and 4% signups (each starts an
// onboarding journey).
// A tenth of the customers are in an onboarding and a twentieth in a
// win-back when the run begins, as in a live shop. No worker runs: routing
// ends when Temporal has accepted the signal or start.
func ingest(ctx context.Context, r *run, n int) error {
	const tag, queue = "ingest", "bench-ingest"
	a, st, dsn, err := r.scratchDB(ctx, queue, "")
	if err != nil {
		return err
	}
	customers := max(n/10, 20)
	if err := addCustomers(ctx, st, customers, tag, []string{"UTC"}); err != nil {
		return err
	}
	c, err := r.temporal(ctx, dsn, nil)
	if err != nil {
		return err
	}
	counted := &countingTemporal{Client: c}
	a.UseTemporal(counted)
	api, err := r.serveAPI(ctx, a, ingestPosters)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	rows, err := st.Pool().Query(ctx, `SELECT external_id, id::text FROM customers`)
	if err != nil {
		return err
	}
	var ext, id string
	if _, err := pgx.ForEachRow(rows, []any{&ext, &id}, func() error { ids[ext] = id; return nil }); err != nil {
		return fmt.Errorf("load customer ids: %w", err)
	}
	r.step("customers already in journeys")
	if err := enterJourneys(ctx, st, c, queue, tag, customers, ids); err != nil {
		return err
	}

	evs := make([]apiEvent, n)
	copyRows := make([][]any, n)
	purchases, signups := 0, 0
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	for i := range evs {
		cust := fmt.Sprintf("bench-%s-%d", tag, 1+(i*7919)%customers)
		e := apiEvent{EventID: fmt.Sprintf("ev-%d", i), Customer: cust, OccurredAt: at}
		switch i % 50 {
		case 0, 1:
			e.Type, e.Properties = workflows.EventSignup, map[string]any{"source": "web"}
			signups++
		case 2, 3, 4:
			e.Type, e.Properties = workflows.EventPurchase, map[string]any{"order_id": fmt.Sprintf("o-%d", i), "amount": 42.5, "currency": "USD"}
			purchases++
		default:
			e.Type, e.Properties = "page_view", map[string]any{"path": fmt.Sprintf("/products/%d", i%500)}
		}
		evs[i] = e
		// routed_at is set so the outbox drainer leaves the copied rows alone.
		copyRows[i] = []any{"copy-" + e.EventID, ids[cust], e.Type, e.Properties, e.OccurredAt, e.OccurredAt}
	}
	bodies, err := encodeBatches(evs, ingestBatch)
	if err != nil {
		return err
	}
	var ordersBefore int
	if err := st.Pool().QueryRow(ctx, `SELECT sum(orders_count) FROM customers`).Scan(&ordersBefore); err != nil {
		return err
	}

	var copyWall time.Duration
	copyHalf := func(lo, hi int) error {
		r.step("COPY", "rows", hi-lo)
		u, err := measure(func() error {
			got, err := st.Pool().CopyFrom(ctx, pgx.Identifier{"events"},
				[]string{"event_id", "customer_id", "type", "properties", "occurred_at", "routed_at"}, pgx.CopyFromRows(copyRows[lo:hi]))
			if err == nil && got != int64(hi-lo) {
				err = invariant("COPY wrote %d rows, want %d", got, hi-lo)
			}
			return err
		})
		copyWall += u.Wall
		return err
	}
	if err := copyHalf(0, n/2); err != nil {
		return err
	}
	r.step("events through the API", "events", n, "batch", ingestBatch, "clients", ingestPosters)
	var posted postStats
	full, err := measure(func() error {
		var err error
		posted, err = api.post(ctx, bodies, ingestPosters)
		return err
	})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := copyHalf(n/2, n); err != nil {
		return err
	}

	// The same path for events that concern no journey: what storing costs
	// without the calls to Temporal.
	views := make([]apiEvent, n/2)
	for i := range views {
		views[i] = apiEvent{EventID: fmt.Sprintf("view-%d", i), Customer: fmt.Sprintf("bench-%s-%d", tag, 1+(i*7919)%customers),
			Type: "page_view", Properties: map[string]any{"path": fmt.Sprintf("/products/%d", i%500)}, OccurredAt: at}
	}
	viewBodies, err := encodeBatches(views, ingestBatch)
	if err != nil {
		return err
	}
	r.step("page views only through the API", "events", len(views))
	viewsUse, err := measure(func() error {
		p, err := api.post(ctx, viewBodies, ingestPosters)
		if err == nil && p.recorded != len(views) {
			err = invariant("the API recorded %d of %d page views", p.recorded, len(views))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("ingest page views: %w", err)
	}

	var stored, routed, ordersAfter int
	if err := st.Pool().QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE routed_at IS NOT NULL), (SELECT sum(orders_count) FROM customers)
		FROM events WHERE event_id LIKE 'ev-%'`).Scan(&stored, &routed, &ordersAfter); err != nil {
		return fmt.Errorf("count stored events: %w", err)
	}
	if stored != n || posted.recorded != n || routed != n || ordersAfter-ordersBefore != purchases {
		return invariant("%d events recorded by the API, %d stored, %d routed, %d purchases folded into the customers; want %d, %d, %d, %d",
			posted.recorded, stored, routed, ordersAfter-ordersBefore, n, n, n, purchases)
	}
	pending, err := st.PendingStarts(ctx)
	if err != nil {
		return err
	}
	deferred := 0
	for _, n := range pending {
		deferred += n
	}
	res := r.res
	res.check("every one of %d events stored once and routed (%d answered routed at once, %d by the outbox drainer)", n, n-posted.unrouted, posted.unrouted)
	res.check("%d purchases folded into the customers' order counts", purchases)

	res.Baseline = fmt.Sprintf("a plain pgx COPY of the same %d rows (customer IDs resolved beforehand) into the same events table, half before and half after", n)
	rate, copyRate := float64(n)/full.Wall.Seconds(), float64(n)/copyWall.Seconds()
	ratio := res.compare("events/s stored and routed", "", rate, copyRate)
	res.compare("events/s of page views alone (no journey to call)", "", float64(len(views))/viewsUse.Wall.Seconds(), copyRate)
	res.row("POST /v1/events/batch p50 (500 events)", "ms", ms(posted.percentile(0.5)))
	res.row("POST /v1/events/batch p95", "ms", ms(posted.percentile(0.95)))
	res.row("CPU seconds per 1,000 events (process: API, router, Temporal)", "s", full.CPU.Seconds()*1000/float64(n))
	res.row("CPU seconds per 1,000 page views alone", "s", viewsUse.CPU.Seconds()*1000/float64(len(views)))
	res.goal("throughput against COPY", fmt.Sprintf("≥ %.1f× COPY", ingestRatioGoal), fmt.Sprintf("%.2f×", ratio), ratio >= ingestRatioGoal)
	res.goal("throughput", fmt.Sprintf("≥ %d events/s", ingestRateGoal), fmt.Sprintf("%.0f events/s", rate), rate >= ingestRateGoal)
	res.row("signups (each starts an onboarding journey)", "", float64(signups))
	res.row("purchases (signalled to the journeys their customer is in, each starting a cross-sell when due)", "", float64(purchases))
	res.row("calls to Temporal (starts and signals) per event, counted", "", float64(counted.calls.Load())/float64(n))
	res.row("journey starts deferred until due (cross-sells), per event", "", float64(deferred)/float64(n))
	res.note("mix: 90%% page views, 6%% purchases, 4%% signups; %d API clients posting %d events per request, customers named by external ID; a tenth of the customers in an onboarding and a twentieth in a win-back before the run; the journeys' starts and signals go to the embedded Temporal server, which no worker polls", ingestPosters, ingestBatch)
	return nil
}

// enterJourneys puts a tenth of the customers into an onboarding and a
// twentieth into a win-back before the run: the workflows are started and
// their runs claimed, as a journey's first step claims them, so the router
// signals purchases by these customers. They are chosen by their number
// divided by ten, since the stream picks the customers of each event type
// by the last digit.
func enterJourneys(ctx context.Context, st *store.Store, c client.Client, queue, tag string, customers int, ids map[string]string) error {
	type journey struct {
		name, workflowType string
		input              any
	}
	for g := 1; g <= customers; g++ {
		ext := fmt.Sprintf("bench-%s-%d", tag, g)
		id := ids[ext]
		var js []journey
		if g/10%10 == 0 {
			js = append(js, journey{workflows.Onboarding, workflows.OnboardingWorkflow, workflows.OnboardingInput{CustomerID: id}})
		}
		if g/10%20 == 5 {
			js = append(js, journey{workflows.Winback, workflows.WinbackWorkflow, workflows.WinbackInput{CustomerID: id}})
		}
		for _, j := range js {
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.JourneyID(j.name, id), TaskQueue: queue}, j.workflowType, j.input)
			if err != nil {
				return fmt.Errorf("start %s of %s: %w", j.name, ext, err)
			}
			if _, err := st.ClaimJourneyRun(ctx, store.JourneyRun{Journey: j.name, RunID: run.GetRunID(), CustomerID: id, StartedAt: time.Now()}, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// countingTemporal counts the starts and signals the router makes, so the
// ingest figures say what the stream cost Temporal rather than what it
// should have.
type countingTemporal struct {
	client.Client
	calls atomic.Int64
}

func (c *countingTemporal) SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
	options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error) {
	c.calls.Add(1)
	return c.Client.SignalWithStartWorkflow(ctx, workflowID, signalName, signalArg, options, workflow, workflowArgs...)
}

func (c *countingTemporal) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	c.calls.Add(1)
	return c.Client.SignalWorkflow(ctx, workflowID, runID, signalName, arg)
}
