package devserver

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/server/common/log/tag"
)

func TestTemporalLoggerPassesWarningsWithTheirTags(t *testing.T) {
	var buf bytes.Buffer
	l := newTemporalLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	shard := l.With(tag.ShardID(1)).(temporalLogger)
	task := shard.With(tag.WorkflowID("journey/onboarding/c-1"))
	_ = shard.With(tag.WorkflowID("journey/winback/c-2")) // a sibling must not leak into task

	task.Info("chatter", tag.Attempt(1))
	task.Warn("slow persistence", tag.Attempt(2))
	got := buf.String()
	for _, want := range []string{"level=WARN", `msg="slow persistence"`, "component=temporal", "shard-id=1", "wf-id=journey/onboarding/c-1", "attempt=2"} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %s", got, want)
		}
	}
	if strings.Contains(got, "chatter") || strings.Contains(got, "winback") || strings.Count(got, "\n") != 1 {
		t.Errorf("log %q: want the one warning only, with its own tags", got)
	}

	buf.Reset()
	l.stopping.Store(true)
	task.Error("peer lost")
	if buf.Len() != 0 {
		t.Errorf("logged %q while stopping", buf.String())
	}
}
