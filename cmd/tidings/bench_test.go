package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidingsdev/tidings/internal/bench"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

func TestBenchRefusesBadScenariosAndSizes(t *testing.T) {
	env := map[string]string{"TIDINGS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "nope"}, "blast, blast-tracking, campaign, campaign-series, journeys, sweep, ingest"},
		{[]string{"bench", "all", "--n", "5"}, "--n"},
		{[]string{"bench", "blast", "--n", "0"}, "--n"},
		{[]string{"bench", "blast", "--n", "ten"}, "--n"},
		{[]string{"bench", "blast", "--temporal", "mysql"}, "--temporal"},
		{[]string{"bench", "blast", "--dataset", "tidings_data_1m"}, "--dataset"},
		{[]string{"bench", "reports", "--dataset", "tidings_data_1m", "--n", "5"}, "--n"},
		{[]string{"bench"}, "arg"},
	} {
		r := tidings(t, env, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("tidings %s: want exit 2 naming %q\n%s", strings.Join(tc.args, " "), tc.want, r)
		}
	}
}

// TestBenchRunsThroughTheCommandLine runs two scenarios at a tiny size the
// way `make bench` runs them: the blast through the send path the command
// builds from configuration, the sweep without Temporal. Each prints its
// table and the JSON holds the machine and the results.
func TestBenchRunsThroughTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded Temporal server")
	}
	env := map[string]string{"TIDINGS_DATABASE_URL": testdb.Create(t), "TIDINGS_LOG_LEVEL": "warn"}
	for _, scenario := range []string{"blast", "sweep"} {
		path := filepath.Join(t.TempDir(), "results.json")
		r := tidings(t, env, "bench", scenario, "--n", "40", "--json", path)
		if r.code != 0 {
			t.Fatalf("tidings bench %s:\n%s", scenario, r)
		}
		for _, want := range []string{scenario + "  n=40", "baseline", "checks:", "wrote " + path} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("tidings bench %s prints no %q:\n%s", scenario, want, r)
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rep bench.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Machine.Cores == 0 || rep.Machine.PostgreSQL == "" || len(rep.Results) != 1 || rep.Results[0].Scenario != scenario || rep.Results[0].N != 40 {
			t.Errorf("JSON of tidings bench %s: %s", scenario, b)
		}
	}
}

// TestBenchDatasetKeepsADatabase builds a small dataset into a database of
// its own, which stays for queries; a second build into it is refused.
func TestBenchDatasetKeepsADatabase(t *testing.T) {
	dsn, name := testdb.Missing(t)
	env := map[string]string{"TIDINGS_DATABASE_URL": testdb.AdminURL(), "TIDINGS_LOG_LEVEL": "warn"}
	r := tidings(t, env, "bench", "dataset", name, "--customers", "300")
	if r.code != 0 {
		t.Fatalf("tidings bench dataset:\n%s", r)
	}
	for _, want := range []string{name + ": 300 customers, 3000 messages, 1500 events", "campaign_entries", "total"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("tidings bench dataset prints no %q:\n%s", want, r)
		}
	}
	count := func(sql string) (int, error) {
		st, err := store.Open(t.Context(), dsn)
		if err != nil {
			return 0, err
		}
		defer st.Close()
		var n int
		return n, st.Pool().QueryRow(t.Context(), sql).Scan(&n)
	}
	customers, err := count(`SELECT count(*) FROM customers WHERE external_id LIKE 'ds-%'`)
	if err != nil || customers != 300 {
		t.Errorf("the kept database holds %d generated customers (%v), want 300", customers, err)
	}
	if !testing.Short() {
		// A scenario over the kept dataset runs at its size on a copy, and
		// leaves the dataset as it was.
		r := tidings(t, env, "bench", "reports", "--dataset", name, "--json", filepath.Join(t.TempDir(), "reports.json"))
		if r.code != 0 {
			t.Fatalf("tidings bench reports --dataset %s:\n%s", name, r)
		}
		for _, want := range []string{"reports  n=300", "over a copy of the dataset kept in database " + name} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("tidings bench reports --dataset prints no %q:\n%s", want, r)
			}
		}
		if keys, err := count(`SELECT count(*) FROM api_keys`); err != nil || keys != 0 {
			t.Errorf("the kept dataset holds %d API keys after a scenario ran over it (%v), want none", keys, err)
		}
	}
	if r := tidings(t, env, "bench", "dataset", name, "--customers", "300"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second build into %s: want a failure saying it exists\n%s", name, r)
	}
	if r := tidings(t, env, "bench", "dataset", name, "--customers", "0"); r.code != exitUsage || !strings.Contains(r.stderr, "--customers") {
		t.Errorf("--customers 0: want exit 2 naming the flag\n%s", r)
	}
}
