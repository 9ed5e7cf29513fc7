package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
)

// seriesRatioGoal: a series' first messages go out no slower than a single
// send's, within the machine's noise between two runs.
const seriesRatioGoal = 0.9

// The one step of the campaign scenario, the first of the series, and the
// rest of the series.
const (
	campaignSendStep = "  - send: {id: news, template: care, topic: marketing}\n"
	seriesRest       = "  - wait: {duration: 7d}\n  - send: {id: tips, template: care, topic: marketing}\n"
)

// campaignSeries measures the first message of a one-off campaign of three
// steps (send, wait a week, send) to n customers beside the same campaign
// with its one send to n other customers, in the same run: the series'
// first step goes through the batched send path and each customer's run
// starts after it, so its first messages should go out about as fast.
// Both are timed from the apply to the runner's end (every run started)
// and to the n-th message at the sink.
func campaignSeries(ctx context.Context, r *run, n int) error {
	p, err := r.startProduct(ctx, n, "single", "bench-series", nil, nil)
	if err != nil {
		return err
	}
	if err := addCustomers(ctx, p.st, n, "series", daytimeZones(time.Now())); err != nil {
		return err
	}
	m, err := p.app.Mgmt(ctx)
	if err != nil {
		return err
	}
	r.step("one-off campaign of one send (the baseline)", "customers", n)
	single, err := sendOnce(ctx, p, m, "bench-single", "single", campaignSendStep, n)
	if err != nil {
		return fmt.Errorf("single send: %w", err)
	}
	r.step("one-off campaign of three steps: the first sent in batches, each customer's run from the second", "customers", n)
	series, err := sendOnce(ctx, p, m, "bench-series", "series", campaignSendStep+seriesRest, n)
	if err != nil {
		return fmt.Errorf("series: %w", err)
	}

	var sent, rows int
	if err := p.st.Pool().QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'sent' AND step = 'news'), count(*) FROM messages WHERE journey = $1`,
		campaign.Journey("bench-series")).Scan(&sent, &rows); err != nil {
		return fmt.Errorf("count the ledger: %w", err)
	}
	if sent != n || rows != n || series.out.Started != n || series.out.Counts.Sent != n || p.sink.Count() != 2*n {
		return invariant("series: ledger %d sent of %d rows, runner sent %d and started %d runs, sink %d; want %d, %d runs and %d at the sink",
			sent, rows, series.out.Counts.Sent, series.out.Started, p.sink.Count(), n, n, 2*n)
	}
	res := r.res
	res.check("the series' ledger holds exactly %d rows, each its first step sent", n)
	res.check("the series' runner sent %d first messages and started %d runs; the sink counted %d messages from both campaigns", series.out.Counts.Sent, series.out.Started, 2*n)
	res.Baseline = fmt.Sprintf("the same one-off campaign with only its first send, to %d other customers, just before in the same run", n)
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	ratio := res.compare("first messages/s, apply to the n-th message at the sink", "emails/s", rate(series.last), rate(single.last))
	res.goal("first messages", fmt.Sprintf("≥ %.2f× the single send's rate", seriesRatioGoal), fmt.Sprintf("%.2f×", ratio), ratio >= seriesRatioGoal)
	res.compare("apply to the runner's end (for the series: every run started)", "s", series.usage.Wall.Seconds(), single.usage.Wall.Seconds())
	res.compare("CPU seconds per 1,000 customers (process)", "s", series.usage.CPU.Seconds()*1000/float64(n), single.usage.CPU.Seconds()*1000/float64(n))
	res.compare("apply → first message at the sink", "ms", ms(series.first), ms(single.first))
	res.compare("peak RSS of the process", "MB", series.usage.PeakMB, single.usage.PeakMB)
	res.note("each customer of the series has a CampaignRun workflow waiting out its week after the runner ends; the single send has none")
	return nil
}
