package workflows

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplayCommittedHistories replays histories recorded from real runs
// (worker/worker_test.go with TIDINGS_WRITE_HISTORIES=1) against today's
// code. A change that would break journeys already running fails here: guard
// it with workflow.GetVersion instead of rewriting the histories.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("read %s: %v", path, err)
			}
			if len(h.Events) == 0 {
				t.Fatalf("%s holds no events", path)
			}
			covered[h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()] = true

			replayer := worker.NewWorkflowReplayer()
			Register(replayer)
			if err := replayer.ReplayWorkflowHistory(logger, h); err != nil {
				t.Errorf("replaying %s: %v", path, err)
			}
		})
	}
	for name := range Registered() {
		if !covered[name] {
			t.Errorf("no committed history replays workflow %s; record one (see worker/worker_test.go)", name)
		}
	}
}
