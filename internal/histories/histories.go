// Package histories records workflow histories for the replay test in
// workflows/ (TestReplayCommittedHistories): a test that ran a journey on a
// real Temporal server writes the run's history as JSON when
// TIDINGS_WRITE_HISTORIES is set. Record a new history under a new name for
// a new journey or a new version of one; never rewrite an old one to make a
// failing replay pass.
package histories

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
)

// Env is the variable that asks for histories to be written.
const Env = "TIDINGS_WRITE_HISTORIES"

// Record writes run's history to dir/name.json (dir is workflows/testdata
// as seen from the test's package) when Env is set, and does nothing
// otherwise.
func Record(t testing.TB, c client.Client, run client.WorkflowRun, dir, name string) {
	t.Helper()
	if os.Getenv(Env) == "" {
		return
	}
	path := filepath.Join(dir, name+".json")
	n, err := write(t.Context(), c, run, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, n)
}

func write(ctx context.Context, c client.Client, run client.WorkflowRun, path string) (int, error) {
	var h historypb.History
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return 0, fmt.Errorf("history of %s: %w", run.GetID(), err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		return 0, err
	}
	return len(h.Events), os.WriteFile(path, append(b, '\n'), 0o644)
}
