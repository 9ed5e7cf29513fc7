package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
	"github.com/tidingsdev/tidings/workflows"
)

// Blast goals.
const (
	blastRatioGoal  = 0.85
	blastPeakMBGoal = 300
)

// blast sends the care template to n customers with a CareSend run through
// the worker and the whole send path (consent, suppression, caps, quiet
// hours, rendering, the ledger), and sends n similar messages with a bare
// go-mail loop to the same sink, half before and half after, so drifting
// load on a shared machine weighs on both alike.
func blast(ctx context.Context, r *run, n int) error {
	const tag = "blast"
	rec := newRecorder()
	p, err := r.startProduct(ctx, n, tag, "bench-blast", rec, nil)
	if err != nil {
		return err
	}
	st, sink, c := p.st, p.sink, p.client
	bare, err := newBareLoop(ctx, r, sink)
	if err != nil {
		return err
	}
	if err := bare.half(0, 0, n/2); err != nil {
		return err
	}

	r.step("care send through the worker and the send path", "customers", n)
	before, bytes := sink.Count(), sink.Bytes()
	const runKey = "bench-blast"
	var out workflows.CareSendResult
	rec.reset()
	pg0 := readPgCPU(ctx, st)
	full, err := measure(func() error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench/blast", TaskQueue: "bench-blast"},
			workflows.CareSendWorkflow, workflows.CareSendInput{
				Template: "care", Topic: delivery.TopicMarketing, Tag: tag, RunKey: runKey,
			})
		if err != nil {
			return err
		}
		return run.Get(ctx, &out)
	})
	if err != nil {
		return fmt.Errorf("care send: %w", err)
	}
	fullCount, fullBytes := sink.Count()-before, sink.Bytes()-bytes
	pgUsed, pgOK := readPgCPU(ctx, st).since(pg0)

	if err := bare.half(1, n/2, n); err != nil {
		return err
	}

	// Every customer exactly once: in the ledger, at the sink, in the run's tally.
	var sent, rows int
	if err := st.Pool().QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM messages WHERE idempotency_key LIKE $1`,
		"care/"+runKey+"/%").Scan(&sent, &rows); err != nil {
		return fmt.Errorf("count the ledger: %w", err)
	}
	if sent != n || rows != n || fullCount != n || out.Counts.Sent != n {
		return invariant("ledger %d sent of %d rows, sink %d, run tally %d sent (%d skipped, %d failed, %d deferred); want %d each",
			sent, rows, fullCount, out.Counts.Sent, out.Counts.Skipped, out.Counts.Failed, out.Counts.Deferred, n)
	}
	res := r.res
	res.check("ledger holds exactly %d sent rows for the run", n)
	res.check("the sink counted exactly %d messages from the care send (and %d from the bare loop)", fullCount, n)
	res.check("the care send's tally: %d sent, 0 skipped, 0 failed, 0 deferred", out.Counts.Sent)

	res.Baseline = fmt.Sprintf("a bare go-mail loop: %d messages of the same template over %d reused connections to the same sink, half before and half after the care send", n, smtpConnections)
	ratio, peak := bare.compare(res, n, full, pgUsed, pgOK, fullBytes)
	res.row("wall time of the care send", "s", full.Wall.Seconds())
	res.row("SMTP connections", "", float64(smtpConnections))
	batches := sumOf(rec.snapshot(), "temporal_activity_execution_latency", "CareBatch")
	if batches.n > 0 {
		inBatches := batches.sum.Seconds() / full.Wall.Seconds()
		res.Breakdown = []Row{
			{Name: fmt.Sprintf("batch activities (up to %d pages of %d customers each)", activities.CarePagesPerCall, workflows.DefaultSweepBatchSize), Value: float64(batches.n)},
			{Name: "batch activity, mean", Unit: "ms", Value: ms(batches.sum) / float64(batches.n)},
			{Name: "share of the send spent inside batch activities", Unit: "%", Value: 100 * inBatches},
			{Name: "between batches (workflow task, scheduling), per batch", Unit: "ms", Value: ms(full.Wall-batches.sum) / float64(batches.n)},
		}
	}
	res.goal("throughput", fmt.Sprintf("≥ %.2f× the bare loop", blastRatioGoal), fmt.Sprintf("%.2f×", ratio), ratio >= blastRatioGoal)
	res.goal("peak RSS", fmt.Sprintf("< %d MB", blastPeakMBGoal), fmt.Sprintf("%.0f MB", peak), peak < blastPeakMBGoal)
	res.note("CPU and RSS are the whole process: the worker, the send path, the embedded Temporal server and the SMTP sink; the row with PostgreSQL's adds the CPU of the PostgreSQL backends serving the scratch database")
	res.note("the topic is marketing, so consent, the suppression list and both email frequency caps are checked for every message; customers live in time zones where it is daytime, so quiet hours are checked and defer nobody")
	return nil
}

// sampleMessages renders the care template as the send path would for one
// customer in each locale the generated customers speak (en, zh-CN, zh-TW,
// in that rotation), with signed links of the production length, for the
// bare loop.
func sampleMessages() ([]smtpsink.Body, error) {
	set, err := templates.Load(templates.Options{DefaultLocale: "en"})
	if err != nil {
		return nil, err
	}
	signer := token.NewSigner("bench-signing-secret-0123456789")
	link := func(p string, c token.Claims) string {
		return "http://127.0.0.1:8080/" + p + "/" + signer.Sign(c, time.Now().AddDate(1, 0, 0))
	}
	id := "2f1e4d3c-5b6a-4789-8a7b-6c5d4e3f2a1b"
	var out []smtpsink.Body
	for _, locale := range []string{"en", "zh-CN", "zh-TW"} {
		m, err := set.Render("care", locale, templates.ChannelEmail, templates.Data{
			Customer: templates.Customer{ID: id, FirstName: "Ada", LastName: "Lovelace", Locale: locale, TimeZone: "Europe/London"},
			Company:  templates.Company{Name: "Tidings", PostalAddress: "Tidings Demo Co., 1 Harbour Road, Hong Kong"},
			Links: templates.Links{
				Unsubscribe: link("u", token.Claims{Purpose: token.Unsubscribe, CustomerID: id, Channel: delivery.Email, Topic: delivery.TopicMarketing}),
				Preferences: link("p", token.Claims{Purpose: token.Preferences, CustomerID: id}),
			},
			Vars: map[string]any{},
		})
		if err != nil {
			return nil, err
		}
		out = append(out, smtpsink.Body{Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	}
	return out, nil
}

// parallel runs fn for 0..n-1 on workers goroutines and returns the first
// error; the others stop taking work after it.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	var failed atomic.Bool
	for range workers {
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// ledgerSent counts a journey step's sent ledger rows.
func ledgerSent(ctx context.Context, st *store.Store, journey, step string) (int, error) {
	var n int
	err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM messages WHERE journey = $1 AND step = $2 AND status = 'sent'`,
		journey, step).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s %s messages: %w", journey, step, err)
	}
	return n, nil
}

