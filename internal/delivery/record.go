package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// Backoff of recordOutcomes: a database restart or failover takes seconds.
const (
	recordRetryFirst = 100 * time.Millisecond
	recordRetryMax   = 2 * time.Second
)

// recordTimeout bounds recording one outcome; the provider already has the
// message, so recording does not end with the caller's context.
const recordTimeout = 30 * time.Second

// recordLinger is how long an answer waits for the other connections'
// before its write starts without them: about a message's SMTP dialogue
// with a nearby relay, so the connections fall into step and each write
// carries one answer from each.
const recordLinger = 2 * time.Millisecond

// recordOutcomes records what the providers said about messages they have
// already taken, retrying until it succeeds or ctx ends (recordTimeout). A
// row left queued is sent again by the activity's retry, so giving up at
// the first error would turn a PostgreSQL restart in the middle of a send
// into a second copy of every message in flight.
func recordOutcomes(ctx context.Context, record func(context.Context) error) error {
	wait := recordRetryFirst
	for {
		err := record(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, recordRetryMax)
	}
}

// recorder writes each message's outcome before its send slot takes the
// next message, so a crash resends only the messages whose outcome was not
// written yet (at most one per send slot, see Options.InFlight). The
// outcomes of every slot share one write (a group commit across
// connections): a write starts once every message handed over has
// answered, or once the oldest answer has waited recordLinger, so under
// load one UPDATE records an answer from every connection instead of from
// the few that answered while the previous write was under way, and a
// message sent alone waits for its own UPDATE only.
type recorder struct {
	complete func(context.Context, []store.Completion) error
	linger   time.Duration
	mu       sync.Mutex
	queue    []pendingOutcome
	// sending counts the messages handed to a provider whose answer has
	// not been queued yet: while it is above zero, a write waits (at most
	// linger) for them to join.
	sending int
	busy    bool        // a write is under way
	timer   *time.Timer // armed while answers wait for the others
	oldest  time.Time   // when the first queued answer arrived
}

type pendingOutcome struct {
	c    store.Completion
	done chan error
}

// begin counts a message being handed over; end or record must follow.
func (r *recorder) begin() {
	r.mu.Lock()
	r.sending++
	r.mu.Unlock()
}

// end counts a hand-over that left nothing to record (a temporary
// failure: the row stays queued for the retry).
func (r *recorder) end() {
	r.mu.Lock()
	r.sending--
	r.kick()
	r.mu.Unlock()
}

// record writes c and returns once it is committed, or the error that kept
// it from being written within recordTimeout.
func (r *recorder) record(c store.Completion) error {
	done := make(chan error, 1)
	r.mu.Lock()
	if len(r.queue) == 0 {
		r.oldest = time.Now()
	}
	r.queue = append(r.queue, pendingOutcome{c: c, done: done})
	r.sending--
	r.kick()
	r.mu.Unlock()
	return <-done
}

// kick starts a write when one is due, or arms the timer that starts it.
// r.mu is held.
func (r *recorder) kick() {
	if r.busy || len(r.queue) == 0 {
		return
	}
	wait := r.linger - time.Since(r.oldest)
	if r.sending > 0 && wait > 0 {
		if r.timer == nil {
			r.timer = time.AfterFunc(wait, func() {
				r.mu.Lock()
				r.timer = nil
				r.kick()
				r.mu.Unlock()
			})
		}
		return
	}
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.busy = true
	batch := r.queue
	r.queue = nil
	go r.flush(batch)
}

// flush writes one batch of answers and then lets the next one go.
func (r *recorder) flush(batch []pendingOutcome) {
	cs := make([]store.Completion, len(batch))
	for i, p := range batch {
		cs[i] = p.c
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	err := recordOutcomes(ctx, func(ctx context.Context) error { return r.complete(ctx, cs) })
	cancel()
	for _, p := range batch {
		p.done <- err
	}
	r.mu.Lock()
	r.busy = false
	r.kick()
	r.mu.Unlock()
}
