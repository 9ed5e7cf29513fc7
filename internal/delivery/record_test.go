package delivery

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// writes keeps every batch of outcomes the recorder wrote, in order.
type writes struct {
	mu      sync.Mutex
	batches [][]string
}

func (w *writes) complete(_ context.Context, cs []store.Completion) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	w.batches = append(w.batches, ids)
	return nil
}

func (w *writes) got() [][]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.batches)
}

// recordAll records each ID from its own goroutine, as each connection
// does, and waits until every one is written.
func recordAll(t *testing.T, r *recorder, ids ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if err := r.record(store.Completion{ID: id}); err != nil {
				t.Errorf("record %s: %v", id, err)
			}
		})
	}
	wg.Wait()
}

// TestOutcomesOfEveryConnectionShareOneWrite: three messages handed over at
// once are recorded by one write, made once the last relay answered; no
// answer is reported written before that write.
func TestOutcomesOfEveryConnectionShareOneWrite(t *testing.T) {
	var w writes
	r := &recorder{complete: w.complete, linger: time.Hour}
	for range 3 {
		r.begin()
	}
	answered := make(chan struct{})
	go func() {
		recordAll(t, r, "a", "b")
		close(answered)
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case <-answered:
		t.Fatalf("two outcomes were reported written while a third connection was still sending; writes %v", w.got())
	default:
	}
	recordAll(t, r, "c")
	<-answered
	if got := w.got(); len(got) != 1 || !slices.Equal(got[0], []string{"a", "b", "c"}) {
		t.Errorf("writes %v, want one write of a, b and c", got)
	}
}

// TestTemporaryFailureDoesNotHoldOthersOutcomes: a hand-over that failed
// temporarily records nothing, and the answers waiting for it are written
// at once.
func TestTemporaryFailureDoesNotHoldOthersOutcomes(t *testing.T) {
	var w writes
	r := &recorder{complete: w.complete, linger: time.Hour}
	r.begin()
	r.begin()
	done := make(chan struct{})
	go func() {
		recordAll(t, r, "a")
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	r.end()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the outcome was not written after the other hand-over failed")
	}
	if got := w.got(); len(got) != 1 || !slices.Equal(got[0], []string{"a"}) {
		t.Errorf("writes %v, want one write of a", got)
	}
}

// TestSlowRelayHoldsOthersOutcomesOnlyForTheLinger: a connection whose relay
// does not answer delays the others' outcomes by the linger, not until it
// answers.
func TestSlowRelayHoldsOthersOutcomesOnlyForTheLinger(t *testing.T) {
	var w writes
	r := &recorder{complete: w.complete, linger: 20 * time.Millisecond}
	r.begin() // never answers
	r.begin()
	r.begin()
	recordAll(t, r, "a", "b")
	if got := w.got(); len(got) == 0 || len(got) > 2 {
		t.Errorf("writes %v, want a and b written without the third", got)
	}
}
