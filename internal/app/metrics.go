package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/tidingsdev/tidings/internal/store"
)

// temporalMetrics is the Temporal SDK's metrics handler, reporting through
// tally's Prometheus reporter into reg under the SDK's Prometheus names
// (temporal_workflow_task_schedule_to_start_latency_seconds,
// temporal_activity_execution_failed_total, ...). Timers are histograms, so
// they can be summed across workers. The returned func stops the reporter.
func temporalMetrics(reg prometheus.Registerer) (client.MetricsHandler, func()) {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:       reg,
		DefaultTimerType: tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: []float64{
			0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), func() { _ = closer.Close() }
}

// storeCollector reads the ledger and the outbox at scrape time, so the
// numbers are the system of record's (every process reports the same), not
// one process's memory of what it sent.
type storeCollector struct {
	store *store.Store
}

var (
	messagesDesc = prometheus.NewDesc("tidings_messages",
		"Messages in the delivery ledger by channel and status (queued, sent, failed, skipped).",
		[]string{"channel", "status"}, nil)
	outboxDesc = prometheus.NewDesc("tidings_event_outbox",
		"Stored events not yet routed to their journeys.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("tidings_event_outbox_oldest_age_seconds",
		"How long the oldest event not yet routed has waited (0 when the outbox is empty).", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("tidings_store_scrape_error",
		"1 when the last scrape could not read the database.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- outboxDesc
	ch <- outboxAgeDesc
	ch <- scrapeErrDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	failed := 0.0
	counts, err := c.store.LedgerCounts(ctx)
	if err != nil {
		failed = 1
	}
	for _, lc := range counts {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(lc.Count), lc.Channel, lc.Status)
	}
	if o, err := c.store.OutboxStats(ctx); err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(o.Size))
		ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, o.OldestAge.Seconds())
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}
