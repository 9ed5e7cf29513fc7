package bench

import (
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// recorder is a Temporal SDK metrics handler that keeps the timers' count
// and sum in memory by metric name and the tag that matters for it
// (activity type, workflow type or RPC operation), so a run can say where
// the time went: workflow tasks on the worker, activities, or the server
// answering calls (which is mostly persistence).
type recorder struct {
	mu     sync.Mutex
	timers map[timerKey]*timerStat
}

type timerKey struct{ name, tag string }

type timerStat struct {
	n   int64
	sum time.Duration
}

func newRecorder() *recorder { return &recorder{timers: map[timerKey]*timerStat{}} }

// reset forgets everything recorded so far, so each phase is measured alone.
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timers = map[timerKey]*timerStat{}
}

// snapshot returns a copy of the timers.
func (r *recorder) snapshot() map[timerKey]timerStat {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[timerKey]timerStat, len(r.timers))
	for k, v := range r.timers {
		out[k] = *v
	}
	return out
}

func (r *recorder) record(k timerKey, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.timers[k]
	if s == nil {
		s = &timerStat{}
		r.timers[k] = s
	}
	s.n++
	s.sum += d
}

// WithTags implements client.MetricsHandler.
func (r *recorder) WithTags(tags map[string]string) client.MetricsHandler {
	return &tagged{r: r, tags: tags}
}

// Counter implements client.MetricsHandler; counts are not needed.
func (r *recorder) Counter(string) client.MetricsCounter { return client.MetricsNopHandler.Counter("") }

// Gauge implements client.MetricsHandler; gauges are not needed.
func (r *recorder) Gauge(string) client.MetricsGauge { return client.MetricsNopHandler.Gauge("") }

// Timer implements client.MetricsHandler.
func (r *recorder) Timer(name string) client.MetricsTimer { return (&tagged{r: r}).Timer(name) }

type tagged struct {
	r    *recorder
	tags map[string]string
}

func (t *tagged) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(t.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &tagged{r: t.r, tags: merged}
}

func (t *tagged) Counter(string) client.MetricsCounter { return client.MetricsNopHandler.Counter("") }
func (t *tagged) Gauge(string) client.MetricsGauge     { return client.MetricsNopHandler.Gauge("") }

func (t *tagged) Timer(name string) client.MetricsTimer {
	k := timerKey{name: name}
	for _, tag := range []string{"operation", "activity_type", "workflow_type"} {
		if v := t.tags[tag]; v != "" {
			k.tag = v
			break
		}
	}
	return timerFunc(func(d time.Duration) { t.r.record(k, d) })
}

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// slotTime is the time the send path's email slots spent in each phase so
// far (tidings_send_slot_seconds_total), read from the product's registry.
type slotTime struct{ relay, record float64 }

func readSlotTime(reg prometheus.Gatherer) slotTime {
	var t slotTime
	families, err := reg.Gather()
	if err != nil {
		return t
	}
	for _, f := range families {
		if f.GetName() != "tidings_send_slot_seconds_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["channel"] != "email" {
				continue
			}
			switch labels["phase"] {
			case "relay":
				t.relay += m.GetCounter().GetValue()
			case "record":
				t.record += m.GetCounter().GetValue()
			}
		}
	}
	return t
}

// slotRows says how the SMTP connections spent a phase of wall time: in the
// dialogue, waiting for the outcome's commit, or with no message to send.
func slotRows(before, after slotTime, wall time.Duration, connections int) []Row {
	total := wall.Seconds() * float64(connections)
	relay, record := after.relay-before.relay, after.record-before.record
	return []Row{
		{Name: "SMTP connections' time in the dialogue", Unit: "%", Value: 100 * relay / total},
		{Name: "SMTP connections' time waiting for the outcome's commit", Unit: "%", Value: 100 * record / total},
		{Name: "SMTP connections' time with no message to send", Unit: "%", Value: 100 * (total - relay - record) / total},
	}
}
