package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Reports goals, at a million customers, ten million messages and five
// million events.
const (
	reportGoal = 2 * time.Second
	// reportRuns is how many times each report is computed (after a
	// warm-up).
	reportRuns = 5
)

// reportsScenario generates n customers with their history and computes
// every report the API serves (each GET under /v1/reports/ in the OpenAPI
// document, so reports added later are measured too) over the default
// period, through the real HTTP server. The baseline is one full pass over
// the ledger (SELECT count(*) FROM messages) on the same database in the
// same run: what reading the data once costs.
func reportsScenario(ctx context.Context, r *run, n int) error {
	s, err := r.servedAsRefreshed(ctx, n)
	if err != nil {
		return err
	}
	paths, err := reportPaths(ctx, s)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return invariant("the OpenAPI document lists no report")
	}
	res := r.res
	res.Baseline = "one full pass over the ledger, SELECT count(*) FROM messages, on the same database in the same run"
	var ledger int64
	scan, err := sample(ctx, reportRuns, func(int) error {
		return s.st.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&ledger)
	})
	if err != nil {
		return err
	}
	if ledger != int64(s.ds.Sizes.Messages) {
		return invariant("the ledger holds %d rows, not the %d generated", ledger, s.ds.Sizes.Messages)
	}
	missed := 0
	for _, p := range paths {
		r.step("computing report", "path", p.path)
		var size int
		l, err := sample(ctx, reportRuns, func(int) error {
			var body map[string]any
			if err := s.get(ctx, http.MethodGet, p.path, "", "", &body); err != nil {
				return err
			}
			size = len(body)
			return nil
		})
		if err != nil {
			return err
		}
		if !res.latencies(p.name, "slowest", 1, l, scan, reportGoal) {
			missed++
		}
		res.check("%s answered 200 with a JSON object of %d fields every time", p.path, size)
	}
	res.row("reports over the goal", "", float64(missed))
	res.note("each report %d times after one warm-up, one at a time, over loopback HTTP with an API key, for the default period (the last 12 months)", reportRuns)
	return nil
}

// reportPath is one report request.
type reportPath struct{ name, path string }

// reportPaths reads the report routes from the served OpenAPI document and
// fills their parameters: a campaign with variants, the win-back journey;
// a funnel is asked for as kept, with a window of its own and, a
// journey's, over a period of its own too.
func reportPaths(ctx context.Context, s *served) ([]reportPath, error) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := s.get(ctx, http.MethodGet, "/v1/openapi.json", "", "", &doc); err != nil {
		return nil, err
	}
	var campaign string
	if err := s.st.Pool().QueryRow(ctx, `
		SELECT campaign FROM campaign_entries WHERE variant <> '' GROUP BY campaign ORDER BY count(*) DESC LIMIT 1`).Scan(&campaign); err != nil {
		return nil, fmt.Errorf("pick a campaign: %w", err)
	}
	fill := strings.NewReplacer("{name}", url.PathEscape(campaign))
	var out []reportPath
	for p, ops := range doc.Paths {
		if _, ok := ops["get"]; !ok || !strings.HasPrefix(p, "/v1/reports/") {
			continue
		}
		name := strings.TrimPrefix(p, "/v1/reports/")
		path := fill.Replace(p)
		if strings.HasPrefix(p, "/v1/reports/journeys/") {
			path = strings.ReplaceAll(p, "{name}", "winback")
		}
		if strings.Contains(path, "{") {
			continue
		}
		out = append(out, reportPath{name: "report " + name, path: path})
		if strings.HasSuffix(p, "/funnel") {
			// The refresh keeps the funnels' rows for every window, and a
			// journey's per day of entry: another window, and a period of
			// the reader's (its first day cut at the hour), read them too.
			out = append(out, reportPath{name: "report " + name + "?window=14d", path: path + "?window=14d"})
			if strings.HasPrefix(p, "/v1/reports/journeys/") {
				since := time.Now().UTC().AddDate(0, -6, 0).Truncate(time.Hour).Format(time.RFC3339)
				out = append(out, reportPath{name: "report " + name + "?window=14d&since=(6 months ago)",
					path: path + "?window=14d&since=" + url.QueryEscape(since)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}
