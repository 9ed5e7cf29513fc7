package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/worker"
)

// smtpConnections is how many live connections both the send path and the
// bare loop keep to the sink.
const smtpConnections = 10

// scratchDB creates a database for this run on the configured server,
// assembles the product over it as `tidings` does from its configuration
// (internal/app), with the run's own signing secret, task queue (queue, ""
// for the configured one) and, for the send path, the SMTP relay at
// smtpURL, and migrates it. The database (with any
// Temporal databases beside it) is dropped when the run ends.
func (r *run) scratchDB(ctx context.Context, queue, smtpURL string) (*app.App, *store.Store, string, error) {
	return r.scratchCopy(ctx, "", queue, smtpURL)
}

// scratchCopy is scratchDB starting from a copy of the database template
// ("": an empty one). The copy is made file by file, which for a kept
// dataset of several gigabytes is much faster than writing it through the
// WAL.
func (r *run) scratchCopy(ctx context.Context, template, queue, smtpURL string) (*app.App, *store.Store, string, error) {
	admin := maintenanceURL(r.deps.Config.DatabaseURL)
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "tidings_bench_" + strings.ReplaceAll(r.res.Scenario, "-", "_") + "_" + hex.EncodeToString(b[:])
	conn, err := store.Connect(ctx, admin)
	if err != nil {
		return nil, nil, "", fmt.Errorf("connect to PostgreSQL to create a scratch database (set TIDINGS_DATABASE_URL): %w", err)
	}
	defer conn.Close(ctx)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize() + " STRATEGY FILE_COPY"
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		return nil, nil, "", fmt.Errorf("create scratch database %s: %w", name, err)
	}
	r.onEnd(func() { dropDatabases(admin, name, name+"_temporal", name+"_temporal_visibility") })
	dsn, err := withDatabase(r.deps.Config.DatabaseURL, name)
	if err != nil {
		return nil, nil, "", err
	}
	cfg := r.deps.Config
	cfg.DatabaseURL, cfg.SMTPURL, cfg.SMTPConnections = dsn, smtpURL, smtpConnections
	cfg.SigningSecret = "bench-" + hex.EncodeToString(b[:]) + "-signing-secret"
	if queue != "" {
		cfg.TemporalTaskQueue = queue
	}
	a := app.New(cfg, r.quiet())
	r.onEnd(a.Close)
	st, err := a.CreateStore(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := st.Migrate(ctx); err != nil {
		return nil, nil, "", fmt.Errorf("migrate scratch database %s: %w", name, err)
	}
	r.step("scratch database ready", "database", name)
	return a, st, dsn, nil
}

// quiet is the run's logger for the product: warnings only, since a line
// per message would measure the terminal.
func (r *run) quiet() *slog.Logger {
	return slog.New(minLevel{r.deps.Log.Handler(), slog.LevelWarn})
}

// dropDatabases drops the scratch databases; it runs after the scenario's
// context may have ended, so it has its own.
func dropDatabases(admin string, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := store.Connect(ctx, admin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: drop scratch databases %v: %v\n", names, err)
		return
	}
	defer conn.Close(ctx)
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop scratch database %s: %v\n", n, err)
		}
	}
}

// maintenanceURL is rawURL pointing at the server's postgres database.
func maintenanceURL(rawURL string) string {
	u, err := withDatabase(rawURL, "postgres")
	if err != nil {
		return rawURL
	}
	return u
}

func withDatabase(rawURL, db string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("database url %q: want postgres://user@host:port/db", rawURL)
	}
	u.Path = "/" + db
	return u.String(), nil
}

// temporal starts an embedded Temporal server for this run alone (its state
// in a temporary directory, or beside the scratch database dsn) and dials
// it; both stop when the run ends. metrics, when set, receives the SDK's
// metrics of every worker built on the client.
func (r *run) temporal(ctx context.Context, dsn string, metrics client.MetricsHandler) (client.Client, error) {
	warn := r.quiet()
	opt := devserver.Options{Persistence: r.deps.Temporal, FrontendPort: devserver.AnyPort, Logger: warn}
	switch r.deps.Temporal {
	case devserver.Postgres:
		opt.PostgresURL = dsn
	default:
		dir, err := os.MkdirTemp("", "tidings-bench-temporal-")
		if err != nil {
			return nil, fmt.Errorf("temporal data dir: %w", err)
		}
		r.onEnd(func() { _ = os.RemoveAll(dir) })
		opt.DataDir = dir
	}
	srv, err := devserver.Start(ctx, opt)
	if err != nil {
		return nil, err
	}
	r.onEnd(srv.Stop)
	co := srv.ClientOptions()
	co.Logger, co.MetricsHandler = app.TemporalLogger(warn), metrics
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("dial embedded temporal: %w", err)
	}
	r.onEnd(c.Close)
	r.step("embedded temporal ready", "persistence", r.deps.Temporal, "frontend", srv.FrontendHostPort())
	return c, nil
}

