package activities

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// HeartbeatEvery is how often a batch heartbeats its progress, whatever it
// is doing (a page of sends over a slow relay, a wait before a retry). The
// batch activity options (workflows) time an attempt out after 10 s without
// a heartbeat, so a batch held by a dead worker is retried within seconds
// while a live one, however slow its relay, never trips it.
const HeartbeatEvery = time.Second

// ErrWorkerStopping is the retryable error a batch ends with when its
// worker is told to stop: it hands the batch back at once, its progress in
// the last heartbeat, so another worker resumes it within seconds instead
// of after the stop timeout and a heartbeat timeout.
const ErrWorkerStopping = "WorkerStopping"

// heartbeat sends a batch's latest progress every HeartbeatEvery from its
// own goroutine, so the cadence does not depend on how long a page takes.
type heartbeat struct {
	ctx  context.Context
	mu   sync.Mutex
	last any
	stop chan struct{}
	done chan struct{}
}

// startHeartbeat heartbeats p now and then every HeartbeatEvery until end.
func startHeartbeat(ctx context.Context, p any) *heartbeat {
	h := &heartbeat{ctx: ctx, last: p, stop: make(chan struct{}), done: make(chan struct{})}
	activity.RecordHeartbeat(ctx, p)
	go func() {
		defer close(h.done)
		t := time.NewTicker(HeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.mu.Lock()
				activity.RecordHeartbeat(ctx, h.last)
				h.mu.Unlock()
			}
		}
	}()
	return h
}

// set makes p the progress heartbeated from now on and sends it at once
// (the SDK batches it into its next report). p must not be changed after.
func (h *heartbeat) set(p any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = p
	activity.RecordHeartbeat(h.ctx, p)
}

// end stops the ticker.
func (h *heartbeat) end() {
	close(h.stop)
	<-h.done
}

// stopping returns ErrWorkerStopping once the worker is stopping, or the
// context's error once it has ended, and nil while the batch may go on.
// Batches check it between chunks: what a chunk handed to the relay is
// recorded before it returns, so the next attempt resumes after it.
func stopping(ctx context.Context) error {
	select {
	case <-activity.GetWorkerStopChannel(ctx):
		return temporal.NewApplicationError("worker stopping; the batch resumes on another worker", ErrWorkerStopping)
	default:
	}
	return ctx.Err()
}
