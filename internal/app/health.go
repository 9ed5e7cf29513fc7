package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// health is what a process knows of its dependencies between checks: what
// it last learnt of Temporal, and its worker's state.
type health struct {
	mu          sync.Mutex
	temporalErr error
	asked       bool
	worker      string
}

func (h *health) setTemporal(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.temporalErr, h.asked = err, true
}

// Worker states /healthz reports.
const (
	WorkerWaiting = "waiting for Temporal"
	WorkerPolling = "polling"
	WorkerStopped = "stopped"
)

// SetWorkerState records the worker's state for /healthz and /readyz; a
// process that runs a worker is ready only while it polls.
func (a *App) SetWorkerState(state string) {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	a.health.worker = state
}

// Report is what /healthz and /readyz answer: "ok" or "unavailable", and
// each dependency's state ("ok", or what is wrong).
type Report struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

const stateOK = "ok"

// OK reports whether everything checked is ok.
func (r Report) OK() bool { return r.Status == stateOK }

// Health checks every dependency of the process now: the database, Temporal
// (its frontend and namespace) and the worker when the process runs one.
// It is not OK when any is not ok. Monitoring reads it; it is not a reason
// to restart the process (see Ready).
func (a *App) Health(ctx context.Context) Report {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": a.databaseState(ctx), "temporal": a.temporalState(ctx)}
	a.health.mu.Lock()
	if a.health.worker != "" {
		checks["worker"] = a.health.worker
	}
	a.health.mu.Unlock()
	ok := true
	for k, v := range checks {
		if v != stateOK && !(k == "worker" && v == WorkerPolling) {
			ok = false
		}
	}
	return report(ok, checks)
}

// Ready says whether the process can do its work now, for load balancers
// and orchestrators: the API needs the database (events wait in the outbox
// while Temporal is away), a worker needs the database and to be polling
// Temporal.
func (a *App) Ready(ctx context.Context) Report {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": a.databaseState(ctx)}
	ok := checks["database"] == stateOK
	a.health.mu.Lock()
	worker := a.health.worker
	a.health.mu.Unlock()
	if worker != "" {
		checks["worker"] = worker
		ok = ok && worker == WorkerPolling
	}
	return report(ok, checks)
}

func report(ok bool, checks map[string]string) Report {
	if ok {
		return Report{Status: stateOK, Checks: checks}
	}
	return Report{Status: "unavailable", Checks: checks}
}

func (a *App) databaseState(ctx context.Context) string {
	if a.store == nil {
		return "not opened"
	}
	if err := a.store.Pool().Ping(ctx); err != nil {
		return "unreachable: " + err.Error()
	}
	return stateOK
}

func (a *App) temporalState(ctx context.Context) string {
	a.health.mu.Lock()
	err, asked := a.health.temporalErr, a.health.asked
	a.health.mu.Unlock()
	switch {
	case err != nil:
		return "waiting: " + err.Error()
	case a.temporal == nil && !asked:
		return "not connected"
	case a.temporal == nil:
		return "waiting: connecting"
	}
	if err := a.probe(ctx, a.temporal); err != nil {
		return "unreachable: " + err.Error()
	}
	return stateOK
}

// OpsHandler serves /metrics (Prometheus: the process's, the Temporal
// SDK's and Tidings' own series), /healthz and /readyz, for processes
// without the HTTP API (the worker); the API serves the same on its own
// address.
func (a *App) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { WriteReport(w, a.Health(r.Context())) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { WriteReport(w, a.Ready(r.Context())) })
	return mux
}

// WriteReport answers a health request: 200 when rep is OK, 503 when not,
// with the report as JSON.
func WriteReport(w http.ResponseWriter, rep Report) {
	w.Header().Set("Content-Type", "application/json")
	if !rep.OK() {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}

// ServeOps serves OpsHandler on addr until the returned func is called
// (the worker's metrics and health address).
func (a *App) ServeOps(addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, badConfig(fmt.Errorf("metrics and health endpoints: listen on %s: %w (set TIDINGS_METRICS_ADDR)", addr, err))
	}
	srv := &http.Server{Handler: a.OpsHandler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics and health endpoints stopped", "err", err)
		}
	}()
	a.log.Info("metrics and health endpoints listening", "addr", ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