// bareLoop is the baseline of the send scenarios: a bare go-mail loop over
// smtpConnections reused connections to the run's sink, sending the
// rendered care template, measured in two halves around the product's run.
type bareLoop struct {
	ctx     context.Context
	r       *run
	sink    *smtpsink.Sink
	samples []smtpsink.Body
	use     [2]usage
	bytes   int64
}

func newBareLoop(ctx context.Context, r *run, sink *smtpsink.Sink) (*bareLoop, error) {
	samples, err := sampleMessages()
	if err != nil {
		return nil, err
	}
	return &bareLoop{ctx: ctx, r: r, sink: sink, samples: samples}, nil
}

// half sends messages lo..hi-1 as half k (0 before, 1 after).
func (b *bareLoop) half(k, lo, hi int) error {
	// Dialled anew for each half: go-mail's deadlines end connections left
	// idle through the product's run.
	bare, err := smtpsink.NewBareSender(b.ctx, b.sink.Addr(), smtpConnections, b.samples)
	if err != nil {
		return err
	}
	defer bare.Close()
	before, bytes := b.sink.Count(), b.sink.Bytes()
	b.r.step("bare go-mail loop", "messages", hi-lo)
	u, err := measure(func() error {
		return parallel(b.ctx, hi-lo, bare.Conns(), func(i int) error { return bare.Send(lo + i) })
	})
	if err != nil {
		return fmt.Errorf("bare loop: %w", err)
	}
	if got := b.sink.Count() - before; got != hi-lo {
		return invariant("the sink counted %d bare messages, want %d", got, hi-lo)
	}
	b.use[k], b.bytes = u, b.bytes+b.sink.Bytes()-bytes
	return nil
}

// compare adds the rows that set the product's n messages (full, with
// PostgreSQL's CPU pgUsed when pgOK, fullBytes at the sink) beside the bare
// loop's, and returns the throughput ratio and the product's peak RSS.
func (b *bareLoop) compare(res *Result, n int, full usage, pgUsed time.Duration, pgOK bool, fullBytes int64) (ratio, peak float64) {
	bareWall := b.use[0].Wall + b.use[1].Wall
	bareCPU := b.use[0].CPU + b.use[1].CPU
	rate, bareRate := float64(n)/full.Wall.Seconds(), float64(n)/bareWall.Seconds()
	ratio = res.compare("emails/s", "", rate, bareRate)
	perK := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(n) }
	res.compare("CPU seconds per 1,000 emails", "s", perK(full.CPU), perK(bareCPU))
	if pgOK {
		res.compare("CPU seconds per 1,000 emails, with PostgreSQL's", "s", perK(full.CPU+pgUsed), perK(bareCPU))
	}
	peak = full.PeakMB
	res.compare("peak RSS of the process", "MB", peak, max(b.use[0].PeakMB, b.use[1].PeakMB))
	res.compare("average message size", "bytes", float64(fullBytes)/float64(n), float64(b.bytes)/float64(n))
	return ratio, peak
}
