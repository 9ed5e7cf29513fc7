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

// recorder writes each message's outcome as soon as its provider answered,
// so a crash resends only the messages whose outcome was not written yet
// (at most one per send slot, see Options.InFlight). Outcomes that arrive
// while a write is under way share the next one (a group commit): under
// load one UPDATE records the answers of every connection, and alone a
// message waits for its own UPDATE only.
type recorder struct {
	complete func(context.Context, []store.Completion) error
	mu       sync.Mutex
	queue    []pendingOutcome
	busy     bool
}

type pendingOutcome struct {
	c    store.Completion
	done chan error
}

// record writes c and returns once it is committed, or the error that kept
// it from being written within recordTimeout.
func (r *recorder) record(c store.Completion) error {
	done := make(chan error, 1)
	r.mu.Lock()
	r.queue = append(r.queue, pendingOutcome{c: c, done: done})
	lead := !r.busy
	r.busy = true
	r.mu.Unlock()
	if lead {
		r.flush()
	}
	return <-done
}

// flush writes what is queued; if more arrived meanwhile, a new goroutine
// writes that, so this caller is not held up by the others' traffic.
func (r *recorder) flush() {
	r.mu.Lock()
	batch := r.queue
	r.queue = nil
	r.mu.Unlock()

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
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		r.busy = false
		return
	}
	go r.flush()
}
