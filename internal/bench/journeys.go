package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/workflows"
)

// journeysRatioGoal is the target for journeys against bare workflows.
const journeysRatioGoal = 0.8

// Sizes of the journeys run: events per API request, concurrent clients,
// and rounds of bare workflows and journeys.
const (
	signupBatch   = 100
	signupPosters = 4
	journeyRounds = 4
)

// Registered names of the baseline workflow and its activity.
const (
	bareWorkflowName = "BenchOneActivity"
	bareActivityName = "BenchNoop"
)

// bareWorkflow is a journey reduced to its bones: one no-op activity.
func bareWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, bareActivityName).Get(ctx, nil)
}

func bareActivity(context.Context) error { return nil }

// registerBare adds the baseline workflow to a worker beside the journeys.
func registerBare(r sdkworker.Registry) {
	r.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	r.RegisterActivityWithOptions(bareActivity, activity.RegisterOptions{Name: bareActivityName})
}

// journeys posts n signups to the events API and waits until every
// onboarding journey's welcome reached the sink; the baseline is n bare
// workflows with one no-op activity on the same worker and server, run in
// rounds that alternate with the journeys.
func journeys(ctx context.Context, r *run, n int) error {
	const tag, queue = "journeys", "bench-journeys"
	rec := newRecorder()
	p, err := r.startProduct(ctx, n, tag, queue, rec, registerBare)
	if err != nil {
		return err
	}
	st, sink, c := p.st, p.sink, p.client
	api, err := r.serveAPI(ctx, p.app, signupPosters)
	if err != nil {
		return err
	}

	evs := make([]apiEvent, n)
	now := time.Now().UTC()
	for i := range evs {
		evs[i] = apiEvent{EventID: fmt.Sprintf("signup-%d", i+1), Customer: fmt.Sprintf("bench-%s-%d", tag, i+1),
			Type: workflows.EventSignup, Properties: map[string]any{"source": "bench"}, OccurredAt: now}
	}

	// Rounds alternate a slice of bare workflows with a slice of journeys,
	// so load that comes and goes on a shared machine weighs on both.
	rounds := min(journeyRounds, n)
	var bareUse, fullUse usage
	var posted postStats
	var postWall time.Duration
	bareTimers, journeyTimers := map[timerKey]timerStat{}, map[timerKey]timerStat{}
	for k := range rounds {
		lo, hi := n*k/rounds, n*(k+1)/rounds
		r.step("bare workflows", "round", k+1, "workflows", hi-lo)
		rec.reset()
		u, err := measure(func() error { return runBare(ctx, c, queue, lo, hi) })
		if err != nil {
			return fmt.Errorf("bare workflows: %w", err)
		}
		bareUse = bareUse.add(u)
		bareTimers = mergeTimers(bareTimers, rec.snapshot())

		bodies, err := encodeBatches(evs[lo:hi], signupBatch)
		if err != nil {
			return err
		}
		r.step("signups through the events API", "round", k+1, "journeys", hi-lo)
		rec.reset()
		before := sink.Count()
		u, err = measure(func() error {
			start := time.Now()
			p, err := api.post(ctx, bodies, signupPosters)
			if err != nil {
				return err
			}
			posted = posted.add(p)
			postWall += time.Since(start)
			return waitFor(ctx, 2*time.Minute, func() (int, bool, error) {
				got := sink.Count() - before
				return got, got >= hi-lo, nil
			})
		})
		if err != nil {
			return fmt.Errorf("journeys: %w", err)
		}
		fullUse = fullUse.add(u)
		journeyTimers = mergeTimers(journeyTimers, rec.snapshot())
	}

	// The sink counts a welcome when its data arrives; the worker marks the
	// ledger row sent when the reply reaches it, a moment later. A ledger
	// that stops short stays short and is reported below.
	var welcomed int
	var countErr error
	_ = waitFor(ctx, 30*time.Second, func() (int, bool, error) {
		welcomed, countErr = ledgerSent(ctx, st, workflows.Onboarding, "welcome")
		return welcomed, welcomed >= n, countErr
	})
	if countErr != nil {
		return countErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var routed int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'signup' AND routed_at IS NOT NULL`).Scan(&routed); err != nil {
		return fmt.Errorf("count routed events: %w", err)
	}
	if got := sink.Count(); got != n || welcomed != n || posted.recorded != n || routed != n {
		return invariant("%d events recorded, %d routed, %d welcomes in the ledger, %d at the sink; want %d each",
			posted.recorded, routed, welcomed, got, n)
	}
	res := r.res
	res.check("the API recorded %d signups and routed every one", n)
	res.check("exactly %d welcome emails at the sink and %d sent welcome rows in the ledger", n, n)

	res.Baseline = fmt.Sprintf("%d bare workflows, each running one no-op activity, started by the client on the same embedded server and worker, in %d rounds alternating with the journeys", n, rounds)
	rate, bareRate := float64(n)/fullUse.Wall.Seconds(), float64(n)/bareUse.Wall.Seconds()
	ratio := res.compare("journeys/s (signup posted → welcome at the sink)", "", rate, bareRate)
	res.compare("CPU seconds per 1,000", "s", fullUse.CPU.Seconds()*1000/float64(n), bareUse.CPU.Seconds()*1000/float64(n))
	res.compare("peak RSS of the process", "MB", fullUse.PeakMB, bareUse.PeakMB)
	res.row("time to post every signup", "s", postWall.Seconds())
	res.row("POST /v1/events/batch p50 (100 events)", "ms", ms(posted.percentile(0.5)))
	res.row("POST /v1/events/batch p95", "ms", ms(posted.percentile(0.95)))
	res.goal("throughput", fmt.Sprintf("≥ %.1f× bare workflows", journeysRatioGoal), fmt.Sprintf("%.2f×", ratio), ratio >= journeysRatioGoal)
	res.Breakdown = breakdown(journeyTimers, bareTimers, n)
	res.note("breakdown: per journey (baseline: per bare workflow), from the Temporal SDK's metrics; RPC time is the embedded server answering, mostly its persistence (%s)", r.deps.Temporal)
	return nil
}

// runBare starts bare workflows lo..hi-1 from 16 concurrent clients and
// waits for all of them.
func runBare(ctx context.Context, c client.Client, queue string, lo, hi int) error {
	runs := make([]client.WorkflowRun, hi-lo)
	err := parallel(ctx, hi-lo, 16, func(i int) error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench/bare/%d", lo+i), TaskQueue: queue}, bareWorkflowName)
		runs[i] = run
		return err
	})
	if err != nil {
		return err
	}
	return parallel(ctx, len(runs), 64, func(i int) error { return runs[i].Get(ctx, nil) })
}

func mergeTimers(a, b map[timerKey]timerStat) map[timerKey]timerStat {
	out := map[timerKey]timerStat{}
	for _, m := range []map[timerKey]timerStat{a, b} {
		for k, v := range m {
			s := out[k]
			s.n += v.n
			s.sum += v.sum
			out[k] = s
		}
	}
	return out
}

// breakdown turns the SDK timers of the journeys and of the baseline into
// rows per item: how many workflow tasks, activities and server calls each
// took, and how long each kind took on average.
func breakdown(journey, bare map[timerKey]timerStat, n int) []Row {
	type line struct {
		name, unit string
		value      func(map[timerKey]timerStat) float64
	}
	count := func(name, tag string) func(map[timerKey]timerStat) float64 {
		return func(m map[timerKey]timerStat) float64 { return float64(sumOf(m, name, tag).n) / float64(n) }
	}
	mean := func(name, tag string) func(map[timerKey]timerStat) float64 {
		return func(m map[timerKey]timerStat) float64 {
			s := sumOf(m, name, tag)
			if s.n == 0 {
				return 0
			}
			return ms(s.sum) / float64(s.n)
		}
	}
	total := func(name, tag string) func(map[timerKey]timerStat) float64 {
		return func(m map[timerKey]timerStat) float64 { return ms(sumOf(m, name, tag).sum) / float64(n) }
	}
	const (
		wft      = "temporal_workflow_task_execution_latency"
		wftWait  = "temporal_workflow_task_schedule_to_start_latency"
		act      = "temporal_activity_execution_latency"
		actWait  = "temporal_activity_schedule_to_start_latency"
		rpc      = "temporal_request_latency"
		anything = ""
	)
	lines := []line{
		{"workflow tasks", "per item", count(wft, anything)},
		{"workflow task execution on the worker", "ms mean", mean(wft, anything)},
		{"workflow task wait in the queue", "ms mean", mean(wftWait, anything)},
		{"activities", "per item", count(act, anything)},
		{"activity wait in the queue", "ms mean", mean(actWait, anything)},
	}
	for _, a := range activityTypes(journey, bare, act) {
		lines = append(lines, line{"activity " + a, "ms mean", mean(act, a)})
	}
	lines = append(lines,
		line{"server calls (RPC)", "per item", count(rpc, anything)},
		line{"server time in RPCs", "ms per item", total(rpc, anything)},
	)
	for _, op := range []string{"SignalWithStartWorkflowExecution", "StartWorkflowExecution",
		"RespondWorkflowTaskCompleted", "RespondActivityTaskCompleted"} {
		lines = append(lines, line{"RPC " + op, "ms mean", mean(rpc, op)})
	}
	var out []Row
	for _, l := range lines {
		v, b := l.value(journey), l.value(bare)
		out = append(out, Row{Name: l.name, Unit: l.unit, Value: v, Baseline: &b})
	}
	return out
}

// sumOf adds up the timers named name, limited to tag unless tag is "".
func sumOf(m map[timerKey]timerStat, name, tag string) timerStat {
	var s timerStat
	for k, v := range m {
		if k.name == name && (tag == "" || k.tag == tag) {
			s.n += v.n
			s.sum += v.sum
		}
	}
	return s
}

func activityTypes(a, b map[timerKey]timerStat, name string) []string {
	seen := map[string]bool{}
	for _, m := range []map[timerKey]timerStat{a, b} {
		for k := range m {
			if k.name == name {
				seen[k.tag] = true
			}
		}
	}
	return sortedKeys(seen)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