// product is Tidings as a run exercises it: the application assembled over
// a scratch database holding the generated customers, the SMTP sink, the
// embedded Temporal server and a worker running the journeys over the real
// send path.
type product struct {
	app    *app.App
	st     *store.Store
	sink   *smtpsink.Sink
	client client.Client
}

// startProduct generates n customers tagged tag (in daytime zones) and
// starts the sink, Temporal (reporting SDK metrics to metrics) and a worker
// on queue; register, when set, adds to what the worker registers. All of
// it stops, and the database is dropped, when the run ends.
func (r *run) startProduct(ctx context.Context, n int, tag, queue string, metrics client.MetricsHandler, register func(sdkworker.Registry)) (*product, error) {
	sink, err := smtpsink.Start(smtpsink.Options{Discard: true})
	if err != nil {
		return nil, err
	}
	r.onEnd(func() { _ = sink.Close() })
	a, st, dsn, err := r.scratchDB(ctx, queue, sink.URL())
	if err != nil {
		return nil, err
	}
	if err := addCustomers(ctx, st, n, tag, daytimeZones(time.Now())); err != nil {
		return nil, err
	}
	c, err := r.temporal(ctx, dsn, metrics)
	if err != nil {
		return nil, err
	}
	a.UseTemporal(c)
	var extra []func(sdkworker.Registry)
	if register != nil {
		extra = append(extra, register)
	}
	w, err := a.Worker(ctx, r.deps.Worker, extra...)
	if err != nil {
		return nil, err
	}
	r.startWorker(w)
	return &product{app: a, st: st, sink: sink, client: c}, nil
}

// startWorker runs w until the run ends.
func (r *run) startWorker(w *worker.Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			r.log.Warn("worker", "err", err)
		}
	}()
	r.onEnd(func() { cancel(); <-done })
}

// minLevel passes on only records at or above level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}

// usage is what a phase cost the process: wall time, CPU time (user +
// system, every goroutine: the worker, the embedded Temporal server, the
// SMTP sink) and the peak resident set size.
type usage struct {
	Wall   time.Duration
	CPU    time.Duration
	PeakMB float64
}

// add sums two phases: wall and CPU time add up, the peak is the higher.
func (u usage) add(o usage) usage {
	return usage{Wall: u.Wall + o.Wall, CPU: u.CPU + o.CPU, PeakMB: max(u.PeakMB, o.PeakMB)}
}

