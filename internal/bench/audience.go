package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/app"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

// Audience goals, as the management API promises them at a million
// customers.
const (
	audienceCountGoal  = time.Second
	audienceSearchGoal = 100 * time.Millisecond
	// audienceRuns is how many requests each query gets (after a warm-up).
	audienceRuns = 40
	// broadSegment is everyone who reads English: a count over half the
	// customers rather than the typical segment's few (and, unlike a
	// window up to now, the same set for the API and the plain count).
	broadSegment = "match: {locale: en}"
)

// served is the product over a generated dataset: the store, the HTTP API
// (with the console) on a loopback port and a client holding an API key.
type served struct {
	app    *app.App
	st     *store.Store
	ds     *Dataset
	url    string
	key    string
	client *http.Client
}

// serveDataset generates a dataset of n customers (in the proportions of
// the run's Deps) into a scratch database, or copies the kept dataset the
// Deps name, and serves the API over it, with an embedded Temporal server
// behind the pages that ask it.
func (r *run) serveDataset(ctx context.Context, n int) (*served, error) {
	a, st, dsn, err := r.scratchCopy(ctx, r.deps.Dataset, "", "")
	if err != nil {
		return nil, err
	}
	var ds *Dataset
	if r.deps.Dataset != "" {
		r.step("copied the kept dataset", "dataset", r.deps.Dataset)
		if ds, err = keptDataset(ctx, st); err != nil {
			return nil, err
		}
		if ds.Sizes.Customers != n {
			return nil, fmt.Errorf("dataset %s holds %d customers, not %d", r.deps.Dataset, ds.Sizes.Customers, n)
		}
		r.res.note("over a copy of the dataset kept in database %s (generated with history up to %s)", r.deps.Dataset, ds.Now.Format(time.RFC3339))
	} else {
		sz := r.deps.datasetSizes(n)
		r.step("generating the dataset", "customers", sz.Customers, "messages", sz.Messages, "events", sz.Events)
		if ds, err = GenerateDataset(ctx, st, DatasetOptions{Sizes: sz, Log: r.log}); err != nil {
			return nil, err
		}
		for _, p := range ds.Phases {
			r.res.Breakdown = append(r.res.Breakdown, Row{Name: "dataset: " + p.Name, Unit: p.Unit, Value: p.Value})
		}
	}
	c, err := r.temporal(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	a.UseTemporal(c)
	srv, err := a.API(ctx, api.Options{})
	if err != nil {
		return nil, err
	}
	u, err := r.listen(srv)
	if err != nil {
		return nil, err
	}
	_, key, err := st.CreateAPIKey(ctx, "bench")
	if err != nil {
		return nil, err
	}
	r.res.row("customers", "", float64(ds.Rows["customers"]))
	r.res.row("messages in the ledger", "", float64(ds.Rows["messages"]))
	r.res.row("events", "", float64(ds.Rows["events"]))
	return &served{app: a, st: st, ds: ds, url: u, key: key, client: &http.Client{Timeout: time.Minute}}, nil
}

// get requests path with the API key and decodes a 200 answer into out
// (nil: discard it).
func (s *served) get(ctx context.Context, method, path, contentType, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// sample runs fn once to warm up, then runs times times (i from 0) and
// returns the latencies.
func sample(ctx context.Context, runs int, fn func(i int) error) (latencies, error) {
	if err := fn(0); err != nil {
		return nil, err
	}
	out := make(latencies, 0, runs)
	for i := range runs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := fn(i); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// pick is a customer the searches look for.
type pick struct {
	ID, Email, Phone, ExternalID, FirstName string
}

// audience generates n customers with their history and measures, through
// the HTTP API, a typical segment's count and customer searches by email,
// phone, external ID, name prefix and tag. Each search is compared with a
// primary-key lookup through the same API (GET /v1/customers/{id}), the
// count with the same count run by plain SQL on the same database.
func audience(ctx context.Context, r *run, n int) error {
	s, err := r.serveDataset(ctx, n)
	if err != nil {
		return err
	}
	rows, err := s.st.Pool().Query(ctx, `
		SELECT id::text, email, phone, external_id, first_name FROM customers
		WHERE phone IS NOT NULL ORDER BY bucket_hash LIMIT $1`, audienceRuns)
	if err != nil {
		return err
	}
	picks, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pick])
	if err != nil {
		return err
	}
	if len(picks) == 0 {
		return invariant("the dataset has no customer with a phone")
	}
	at := func(i int) pick { return picks[i%len(picks)] }
	res := r.res
	res.Baseline = "a primary-key lookup through the same API (GET /v1/customers/{id}) for searches, the same count by plain SQL for the segment"

	r.step("timing primary-key lookups")
	lookup, err := sample(ctx, audienceRuns, func(i int) error {
		var c store.Customer
		if err := s.get(ctx, http.MethodGet, "/v1/customers/"+at(i).ID, "", "", &c); err != nil {
			return err
		}
		if c.ID != at(i).ID {
			return invariant("GET /v1/customers/%s answered customer %s", at(i).ID, c.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	tags := []string{"vip", "wholesale", "newsletter"}
	for _, q := range []struct {
		name  string
		query func(p pick, i int) url.Values
		// only says whether a result matches; exact searches must also
		// find the customer they were given.
		only  func(c store.Customer, p pick, i int) bool
		exact bool
	}{
		{"email", func(p pick, _ int) url.Values { return url.Values{"email": {p.Email}} },
			func(c store.Customer, p pick, _ int) bool { return strings.EqualFold(c.Email, p.Email) }, true},
		{"phone", func(p pick, _ int) url.Values { return url.Values{"phone": {p.Phone}} },
			func(c store.Customer, p pick, _ int) bool { return c.Phone == p.Phone }, true},
		{"external ID", func(p pick, _ int) url.Values { return url.Values{"external_id": {p.ExternalID}} },
			func(c store.Customer, p pick, _ int) bool { return c.ExternalID == p.ExternalID }, true},
		{"name prefix", func(p pick, _ int) url.Values { return url.Values{"name": {namePrefix(p.FirstName)}} },
			func(c store.Customer, p pick, _ int) bool {
				pre := namePrefix(p.FirstName)
				return strings.HasPrefix(strings.ToLower(c.FirstName), pre) || strings.HasPrefix(strings.ToLower(c.LastName), pre)
			}, false},
		{"tag", func(_ pick, i int) url.Values { return url.Values{"tag": {tags[i%len(tags)]}} },
			func(c store.Customer, _ pick, i int) bool { return slices.Contains(c.Tags, tags[i%len(tags)]) }, false},
	} {
		r.step("timing customer search", "by", q.name)
		found := 0
		l, err := sample(ctx, audienceRuns, func(i int) error {
			var page struct {
				Customers []store.Customer `json:"customers"`
			}
			v := q.query(at(i), i)
			v.Set("limit", "50")
			if err := s.get(ctx, http.MethodGet, "/v1/customers?"+v.Encode(), "", "", &page); err != nil {
				return err
			}
			if len(page.Customers) == 0 {
				return invariant("search by %s (%s) found nobody", q.name, v.Encode())
			}
			for _, c := range page.Customers {
				if !q.only(c, at(i), i) {
					return invariant("search by %s (%s) answered customer %s, who does not match", q.name, v.Encode(), c.ID)
				}
			}
			if q.exact && (len(page.Customers) != 1 || page.Customers[0].ID != at(i).ID) {
				return invariant("search by %s (%s) found %d customers, not just %s", q.name, v.Encode(), len(page.Customers), at(i).ID)
			}
			found += len(page.Customers)
			return nil
		})
		if err != nil {
			return err
		}
		res.latencies("search by "+q.name, "p95", 0.95, l, lookup, audienceSearchGoal)
		res.check("every search by %s found only matching customers (%d in %d pages)", q.name, found, audienceRuns+1)
	}

	// The typical segment's count, and a broad one's (half the customers
	// or so), through the API and by plain SQL.
	now := time.Now()
	for _, sg := range []struct{ name, yaml string }{{"segment", typicalSegment}, {"broad segment", broadSegment}} {
		r.step("timing the segment count", "segment", sg.yaml)
		def, err := segment.Parse([]byte(sg.yaml), "audience.yaml")
		if err != nil {
			return err
		}
		var viaAPI int64
		count, err := sample(ctx, audienceRuns/2, func(int) error {
			var p struct {
				Count int64 `json:"count"`
			}
			if err := s.get(ctx, http.MethodPost, "/v1/segments/preview?sample=0", "application/yaml", sg.yaml, &p); err != nil {
				return err
			}
			viaAPI = p.Count
			return nil
		})
		if err != nil {
			return err
		}
		var bySQL int64
		plain, err := sample(ctx, audienceRuns/2, func(int) error {
			var err error
			bySQL, err = segment.Count(ctx, s.st.Pool(), def, segment.At(now))
			return err
		})
		if err != nil {
			return err
		}
		if viaAPI != bySQL {
			return invariant("the API counted %d members of %q and plain SQL %d", viaAPI, sg.yaml, bySQL)
		}
		res.latencies(sg.name+" count", "p95", 0.95, count, plain, audienceCountGoal)
		res.row(sg.name+" members", "", float64(viaAPI))
		res.check("the API and plain SQL counted the same %d members of %q", viaAPI, sg.yaml)
	}
	res.note("%d requests per search after one warm-up, %d per count, one at a time, over loopback HTTP with an API key; the segments are %q and %q",
		audienceRuns, audienceRuns/2, typicalSegment, broadSegment)
	return nil
}

// namePrefix is how people type a name into a search box: the first three
// letters of an English name, the first character of a Chinese one.
func namePrefix(name string) string {
	rs := []rune(strings.ToLower(name))
	if len(rs) > 0 && rs[0] > 0x2E80 {
		return string(rs[:1])
	}
	return string(rs[:min(3, len(rs))])
}
