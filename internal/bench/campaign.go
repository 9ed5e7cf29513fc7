package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Campaign goals (issue figures at 100,000 customers on this machine).
const (
	campaignRatioGoal   = 0.85
	campaignFirstGoal   = time.Second
	campaignPeakMBGoal  = 300
	campaignCommitsGoal = 0.1
)

// campaignScenario sends a one-off campaign (one send step, the care
// template, trigger once at the time of the apply) to n customers, applied
// through the management function `tidings campaigns apply` calls, from the
// apply to the last message at the sink, beside the bare go-mail loop in
// halves before and after as the blast does.
func campaignScenario(ctx context.Context, r *run, n int) error {
	const tag, name = "campaign", "bench-campaign"
	rec := newRecorder()
	p, err := r.startProduct(ctx, n, tag, "bench-campaign", rec, nil)
	if err != nil {
		return err
	}
	st, sink := p.st, p.sink
	m, err := p.app.Mgmt(ctx)
	if err != nil {
		return err
	}
	bare, err := newBareLoop(ctx, r, sink)
	if err != nil {
		return err
	}
	if err := bare.half(0, 0, n/2); err != nil {
		return err
	}

	r.step("one-off campaign applied and sent through the worker and the send path", "customers", n)
	before, bytes := sink.Count(), sink.Bytes()
	commits0, err := commits(ctx, st)
	if err != nil {
		return err
	}
	pg0 := readPgCPU(ctx, st)
	rec.reset()
	slots0 := readSlotTime(p.app.Metrics())
	done, err := sendOnce(ctx, p, m, name, tag, campaignSendStep, n)
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	full, out, firstAt := done.usage, done.out, done.first
	fullCount, fullBytes := sink.Count()-before, sink.Bytes()-bytes
	pgUsed, pgOK := readPgCPU(ctx, st).since(pg0)
	slots1, timers := readSlotTime(p.app.Metrics()), rec.snapshot()
	time.Sleep(1500 * time.Millisecond) // backends report their counters within a second
	commits1, err := commits(ctx, st)
	if err != nil {
		return err
	}

	if err := bare.half(1, n/2, n); err != nil {
		return err
	}

	var sent, rows int
	if err := st.Pool().QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM messages WHERE journey = $1`,
		campaign.Journey(name)).Scan(&sent, &rows); err != nil {
		return fmt.Errorf("count the ledger: %w", err)
	}
	if sent != n || rows != n || fullCount != n || out.Counts.Sent != n || out.Entered != n {
		return invariant("ledger %d sent of %d rows, sink %d, runner %d entered and %d sent (%d skipped, %d failed); want %d each",
			sent, rows, fullCount, out.Entered, out.Counts.Sent, out.Counts.Skipped, out.Counts.Failed, n)
	}
	res := r.res
	res.check("ledger holds exactly %d sent rows for the campaign", n)
	res.check("the sink counted exactly %d messages from the campaign (and %d from the bare loop)", fullCount, n)
	res.check("the runner's tally: %d entered, %d sent, 0 skipped, 0 failed", out.Entered, out.Counts.Sent)

	res.Baseline = fmt.Sprintf("a bare go-mail loop: %d messages of the same template over %d reused connections to the same sink, half before and half after the campaign", n, smtpConnections)
	ratio, peak := bare.compare(res, n, full, pgUsed, pgOK, fullBytes)
	perEmail := float64(commits1-commits0) / float64(n)
	res.row("apply → first message at the sink", "ms", ms(firstAt))
	res.row("wall time from apply to the last message", "s", full.Wall.Seconds())
	res.row("PostgreSQL commits per email", "", perEmail)
	res.row("SMTP connections", "", float64(smtpConnections))
	res.Breakdown = slotRows(slots0, slots1, full.Wall, smtpConnections)
	if batches := sumOf(timers, "temporal_activity_execution_latency", "CampaignBatch"); batches.n > 0 {
		res.Breakdown = append(res.Breakdown,
			Row{Name: "page activities (CampaignBatch calls)", Value: float64(batches.n)},
			Row{Name: "share of the wall time inside page activities", Unit: "%", Value: 100 * batches.sum.Seconds() / full.Wall.Seconds()})
	}
	res.goal("throughput", fmt.Sprintf("≥ %.2f× the bare loop", campaignRatioGoal), fmt.Sprintf("%.2f×", ratio), ratio >= campaignRatioGoal)
	res.goal("first message", fmt.Sprintf("< %s after apply", campaignFirstGoal), firstAt.Round(time.Millisecond).String(), firstAt < campaignFirstGoal)
	res.goal("peak RSS", fmt.Sprintf("< %d MB", campaignPeakMBGoal), fmt.Sprintf("%.0f MB", peak), peak < campaignPeakMBGoal)
	res.goal("PostgreSQL commits per email", fmt.Sprintf("< %.1f", campaignCommitsGoal), fmt.Sprintf("%.3f", perEmail), perEmail < campaignCommitsGoal)
	res.note("the campaign is applied with the function `tidings campaigns apply` calls (trigger once, at the time of the apply), so the figures include the once runner's start, entering every customer in campaign_entries and the ledger")
	res.note("CPU and RSS are the whole process: the worker, the send path, the embedded Temporal server and the SMTP sink; the row with PostgreSQL's adds the CPU of the PostgreSQL backends serving the scratch database")
	return nil
}

// onceSent is what sendOnce measured.
type onceSent struct {
	usage usage
	// first and last are from the apply to the first and the n-th message
	// at the sink.
	first, last time.Duration
	out         workflows.CampaignRunnerResult
}

// sendOnce applies a one-off campaign (trigger once, now) to the customers
// tagged tag with the given steps, through the management function
// `tidings campaigns apply` calls, and measures it until the runner is done
// and n more messages reached the sink: the first message of each
// customer, for a campaign of several steps.
func sendOnce(ctx context.Context, p *product, m *mgmt.Service, name, tag, steps string, n int) (onceSent, error) {
	sink := p.sink
	before := sink.Count()
	file := mgmt.CampaignFile{Name: name + ".yaml", Text: fmt.Appendf(nil, `name: %s
audience: {match: {tags: %s}}
trigger: {once: {at: "%s"}}
steps:
%s`, name, tag, time.Now().UTC().Format(time.RFC3339), steps)}
	var first, last atomic.Int64
	var out onceSent
	u, err := measure(func() error {
		start := time.Now()
		done := make(chan struct{})
		defer close(done)
		go func() {
			for sink.Count()-before < n {
				if first.Load() == 0 && sink.Count() > before {
					first.Store(int64(time.Since(start)))
				}
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
			}
			first.CompareAndSwap(0, int64(time.Since(start)))
			last.Store(int64(time.Since(start)))
		}()
		applied, err := m.ApplyCampaign(ctx, access.Operator("bench"), file)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		run := p.client.GetWorkflow(ctx, workflows.CampaignRunnerID(name, applied.Version), "")
		if err := run.Get(ctx, &out.out); err != nil {
			return err
		}
		for sink.Count()-before < n && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		return ctx.Err()
	})
	out.usage, out.first, out.last = u, time.Duration(first.Load()), time.Duration(last.Load())
	return out, err
}

// commits is the scratch database's committed transactions so far.
func commits(ctx context.Context, st *store.Store) (int64, error) {
	var n int64
	err := st.Pool().QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read commits: %w", err)
	}
	return n, nil
}
