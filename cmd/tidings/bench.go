package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/bench"
	"github.com/tidingsdev/tidings/internal/devserver"
)

func newBenchCmd(a *app) *cobra.Command {
	var (
		sizes    []int
		jsonPath string
		temporal string
		profile  string
	)
	var list strings.Builder
	for _, s := range bench.Scenarios() {
		fmt.Fprintf(&list, "  %-9s %s (n: %s)\n", s.Name, s.Short, joinInts(s.Sizes))
	}
	cmd := &cobra.Command{
		Use:   "bench SCENARIO",
		Short: "Measure blasts, journeys, segments and ingest against baselines run alongside",
		Long: `Run a benchmark scenario, or all of them, on this machine. Each scenario
creates its own scratch database on the configured PostgreSQL server (dropped
at the end), runs against an embedded Temporal server and an in-process SMTP
sink that counts and discards, and measures a baseline in the same run, so the
ratio stays meaningful on a busy machine. It prints a table and writes JSON.

Scenarios:
` + list.String() + `
Without --n each scenario runs at the sizes above. docs/benchmarks.md has the
figures of record and what limits each.`,
		Example: `  tidings bench blast --n 10000
  tidings bench all --json bench-results/today.json
  make bench`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scenarios := bench.Scenarios()
			if args[0] != "all" {
				s, err := bench.Lookup(args[0])
				if err != nil {
					return withCode(exitUsage, err)
				}
				scenarios = []bench.Scenario{s}
			} else if len(sizes) > 0 {
				return withCode(exitUsage, errors.New("--n: sizes belong to one scenario; name it instead of all"))
			}
			for _, n := range sizes {
				if n <= 0 {
					return withCode(exitUsage, fmt.Errorf("--n: %d is not a positive size", n))
				}
			}
			if temporal != devserver.SQLite && temporal != devserver.Postgres {
				return withCode(exitUsage, fmt.Errorf("--temporal: %q must be %s or %s", temporal, devserver.SQLite, devserver.Postgres))
			}
			deps := bench.Deps{Config: a.cfg, Temporal: temporal, Log: a.log}
			ctx := cmd.Context()
			machine, err := bench.DescribeMachine(ctx, a.cfg.DatabaseURL, temporal)
			if err != nil {
				return err
			}
			if profile != "" {
				stop, err := bench.Profile(profile)
				if err != nil {
					return err
				}
				defer stop() //nolint:errcheck // the results matter more than the profile
			}
			rep := bench.Report{Machine: machine}
			for _, s := range scenarios {
				ns := sizes
				if len(ns) == 0 {
					ns = s.Sizes
				}
				for _, n := range ns {
					res, err := bench.Run(ctx, deps, s, n)
					if err != nil {
						return err
					}
					bench.Print(a.stdout, res)
					rep.Results = append(rep.Results, res)
				}
			}
			if jsonPath == "" {
				jsonPath = bench.DefaultJSONPath(args[0], time.Now())
			}
			if err := bench.WriteJSON(jsonPath, rep); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\nwrote %s\n", jsonPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&sizes, "n", nil, "size(s) to run, e.g. --n 10000,100000 (default: the scenario's sizes above)")
	f.StringVar(&jsonPath, "json", "", "file to write the results to (default bench-results/SCENARIO-TIME.json)")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	f.StringVar(&temporal, "temporal", devserver.SQLite, "persistence of the embedded Temporal server: sqlite or postgres")
	return cmd
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
