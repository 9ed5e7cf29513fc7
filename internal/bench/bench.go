// Package bench runs Tidings' benchmarks (`tidings bench`). Each scenario
// builds its own data in a scratch database, runs the real product (the
// worker, the send path, the API, the router) against the embedded Temporal
// server, the configured PostgreSQL and an in-process SMTP sink that counts
// and discards, and measures a baseline in the same run: on a small, shared,
// noisy machine a figure alone says little, its ratio to the baseline says
// how close Tidings comes to what the machine can do.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/devserver"
	"github.com/tidingsdev/tidings/worker"
)

// Deps say what the scenarios run: the product is assembled from Config by
// internal/app exactly as `tidings worker` and `tidings api` assemble it, so
// a benchmark measures the code that ships.
type Deps struct {
	// Config is the configuration as the command line read it. Its database
	// URL locates the PostgreSQL server: scratch databases are created on it
	// (named tidings_bench_*) and dropped at the end, and the URL's own
	// database is never touched. Each run has its own SMTP sink, signing
	// secret and task queue.
	Config config.Config
	// Worker sizes the Temporal worker (the `tidings worker` defaults).
	Worker worker.Options
	// Temporal is the embedded server's persistence: devserver.SQLite
	// (default) or devserver.Postgres.
	Temporal string
	// Log receives progress lines and the embedded server's warnings.
	Log *slog.Logger
	// MessagesPerCustomer and EventsPerCustomer size the generated dataset
	// of the audience, console and reports scenarios, whose n is the number
	// of customers (0: DatasetMessagesPerCustomer, DatasetEventsPerCustomer).
	MessagesPerCustomer, EventsPerCustomer int
	// Dataset names a database kept by `tidings bench dataset` (KeepDataset):
	// the scenarios that take a dataset (Scenario.Dataset) copy it instead
	// of generating one, so a million customers are built once for all of
	// them; their n must be its number of customers.
	Dataset string
}

// datasetSizes is the dataset of n customers the deps ask for.
func (d Deps) datasetSizes(n int) DatasetSizes {
	sz := DatasetSizesFor(n)
	if d.MessagesPerCustomer > 0 {
		sz.Messages = n * d.MessagesPerCustomer
	}
	if d.EventsPerCustomer > 0 {
		sz.Events = n * d.EventsPerCustomer
	}
	return sz
}

func (d Deps) check() error {
	var missing []string
	if d.Config.DatabaseURL == "" {
		missing = append(missing, "Config.DatabaseURL")
	}
	if d.Log == nil {
		missing = append(missing, "Log")
	}
	if len(missing) > 0 {
		return fmt.Errorf("bench: %s required", strings.Join(missing, ", "))
	}
	if d.Temporal != "" && d.Temporal != devserver.SQLite && d.Temporal != devserver.Postgres {
		return fmt.Errorf("bench: temporal persistence %q: must be %q or %q", d.Temporal, devserver.SQLite, devserver.Postgres)
	}
	return nil
}

// Scenario is one benchmark.
type Scenario struct {
	Name  string
	Short string
	// Sizes are the sizes the published figures use; `tidings bench`
	// without --n runs each of them.
	Sizes []int
	// AllSizes are the sizes `tidings bench all` runs (nil: Sizes): a
	// scenario whose dataset takes many minutes to build at its published
	// size runs smaller there.
	AllSizes []int
	// Smoke is a size small enough for the default test run.
	Smoke int
	// Dataset says the scenario runs over a generated dataset, which a
	// kept one (Deps.Dataset) may stand in for.
	Dataset bool
	run     func(ctx context.Context, r *run, n int) error
}

// Scenarios lists every benchmark in the order `tidings bench all` runs them.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "blast", Short: "a care send to N customers through the whole send path vs a bare go-mail loop",
			Sizes: []int{10_000, 100_000}, Smoke: 60, run: blast},
		{Name: "blast-tracking", Short: "the blast's care send with tracking on (links rewritten, the open pixel) vs the same send with tracking off for its topic",
			Sizes: []int{20_000}, Smoke: 40, run: blastTracking},
		{Name: "campaign", Short: "a one-off campaign to N customers, from `campaigns apply` to the last message, vs a bare go-mail loop",
			Sizes: []int{10_000, 100_000}, Smoke: 60, run: campaignScenario},
		{Name: "campaign-series", Short: "the first message of a three-step one-off campaign to N customers vs the same campaign with one send",
			Sizes: []int{10_000}, Smoke: 40, run: campaignSeries},
		{Name: "journeys", Short: "N onboarding journeys started through the events API vs N bare workflows",
			Sizes: []int{1_000, 5_000}, Smoke: 20, run: journeys},
		{Name: "sweep", Short: "birthday selection and a typical segment count over N generated customers",
			Sizes: []int{1_000_000}, Smoke: 3_000, run: sweep},
		{Name: "ingest", Short: "N events posted in batches to the API, stored and routed, vs a plain COPY",
			Sizes: []int{50_000}, Smoke: 400, run: ingest},
		{Name: "audience", Short: "a segment count and customer searches through the API over N customers with their history, vs a primary-key lookup and plain SQL",
			Sizes: []int{1_000_000}, AllSizes: []int{100_000}, Smoke: 300, run: audience, Dataset: true},
		{Name: "console", Short: "every console page rendered for a signed-in admin over N customers with ten messages each, vs GET /healthz",
			Sizes: []int{1_000_000}, AllSizes: []int{100_000}, Smoke: 300, run: consoleScenario, Dataset: true},
		{Name: "reports", Short: "every report the API serves over N customers with ten messages and five events each, vs one pass over the ledger",
			Sizes: []int{1_000_000}, AllSizes: []int{100_000}, Smoke: 300, run: reportsScenario, Dataset: true},
	}
}

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("scenario %q: must be one of %s, or all", name, strings.Join(names, ", "))
}

