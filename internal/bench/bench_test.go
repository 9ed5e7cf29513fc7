package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/config"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// testDeps are the production defaults (quiet hours on, built-in
// templates) on the test server; each run assembles the product from them.
func testDeps(t *testing.T) Deps {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"TIDINGS_DATABASE_URL": testdb.AdminURL()}[k]
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Deps{Config: cfg, Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

// scratchNames passes warnings on and records the scratch databases a run
// reports creating, so a test checks its own runs' databases and not those
// of other runs on the same server.
type scratchNames struct {
	slog.Handler
	mu    *sync.Mutex
	names *[]string
}

func (h scratchNames) Enabled(context.Context, slog.Level) bool { return true }

func (h scratchNames) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "database" {
			h.mu.Lock()
			*h.names = append(*h.names, a.Value.String())
			h.mu.Unlock()
		}
		return true
	})
	if r.Level < slog.LevelWarn {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h scratchNames) WithAttrs(as []slog.Attr) slog.Handler {
	return scratchNames{h.Handler.WithAttrs(as), h.mu, h.names}
}

func (h scratchNames) WithGroup(name string) slog.Handler {
	return scratchNames{h.Handler.WithGroup(name), h.mu, h.names}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestEveryScenarioAtSmokeSize runs each scenario end to end at a tiny size,
// so the benchmarks cannot rot: the real worker, send path, API and router
// against an embedded Temporal server, PostgreSQL and the SMTP sink. Run
// fails on a broken invariant (a message lost or sent twice, an event not
// stored or not routed); speed is not checked here.
func TestEveryScenarioAtSmokeSize(t *testing.T) {
	if testing.Short() {
		t.Skip("starts embedded Temporal servers")
	}
	deps := testDeps(t)
	var created []string
	deps.Log = slog.New(scratchNames{deps.Log.Handler(), &sync.Mutex{}, &created})
	rep := Report{}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			created = created[:0]
			res, err := Run(t.Context(), deps, s, s.Smoke)
			if err != nil {
				t.Fatal(err)
			}
			if res.Scenario != s.Name || res.N != s.Smoke || len(res.Checks) == 0 || res.Baseline == "" {
				t.Errorf("result %+v lacks its scenario, size, checks or baseline", res)
			}
			compared := 0
			for _, row := range res.Rows {
				if row.Ratio != nil {
					compared++
					if math.IsNaN(*row.Ratio) || math.IsInf(*row.Ratio, 0) || *row.Ratio <= 0 {
						t.Errorf("%s: ratio %v", row.Name, *row.Ratio)
					}
				}
			}
			if compared == 0 {
				t.Error("no figure is compared with its baseline")
			}
			if len(res.Goals) == 0 {
				t.Error("no goal is reported")
			}
			var out bytes.Buffer
			Print(&out, res)
			for _, want := range []string{s.Name, "baseline", "ratio", "goals:", "checks:"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, out.String())
				}
			}
			if len(created) == 0 {
				t.Error("the run reported no scratch database")
			}
			if left := leftBehind(t, created); len(left) > 0 {
				t.Errorf("scratch databases left behind: %v", left)
			}
			rep.Results = append(rep.Results, res)
		})
	}

	path := filepath.Join(t.TempDir(), "out", "bench.json")
	if err := WriteJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Errorf("JSON report does not read back: %v, %d results", err, len(back.Results))
	}
}

func TestScenarioNamesAndSizesAreChecked(t *testing.T) {
	_, err := Lookup("nope")
	if err == nil {
		t.Fatal("Lookup(nope) found a scenario")
	}
	for _, sc := range Scenarios() {
		if !strings.Contains(err.Error(), sc.Name) {
			t.Errorf("Lookup(nope) = %v, want an error listing scenario %s", err, sc.Name)
		}
	}
	s, err := Lookup("sweep")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), testDeps(t), s, 0); err == nil || !strings.Contains(err.Error(), "n must be positive") {
		t.Errorf("Run with n=0 = %v, want an error naming n", err)
	}
	if _, err := Run(context.Background(), Deps{}, s, 10); err == nil || !strings.Contains(err.Error(), "Config.DatabaseURL") {
		t.Errorf("Run without deps = %v, want an error naming what is missing", err)
	}
}

// leftBehind lists the databases of names, and the Temporal databases
// beside them, that still exist on the server.
func leftBehind(t *testing.T, names []string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var all []string
	for _, n := range names {
		all = append(all, n, n+"_temporal", n+"_temporal_visibility")
	}
	rows, err := conn.Query(t.Context(), `SELECT datname FROM pg_database WHERE datname = ANY($1)`, all)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return left
}
