package api

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidingsdev/tidings/internal/store"
)

// httpMetrics counts requests by route and status, and exposes the delivery
// ledger and the event outbox as they stand in PostgreSQL.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer, s *store.Store) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidings_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tidings_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration, &storeCollector{store: s}, &engagementCollector{store: s})
	return m
}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// storeCollector reads the ledger and outbox at scrape time, so the numbers
// are the system of record's (every process reports the same), not one
// process's memory of what it sent.
type storeCollector struct {
	store *store.Store
}

var (
	messagesDesc = prometheus.NewDesc("tidings_messages",
		"Messages in the delivery ledger by channel and status (queued, sent, failed, skipped).",
		[]string{"channel", "status"}, nil)
	outboxDesc = prometheus.NewDesc("tidings_event_outbox",
		"Stored events not yet routed to their journeys.", nil, nil)
	scrapeErrDesc = prometheus.NewDesc("tidings_store_scrape_error",
		"1 when the last scrape could not read the database.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- outboxDesc
	ch <- scrapeErrDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
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
	if n, err := c.store.OutboxSize(ctx); err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}