// Run runs scenario s at size n and returns its result. A missed goal is in
// the result; an error means the scenario could not run or an invariant
// (every message sent exactly once, every event stored) did not hold.
func Run(ctx context.Context, d Deps, s Scenario, n int) (*Result, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, fmt.Errorf("%s: n must be positive, got %d", s.Name, n)
	}
	if d.Dataset != "" && !s.Dataset {
		return nil, fmt.Errorf("%s: builds its own data and takes no kept dataset", s.Name)
	}
	if d.Temporal == "" {
		d.Temporal = devserver.SQLite
	}
	r := &run{deps: d, log: d.Log.With("scenario", s.Name), res: &Result{Scenario: s.Name, N: n, Started: time.Now().UTC()}}
	defer r.cleanup()
	start := time.Now()
	err := s.run(ctx, r, n)
	r.res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("%s (n=%d): %w", s.Name, n, err)
	}
	return r.res, nil
}

// run is one scenario's run: its dependencies, its result and the cleanups
// that drop its scratch data.
type run struct {
	deps     Deps
	log      *slog.Logger
	res      *Result
	cleanups []func()
}

// onEnd registers fn to run when the scenario ends, last registered first.
func (r *run) onEnd(fn func()) { r.cleanups = append(r.cleanups, fn) }

func (r *run) cleanup() {
	for _, fn := range slices.Backward(r.cleanups) {
		fn()
	}
	r.cleanups = nil
}

// step logs a progress line.
func (r *run) step(msg string, args ...any) { r.log.Info(msg, args...) }

// Result is what one scenario measured. Rows pair each figure with its
// baseline; Goals say whether the targets were met; Checks are the
// invariants that held (a failed one is an error, not a result).
type Result struct {
	Scenario string    `json:"scenario"`
	N        int       `json:"n"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	// Baseline says what the baseline is.
	Baseline string   `json:"baseline"`
	Rows     []Row    `json:"rows"`
	Goals    []Goal   `json:"goals"`
	Checks   []string `json:"checks"`
	// Breakdown says where the time went.
	Breakdown []Row `json:"breakdown,omitempty"`
	// Plans holds EXPLAIN output by query name.
	Plans map[string]string `json:"plans,omitempty"`
	Notes []string          `json:"notes,omitempty"`
}

// Row is one figure and, when it has one, its baseline and their ratio.
type Row struct {
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	Value    float64  `json:"value"`
	Baseline *float64 `json:"baseline,omitempty"`
	// Ratio is Value / Baseline.
	Ratio *float64 `json:"ratio,omitempty"`
}

// Goal is one target and whether this run met it.
type Goal struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

func (r *Result) row(name, unit string, value float64) {
	r.Rows = append(r.Rows, Row{Name: name, Unit: unit, Value: value})
}

func (r *Result) compare(name, unit string, value, baseline float64) float64 {
	ratio := value / baseline
	r.Rows = append(r.Rows, Row{Name: name, Unit: unit, Value: value, Baseline: &baseline, Ratio: &ratio})
	return ratio
}

// latencies compares the median and the q-quantile (named qName: p95,
// slowest) of l with those of base, and states goal for the q-quantile;
// it reports whether the goal was met.
func (r *Result) latencies(name, qName string, q float64, l, base latencies, goal time.Duration) bool {
	hi := l.percentile(q)
	r.compare(name+", p50", "ms", ms(l.percentile(0.5)), ms(base.percentile(0.5)))
	r.compare(name+", "+qName, "ms", ms(hi), ms(base.percentile(q)))
	r.goal(name+" ("+qName+")", "< "+goal.String(), fmt.Sprintf("%.1f ms", ms(hi)), hi < goal)
	return hi < goal
}

func (r *Result) goal(name, want, got string, met bool) {
	r.Goals = append(r.Goals, Goal{Name: name, Want: want, Got: got, Met: met})
}

func (r *Result) check(format string, args ...any) {
	r.Checks = append(r.Checks, fmt.Sprintf(format, args...))
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// errInvariant marks a run whose outcome was wrong (a message lost or sent
// twice), as opposed to one that could not run.
var errInvariant = errors.New("invariant broken")

func invariant(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvariant, fmt.Sprintf(format, args...))
}
