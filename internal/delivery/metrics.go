package delivery

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/channels/sms"
)

// Metrics counts what the send path did with each message and times the
// provider's answers; nil counts nothing. Build it with NewMetrics and give
// it to Options.Metrics; MeasureMailer and MeasureTexter time the providers.
type Metrics struct {
	messages *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// pending is the batches' remaining work: messages handed to SendBatch
	// and not yet decided. It falls chunk by chunk, so a stalled batch
	// shows as a flat line above zero.
	pending prometheus.Gauge
	// slots is the time the send slots (one per SMTP connection, see
	// Options.InFlight) spent in the provider's dialogue and, before a
	// final dot, waiting for earlier outcomes to be written; beside the wall time and the pool's size it
	// says how much of the time the connections were idle.
	slots *prometheus.CounterVec
}

// Phases of tidings_send_slot_seconds_total.
const (
	slotRelay  = "relay"  // the provider's dialogue (SMTP, the SMS API)
	slotRecord = "record" // waiting for earlier outcomes' commit before the relay may accept the message
)

// Statuses of tidings_messages_total beyond the Result statuses: a
// temporary failure that Temporal retries.
const statusRetry = "retry"

// NewMetrics registers the send path's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidings_messages_total",
			Help: "Messages through the send path by channel, topic, template, journey (or campaign), status " +
				"(sent, skipped, failed, deferred, retry) and reason (opted_out, no_opt_in, suppressed, frequency_cap, " +
				"quiet_hours, no_address, a permanent failure's type, temporary).",
		}, []string{"channel", "topic", "template", "journey", "status", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tidings_send_duration_seconds",
			Help:    "Time the provider took to accept or refuse one message (the SMTP dialogue, the SMS API call), by channel.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tidings_batch_messages_pending",
			Help: "Messages handed to the send path in a batch (a campaign page, a sweep, a care send) and not yet decided; falls as each chunk completes.",
		}),
		slots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidings_send_slot_seconds_total",
			Help: "Time the send slots (one per SMTP connection; the SMS concurrency) were held, by channel and phase: " +
				"relay (the provider's dialogue) and record (waiting, before the relay may accept a message, for the outcomes before it to be written). " +
				"Its rate below the pool's size is time the connections waited for work.",
		}, []string{"channel", "phase"}),
	}
	reg.MustRegister(m.messages, m.latency, m.pending, m.slots)
	return m
}

// observe counts the outcome of each request of a batch, as SendBatch
// returns them. A duplicate (sent before, nothing sent now) is not counted
// again.
func (m *Metrics) observe(reqs []Request, results []Result, errs []error) {
	if m == nil {
		return
	}
	for i, req := range reqs {
		status, reason := results[i].Status, reasonLabel(results[i].Reason)
		switch {
		case errs[i] != nil:
			if typ, ok := IsPermanent(errs[i]); ok {
				status, reason = Failed, typ
			} else {
				status, reason = statusRetry, "temporary"
			}
		case results[i].Duplicate:
			continue
		case status == Sent:
			reason = ""
		}
		m.messages.WithLabelValues(req.Channel, req.Topic, req.Template, req.Journey, status, reason).Inc()
	}
}

// begin adds n messages to the batches' remaining work; done takes n off
// once their chunk is decided.
func (m *Metrics) begin(n int) {
	if m != nil {
		m.pending.Add(float64(n))
	}
}

func (m *Metrics) done(n int) {
	if m != nil {
		m.pending.Sub(float64(n))
	}
}

// reasonLabel keeps a reason's kind (frequency_cap, suppressed, ...) and
// drops its details, so the label has a handful of values.
func reasonLabel(reason string) string {
	kind, _, _ := strings.Cut(reason, ":")
	switch kind {
	case ReasonNoAddress, ReasonOptedOut, ReasonNoOptIn, ReasonSuppressed, ReasonFrequencyCap, "quiet_hours", "":
		return kind
	}
	return "other"
}

func (m *Metrics) time(channel string, start time.Time) {
	if m != nil {
		m.latency.WithLabelValues(channel).Observe(time.Since(start).Seconds())
	}
}

// slot adds the time since start to a send slot's phase.
func (m *Metrics) slot(channel, phase string, start time.Time) {
	if m != nil {
		m.slots.WithLabelValues(channel, phase).Add(time.Since(start).Seconds())
	}
}

// MeasureMailer times each email the mailer hands to the relay.
func MeasureMailer(mailer Mailer, m *Metrics) Mailer {
	if mailer == nil || m == nil {
		return mailer
	}
	return measuredMailer{mailer, m}
}

type measuredMailer struct {
	Mailer
	m *Metrics
}

func (mm measuredMailer) Send(ctx context.Context, msg email.Message) (string, error) {
	defer mm.m.time(Email, time.Now())
	return mm.Mailer.Send(ctx, msg)
}

// MeasureTexter times each SMS the texter hands to the provider.
func MeasureTexter(texter Texter, m *Metrics) Texter {
	if texter == nil || m == nil {
		return texter
	}
	return measuredTexter{texter, m}
}

type measuredTexter struct {
	Texter
	m *Metrics
}

func (mt measuredTexter) Send(ctx context.Context, msg sms.Message) (sms.Receipt, error) {
	defer mt.m.time(SMS, time.Now())
	return mt.Texter.Send(ctx, msg)
}