// measure runs fn and returns its usage. The peak RSS is reset first (Linux
// clear_refs), after handing freed memory back to the system, so each phase
// reports its own peak.
func measure(fn func() error) (usage, error) {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	cpu0, start := cpuTime(), time.Now()
	err := fn()
	u := usage{Wall: time.Since(start), CPU: cpuTime() - cpu0, PeakMB: peakRSSMB()}
	return u, err
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is the process's resident high-water mark since the last reset.
func peakRSSMB() float64 {
	if kb, ok := procField("/proc/self/status", "VmHWM"); ok {
		return float64(kb) / 1024
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// procField reads a "Name:   123 kB" line of a /proc file.
func procField(path, name string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		return n, err == nil
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// addCustomers inserts n customers carrying tag, named bench-<tag>-1..n,
// in one INSERT ... SELECT over generate_series: addresses, names, locales
// (en, zh-CN, zh-TW) and purchase histories vary with the row number. Time
// zones are drawn from zones. Every other customer has granted email
// marketing consent (so the send path's consent lookup finds rows), and as
// many suppressed addresses as a tenth of n, none of them a customer's, keep
// the suppression check honest.
func addCustomers(ctx context.Context, st *store.Store, n int, tag string, zones []string) error {
	_, err := st.Pool().Exec(ctx, `
		INSERT INTO customers (external_id, email, first_name, last_name, locale, time_zone, country, city,
			tags, orders_count, total_spent, first_purchase_at, last_purchase_at)
		SELECT 'bench-' || $2 || '-' || g, 'customer' || g || '@' || $2 || '.example',
			(ARRAY['Ada', 'Wei', 'Mei', 'Lars', 'Sofia', 'Kenji', 'Amara', 'Diego'])[1 + g % 8],
			(ARRAY['Lovelace', 'Zhang', 'Lin', 'Berg', 'Rossi', 'Sato', 'Okafor', 'Diaz'])[1 + (g / 8) % 8],
			(ARRAY['en', 'zh-CN', 'zh-TW'])[1 + g % 3],
			($3::text[])[1 + g % cardinality($3::text[])],
			(ARRAY['US', 'CN', 'TW', 'GB', 'DE'])[1 + g % 5],
			(ARRAY['Boston', 'Shanghai', 'Taipei', 'London', 'Berlin'])[1 + g % 5],
			ARRAY[$2::text], g % 7, (g % 7) * 42.50,
			CASE WHEN g % 7 > 0 THEN now() - (g % 700) * interval '1 day' END,
			CASE WHEN g % 7 > 0 THEN now() - (g % 300) * interval '1 day' END
		FROM generate_series(1, $1::int) g`, n, tag, zones)
	if err != nil {
		return fmt.Errorf("generate %d customers: %w", n, err)
	}
	_, err = st.Pool().Exec(ctx, `
		INSERT INTO consents (customer_id, channel, topic, status, source)
		SELECT id, 'email', 'marketing', 'granted', 'bench' FROM customers
		WHERE $1 = ANY (tags) AND orders_count % 2 = 0`, tag)
	if err != nil {
		return fmt.Errorf("generate consents: %w", err)
	}
	_, err = st.Pool().Exec(ctx, `
		INSERT INTO suppressions (channel, address, reason)
		SELECT 'email', 'bounced' || g || '@' || $2 || '.example', 'hard_bounce' FROM generate_series(1, $1::int) g`,
		max(n/10, 1), tag)
	if err != nil {
		return fmt.Errorf("generate suppressions: %w", err)
	}
	_, err = st.Pool().Exec(ctx, `ANALYZE customers; ANALYZE consents; ANALYZE suppressions`)
	return err
}

// daytimeZones are zones whose local time is between 10:00 and 18:00 at
// now, so quiet hours (21:00-09:00 by default) defer nobody during a run
// yet are checked for every message as in production.
func daytimeZones(now time.Time) []string {
	var out []string
	for _, z := range []string{
		"Pacific/Auckland", "Asia/Tokyo", "Asia/Shanghai", "Asia/Taipei", "Asia/Kolkata", "Asia/Dubai",
		"Europe/Moscow", "Europe/Berlin", "Europe/London", "Atlantic/Azores", "America/Sao_Paulo",
		"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu",
	} {
		loc, err := time.LoadLocation(z)
		if err != nil {
			continue
		}
		if h := now.In(loc).Hour(); h >= 10 && h < 18 {
			out = append(out, z)
		}
	}
	return out
}

// Profile writes a CPU profile of the whole process (worker, send path,
// embedded Temporal server, sink) to path until stop is called, to find
// where a scenario's time goes with `go tool pprof`.
func Profile(path string) (stop func() error, err error) {
	return writeUntilStopped(path, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// Trace writes an execution trace of the whole process to path until stop
// is called: `go tool trace` shows which goroutines waited, on what (the
// network, the database, a channel), and when the SMTP connections were
// idle.
func Trace(path string) (stop func() error, err error) {
	return writeUntilStopped(path, "trace", trace.Start, trace.Stop)
}

func writeUntilStopped(path, what string, start func(io.Writer) error, end func()) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := start(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return func() error {
		end()
		return f.Close()
	}, nil
}

// clockTicks is the kernel's USER_HZ, the unit of CPU times in /proc.
const clockTicks = 100

// pgCPU is the CPU time of each PostgreSQL backend serving the scratch
// database, read from /proc: the server runs on this machine, and its
// share of a phase is part of what Tidings costs. Empty when the backends
// cannot be read (a remote server).
type pgCPU map[int32]time.Duration

func readPgCPU(ctx context.Context, st *store.Store) pgCPU {
	out := pgCPU{}
	rows, err := st.Pool().Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return out
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return out
	}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return pgCPU{}
		}
		// After the command name (which may hold spaces) come the state
		// (field 3) and so on: utime is field 14, stime field 15.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return pgCPU{}
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(u+k) * time.Second / clockTicks
	}
	return out
}

// since is the CPU the backends used after earlier; backends that started
// meanwhile count from zero. ok is false when nothing could be read.
func (c pgCPU) since(earlier pgCPU) (d time.Duration, ok bool) {
	for pid, t := range c {
		d += t - earlier[pid]
	}
	return d, len(c) > 0
}
