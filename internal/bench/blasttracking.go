package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
)

// Tracking goal: links rewritten and the open pixel cost the blast less
// than a tenth of its rate.
const trackingRateGoal = 0.90

// untrackedTopic is the blast's topic with tracking switched off in the
// policy file, as a marketer switches it off for a topic.
const untrackedTopic = "marketing-untracked"

// untrackedPolicy defines untrackedTopic as the built-in marketing topic
// (consent and both email caps) with clicks and opens off.
const untrackedPolicy = `topics:
  ` + untrackedTopic + `:
    consent: {email: opt-out, sms: opt-in}
    caps:
      - {channel: email, max: 2, per: 24h}
      - {channel: email, max: 5, per: 7d}
      - {channel: sms, max: 1, per: 24h}
      - {channel: sms, max: 3, per: 7d}
    tracking: false
`

// blastTracking measures what tracking costs a blast: four care sends of
// n/4 customers each in one run, tracked (topic marketing: links
// rewritten, the open pixel) and untracked (the same policy with tracking
// off), in the order tracked, untracked, untracked, tracked so drifting load
// weighs on both alike. Everything else (consent, caps, quiet hours,
// rendering, the ledger, the message log's contents) is the same.
func blastTracking(ctx context.Context, r *run, n int) error {
	policy := filepath.Join(os.TempDir(), fmt.Sprintf("tidings-bench-policy-%d.yaml", os.Getpid()))
	if err := os.WriteFile(policy, []byte(untrackedPolicy), 0o600); err != nil {
		return err
	}
	r.onEnd(func() { _ = os.Remove(policy) })
	r.deps.Config.PolicyFile = policy

	quarter := max(n/4, 1)
	topics := []string{delivery.TopicMarketing, untrackedTopic, untrackedTopic, delivery.TopicMarketing}
	tag := func(k int) string { return fmt.Sprintf("tracking-%d", k) }
	p, err := r.startProduct(ctx, quarter, tag(0), "bench-tracking", nil, nil)
	if err != nil {
		return err
	}
	for k := 1; k < len(topics); k++ {
		if err := addCustomers(ctx, p.st, quarter, tag(k), daytimeZones(time.Now())); err != nil {
			return err
		}
	}
	var use [2]usage
	var pg [2]time.Duration
	var bytes [2]int64
	pgOK := true
	for k, topic := range topics {
		on := 0
		if topic != delivery.TopicMarketing {
			on = 1
		}
		r.step("care send", "topic", topic, "customers", quarter)
		before, b0 := p.sink.Count(), p.sink.Bytes()
		pg0 := readPgCPU(ctx, p.st)
		var out workflows.CareSendResult
		runKey := "bench-tracking-" + tag(k)
		u, err := measure(func() error {
			run, err := p.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench/" + runKey, TaskQueue: "bench-tracking"},
				workflows.CareSendWorkflow, workflows.CareSendInput{Template: "care", Topic: topic, Tag: tag(k), RunKey: runKey})
			if err != nil {
				return err
			}
			if err := run.Get(ctx, &out); err != nil {
				return err
			}
			// A send's contents are stored beside it, a batch at a time:
			// its cost ends when the last is stored, so none is counted
			// in the next send's.
			return contentsStored(ctx, p.st, runKey, quarter)
		})
		if err != nil {
			return fmt.Errorf("care send (%s): %w", topic, err)
		}
		used, ok := readPgCPU(ctx, p.st).since(pg0)
		pgOK = pgOK && ok
		got := p.sink.Count() - before
		if got != quarter || out.Counts.Sent != quarter {
			return invariant("care send (%s): sink %d, tally %d sent (%d skipped, %d failed); want %d each",
				topic, got, out.Counts.Sent, out.Counts.Skipped, out.Counts.Failed, quarter)
		}
		use[on], pg[on], bytes[on] = use[on].add(u), pg[on]+used, bytes[on]+p.sink.Bytes()-b0
	}

	half := 2 * quarter
	var tracked, opens, untracked int
	if err := p.st.Pool().QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE m.topic = $1 AND c.tracked AND c.html LIKE '%/o/%'),
			count(*) FILTER (WHERE m.topic = $1 AND c.html LIKE '%/o/%'),
			count(*) FILTER (WHERE m.topic = $2 AND NOT c.tracked AND c.html NOT LIKE '%/o/%')
		FROM messages m JOIN message_contents c ON c.message_id = m.id`,
		delivery.TopicMarketing, untrackedTopic).Scan(&tracked, &opens, &untracked); err != nil {
		return fmt.Errorf("count the message log: %w", err)
	}
	if tracked != half || opens != half || untracked != half {
		return invariant("message log: %d tracked contents with %d pixels, %d untracked without; want %d each", tracked, opens, untracked, half)
	}
	res := r.res
	res.check("the sink counted exactly %d messages from each care send", quarter)
	res.check("the message log holds %d tracked messages, each with the open pixel, and %d untracked without it", tracked, untracked)
	res.Baseline = fmt.Sprintf("the same care send with tracking off for its topic: %d messages tracked and %d untracked, in sends of %d alternating tracked, untracked, untracked, tracked", half, half, quarter)
	perK := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(half) }
	ratio := res.compare("emails/s", "", float64(half)/use[0].Wall.Seconds(), float64(half)/use[1].Wall.Seconds())
	res.compare("CPU seconds per 1,000 emails", "s", perK(use[0].CPU), perK(use[1].CPU))
	if pgOK {
		res.compare("CPU seconds per 1,000 emails, with PostgreSQL's", "s", perK(use[0].CPU+pg[0]), perK(use[1].CPU+pg[1]))
	}
	res.compare("peak RSS of the process", "MB", use[0].PeakMB, use[1].PeakMB)
	res.compare("average message size", "bytes", float64(bytes[0])/float64(half), float64(bytes[1])/float64(half))
	res.goal("tracking's cost", fmt.Sprintf("tracked rate ≥ %.2f× the untracked", trackingRateGoal), fmt.Sprintf("%.2f×", ratio), ratio >= trackingRateGoal)
	res.note("tracked: the marketing topic, links rewritten to signed redirects and the open pixel added; untracked: the same topic's policy with tracking: false. The message log keeps every message's content in both")
	return nil
}

// contentsStored waits until the message log holds n contents of the care
// send runKey, or 30 s.
func contentsStored(ctx context.Context, st *store.Store, runKey string, n int) error {
	for wait := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var got int
		if err := st.Pool().QueryRow(ctx, `
			SELECT count(*) FROM messages m JOIN message_contents c ON c.message_id = m.id
			WHERE m.idempotency_key LIKE $1`, "care/"+runKey+"/%").Scan(&got); err != nil {
			return fmt.Errorf("count the message log: %w", err)
		}
		if got >= n || time.Now().After(wait) {
			return nil
		}
	}
}
