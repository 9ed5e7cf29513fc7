package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/bench"
	"github.com/tidingsdev/tidings/internal/devserver"
)

func newBenchCmd(a *app) *cobra.Command {
	var (
		sizes     []int
		jsonPath  string
		temporal  string
		profile   string
		tracePath string
		dataset   string
		perCust   [2]int
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
Without --n each scenario runs at the sizes above. With --dataset, audience,
console and reports run over a copy of a database that "tidings bench dataset"
built, at its size, instead of generating a million customers each time.
docs/benchmarks.md has the figures of record and what limits each.`,
		Example: `  tidings bench blast --n 10000
  tidings bench all --json bench-results/today.json
  tidings bench console --dataset tidings_data_1m
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
			if perCust[0] < 0 || perCust[1] < 0 {
				return withCode(exitUsage, fmt.Errorf("--messages-per-customer %d, --events-per-customer %d: want positive numbers", perCust[0], perCust[1]))
			}
			deps := bench.Deps{Config: a.cfg, Temporal: temporal, Log: a.log, MessagesPerCustomer: perCust[0], EventsPerCustomer: perCust[1], Dataset: dataset}
			ctx := cmd.Context()
			if dataset != "" {
				if len(sizes) > 0 {
					return withCode(exitUsage, errors.New("--n: over --dataset the size is the dataset's number of customers"))
				}
				scenarios = slices.DeleteFunc(scenarios, func(s bench.Scenario) bool { return !s.Dataset })
				if len(scenarios) == 0 {
					return withCode(exitUsage, fmt.Errorf("--dataset: %s builds its own data and takes no kept dataset", args[0]))
				}
				n, err := bench.KeptDatasetCustomers(ctx, deps, dataset)
				if err != nil {
					return err
				}
				sizes = []int{n}
			}
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
			if tracePath != "" {
				stop, err := bench.Trace(tracePath)
				if err != nil {
					return err
				}
				defer stop() //nolint:errcheck // the results matter more than the trace
			}
			rep := bench.Report{Machine: machine}
			for _, s := range scenarios {
				ns := sizes
				if len(ns) == 0 {
					ns = s.Sizes
				}
				if len(sizes) == 0 && args[0] == "all" && s.AllSizes != nil {
					ns = s.AllSizes
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
	f.StringVar(&tracePath, "trace", "", "write an execution trace of the run to this file (go tool trace: goroutines waiting, idle connections)")
	f.StringVar(&temporal, "temporal", devserver.SQLite, "persistence of the embedded Temporal server: sqlite or postgres")
	f.IntVar(&perCust[0], "messages-per-customer", 0, fmt.Sprintf("ledger rows per customer in the generated dataset of audience, console and reports (default %d)", bench.DatasetMessagesPerCustomer))
	f.IntVar(&perCust[1], "events-per-customer", 0, fmt.Sprintf("events per customer in that dataset (default %d)", bench.DatasetEventsPerCustomer))
	f.StringVar(&dataset, "dataset", "", "database kept by `tidings bench dataset`: audience, console and reports run over a copy of it instead of generating one")
	cmd.AddCommand(newBenchDatasetCmd(a))
	return cmd
}

// newBenchDatasetCmd builds a company's history into a database that stays,
// for queries and reports at the scale the goals are stated at.
func newBenchDatasetCmd(a *app) *cobra.Command {
	var sz bench.DatasetSizes
	cmd := &cobra.Command{
		Use:   "dataset DATABASE",
		Short: "Create a database holding a generated company (1M customers, 10M messages, 5M events) and keep it",
		Long: `Create DATABASE on the server of TIDINGS_DATABASE_URL, migrate it and fill it
with the generated company the console, audience and reports benchmarks use:
customers in en, zh-CN and zh-TW across 15 time zones with tags, consents and
scores; signups, purchases, deliveries and page views over 18 months; 12
months of campaign and journey messages with opens, clicks and bounces;
campaign entries with holdouts and variants; survey answers. The database is
kept (drop it with dropdb); point TIDINGS_DATABASE_URL at it to query it.`,
		Example: `  tidings bench dataset tidings_data_1m
  tidings bench dataset tidings_data_10k --customers 10000`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			full := bench.DatasetSizesFor(sz.Customers)
			if sz.Messages == 0 {
				sz.Messages = full.Messages
			}
			if sz.Events == 0 {
				sz.Events = full.Events
			}
			if sz.Customers <= 0 || sz.Messages < 0 || sz.Events < 0 {
				return withCode(exitUsage, fmt.Errorf("--customers, --messages, --events: want positive sizes, got %d, %d, %d",
					sz.Customers, sz.Messages, sz.Events))
			}
			deps := bench.Deps{Config: a.cfg, Log: a.log}
			ds, dsn, err := bench.KeepDataset(cmd.Context(), deps, args[0], bench.DatasetOptions{Sizes: sz})
			if err != nil {
				return err
			}
			w := a.stdout
			fmt.Fprintf(w, "%s: %d customers, %d messages, %d events, history up to %s\n\n", args[0],
				ds.Rows["customers"], ds.Rows["messages"], ds.Rows["events"], ds.Now.Format(time.RFC3339))
			for _, t := range slices.Sorted(maps.Keys(ds.Rows)) {
				fmt.Fprintf(w, "  %-18s %12d rows\n", t, ds.Rows[t])
			}
			fmt.Fprintln(w)
			total := 0.0
			for _, p := range ds.Phases {
				fmt.Fprintf(w, "  %-38s %8.1f s\n", p.Name, p.Value)
				total += p.Value
			}
			fmt.Fprintf(w, "  %-38s %8.1f s\n\nTIDINGS_DATABASE_URL=%s\n", "total", total, dsn)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&sz.Customers, "customers", bench.DatasetCustomers, "customers to generate")
	f.IntVar(&sz.Messages, "messages", 0, fmt.Sprintf("ledger rows over 12 months (default %d per customer)", bench.DatasetMessagesPerCustomer))
	f.IntVar(&sz.Events, "events", 0, fmt.Sprintf("events over 18 months (default %d per customer)", bench.DatasetEventsPerCustomer))
	return cmd
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}
