package app

import (
	"errors"
	"log/slog"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// TemporalLogger is the Temporal SDK's logger over the process's: the same
// handler (so JSON when TIDINGS_LOG_FORMAT=json), with a failed activity
// attempt that Temporal retries (an SMTP 421 or 451, a provider's 429, a
// timeout) logged as a warning with its reason. The SDK logs every failed
// attempt as an error; only a failure that is not retried needs a person.
func TemporalLogger(log *slog.Logger) sdklog.Logger {
	return retryLogger{sdklog.NewStructuredLogger(log)}
}

type retryLogger struct{ sdklog.Logger }

// sdkActivityError is the message the SDK logs a failed activity attempt
// with; its error is under the key "Error".
const sdkActivityError = "Activity error."

func (l retryLogger) Error(msg string, keyvals ...any) {
	if msg == sdkActivityError && retried(keyvals) {
		l.Logger.Warn("Activity attempt failed; Temporal retries it", keyvals...)
		return
	}
	l.Logger.Error(msg, keyvals...)
}

// With keeps the downgrade on the loggers the SDK derives (per worker, per
// activity).
func (l retryLogger) With(keyvals ...any) sdklog.Logger {
	if w, ok := l.Logger.(sdklog.WithLogger); ok {
		return retryLogger{w.With(keyvals...)}
	}
	return l
}

// retried reports whether the error among keyvals is one Temporal retries:
// anything but a non-retryable application error or a cancellation.
func retried(keyvals []any) bool {
	for i := 0; i+1 < len(keyvals); i += 2 {
		if k, _ := keyvals[i].(string); k != "Error" {
			continue
		}
		err, ok := keyvals[i+1].(error)
		if !ok {
			return false
		}
		var app *temporal.ApplicationError
		var canceled *temporal.CanceledError
		return !(errors.As(err, &app) && app.NonRetryable()) && !errors.As(err, &canceled)
	}
	return false
}
