package devserver

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// temporalLogger passes the server's warnings and errors to slog and drops
// its debug and info chatter, which would bury the dev command's own output.
// Once the server is stopping, everything is dropped: services lose each
// other as they shut down one by one and report it (Stop reports a failure
// to stop itself). The tags of With are kept as they are and turned into
// attributes only when a record is logged: the server calls With for every
// request and task (2% of the CPU of a run of journeys when each call built
// a slog logger), and logs a warning rarely.
type temporalLogger struct {
	log      *slog.Logger
	tags     []tag.Tag
	stopping *atomic.Bool
}

var (
	_ log.Logger     = temporalLogger{}
	_ log.WithLogger = temporalLogger{}
)

func newTemporalLogger(l *slog.Logger) temporalLogger {
	return temporalLogger{log: l.With("component", "temporal"), stopping: new(atomic.Bool)}
}

func (l temporalLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if l.stopping.Load() || !l.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(l.tags)+len(tags))
	for _, t := range slices.Concat(l.tags, tags) {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

func (temporalLogger) Debug(string, ...tag.Tag) {}
func (temporalLogger) Info(string, ...tag.Tag)  {}

func (l temporalLogger) Warn(msg string, tags ...tag.Tag)   { l.emit(slog.LevelWarn, msg, tags) }
func (l temporalLogger) Error(msg string, tags ...tag.Tag)  { l.emit(slog.LevelError, msg, tags) }
func (l temporalLogger) DPanic(msg string, tags ...tag.Tag) { l.emit(slog.LevelError, msg, tags) }
func (l temporalLogger) Panic(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	panic(msg)
}
func (l temporalLogger) Fatal(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	panic("temporal fatal: " + msg)
}

func (l temporalLogger) With(tags ...tag.Tag) log.Logger {
	return temporalLogger{log: l.log, tags: slices.Concat(l.tags, tags), stopping: l.stopping}
}

// quietSDKLogger silences the SDK client used while waiting for the
// frontend: its retries are expected then.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}
