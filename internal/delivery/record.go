package delivery

import (
	"context"
	"time"
)

// Backoff of recordOutcomes: a database restart or failover takes seconds.
const (
	recordRetryFirst = 100 * time.Millisecond
	recordRetryMax   = 2 * time.Second
)

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
