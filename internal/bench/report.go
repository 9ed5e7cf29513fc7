package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/tidingsdev/tidings/internal/store"
)

// Report is what `tidings bench` writes as JSON: the machine and every
// scenario's result.
type Report struct {
	Machine Machine   `json:"machine"`
	Results []*Result `json:"results"`
}

// Machine describes where the figures were measured; without it they mean
// little.
type Machine struct {
	CPU        string            `json:"cpu"`
	Cores      int               `json:"cores"`
	MemoryMB   int               `json:"memory_mb"`
	Kernel     string            `json:"kernel"`
	Go         string            `json:"go"`
	PostgreSQL string            `json:"postgresql"`
	Settings   map[string]string `json:"postgresql_settings"`
	Temporal   string            `json:"temporal_persistence"`
	LoadAvg    string            `json:"load_average_at_start"`
}

// DescribeMachine reads the CPU, memory, kernel and load from /proc and the
// server version and main settings from PostgreSQL.
func DescribeMachine(ctx context.Context, databaseURL, temporal string) (Machine, error) {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Temporal: temporal, Settings: map[string]string{}}
	if temporal == "" {
		m.Temporal = "sqlite"
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if kb, ok := procField("/proc/meminfo", "MemTotal"); ok {
		m.MemoryMB = int(kb / 1024)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	conn, err := store.Connect(ctx, databaseURL)
	if err != nil {
		// The scenarios create their own databases; the URL's may not exist.
		conn, err = store.Connect(ctx, maintenanceURL(databaseURL))
	}
	if err != nil {
		return m, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SHOW server_version`).Scan(&m.PostgreSQL); err != nil {
		return m, fmt.Errorf("postgres version: %w", err)
	}
	rows, err := conn.Query(ctx, `
		SELECT name, current_setting(name) FROM pg_settings
		WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'max_connections', 'jit', 'effective_cache_size')
		ORDER BY name`)
	if err != nil {
		return m, fmt.Errorf("postgres settings: %w", err)
	}
	var name, value string
	_, err = pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		m.Settings[name] = value
		return nil
	})
	return m, err
}

// Print writes a result as a table: each figure beside its baseline and
// their ratio, the goals, the checks, where the time went and the plans.
func Print(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\n%s  n=%s  (%.1f s)\n", r.Scenario, thousands(float64(r.N)), r.Seconds)
	if r.Baseline != "" {
		fmt.Fprintf(w, "baseline: %s\n", r.Baseline)
	}
	table(w, r.Rows)
	if len(r.Goals) > 0 {
		fmt.Fprintln(w, "goals:")
		for _, g := range r.Goals {
			mark := "met   "
			if !g.Met {
				mark = "MISSED"
			}
			fmt.Fprintf(w, "  %s  %s: want %s, got %s\n", mark, g.Name, g.Want, g.Got)
		}
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w, "checks:")
		for _, c := range r.Checks {
			fmt.Fprintf(w, "  ok  %s\n", c)
		}
	}
	if len(r.Breakdown) > 0 {
		fmt.Fprintln(w, "where the time goes:")
		table(w, r.Breakdown)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, name := range sortedKeys(r.Plans) {
		fmt.Fprintf(w, "plan of %s:\n", name)
		for _, l := range strings.Split(strings.TrimRight(r.Plans[name], "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// table prints rows with their baselines and ratios, numbers aligned.
func table(w io.Writer, rows []Row) {
	width := 0
	for _, row := range rows {
		width = max(width, utf8.RuneCountInString(label(row)))
	}
	fmt.Fprintf(w, "  %-*s %12s %12s %8s\n", width, "", "tidings", "baseline", "ratio")
	for _, row := range rows {
		base, ratio := "", ""
		if row.Baseline != nil {
			base = figure(*row.Baseline)
		}
		if row.Ratio != nil {
			ratio = ratioText(*row.Ratio)
		}
		l := label(row)
		fmt.Fprintf(w, "  %s%s %12s %12s %8s\n", l, strings.Repeat(" ", width-utf8.RuneCountInString(l)), figure(row.Value), base, ratio)
	}
}

// WriteJSON writes the report to path, creating its directory.
func WriteJSON(path string, rep Report) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// DefaultJSONPath is where a run's JSON goes unless --json says otherwise:
// bench-results/, which git ignores, one file per run.
func DefaultJSONPath(scenario string, at time.Time) string {
	return filepath.Join("bench-results", scenario+"-"+at.UTC().Format("20060102-150405")+".json")
}

// ratioText prints a ratio with two decimals, or two significant digits
// when it is below 0.1.
func ratioText(r float64) string {
	if r < 0.1 {
		return strconv.FormatFloat(r, 'g', 2, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

func label(r Row) string {
	if r.Unit == "" {
		return r.Name
	}
	return r.Name + " (" + r.Unit + ")"
}

// figure prints a number with three significant digits at most after the
// point and thousands separators before it.
func figure(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return thousands(v)
	case a >= 1000:
		return thousands(math.Round(v))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func thousands(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
