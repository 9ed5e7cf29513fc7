package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"

	"github.com/tidingsdev/tidings/internal/app"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) records(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// TestActivityRetriesAreWarnings runs a real worker on a real Temporal
// server whose activity fails as an SMTP relay's 451 does, then succeeds,
// and one that fails for good: the SDK's report of the retried attempt is a
// warning carrying the reason, the final failure stays an error.
func TestActivityRetriesAreWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	srv := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: app.TemporalLogger(log)}))
	var calls int
	send := func(context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("451 4.7.1 greylisted, try again later")
		}
		return nil
	}
	refuse := func(context.Context) error {
		return temporal.NewNonRetryableApplicationError("550 5.1.1 no such user", "DeliveryRejected", nil)
	}
	flow := func(ctx workflow.Context, name string) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond}})
		return workflow.ExecuteActivity(ctx, name).Get(ctx, nil)
	}
	srv.NewWorker("retries", func(r worker.Registry) {
		r.RegisterWorkflowWithOptions(flow, workflow.RegisterOptions{Name: "Flow"})
		r.RegisterActivityWithOptions(send, activityName("Send"))
		r.RegisterActivityWithOptions(refuse, activityName("Refuse"))
	})
	c := srv.GetDefaultClient()
	for _, act := range []string{"Send", "Refuse"} {
		run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{TaskQueue: "retries"}, "Flow", act)
		if err != nil {
			t.Fatal(err)
		}
		err = run.Get(t.Context(), nil)
		if (act == "Send") != (err == nil) {
			t.Fatalf("%s: %v", act, err)
		}
	}
	var warned, errored int
	for _, rec := range logs.records(t) {
		msg, _ := rec["msg"].(string)
		reason, _ := rec["Error"].(string)
		switch {
		case rec["level"] == "WARN" && msg == "Activity attempt failed; Temporal retries it" && strings.Contains(reason, "451 4.7.1"):
			warned++
		case rec["level"] == "ERROR" && strings.Contains(reason, "451"):
			t.Errorf("a retried attempt is logged as an error: %v", rec)
		case rec["level"] == "ERROR" && strings.Contains(reason, "550 5.1.1"):
			errored++
		}
	}
	if warned != 1 || errored != 1 {
		t.Errorf("%d warnings for the retried 451, %d errors for the 550; want 1 and 1\n%s", warned, errored, logs.b.String())
	}
}

func activityName(n string) activity.RegisterOptions { return activity.RegisterOptions{Name: n} }
