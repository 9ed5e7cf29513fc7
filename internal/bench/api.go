package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/api"
	"github.com/tidingsdev/tidings/internal/app"
)

// eventsAPI is the HTTP API with its router, served on a loopback port as
// `tidings api` serves it, and a client with an API key.
type eventsAPI struct {
	url    string
	key    string
	client *http.Client
}

// serveAPI starts the product's API and router (delivering inline and
// draining the outbox every few seconds, as in production) for this run.
func (r *run) serveAPI(ctx context.Context, a *app.App, posters int) (*eventsAPI, error) {
	rt, err := a.Router(ctx)
	if err != nil {
		return nil, err
	}
	srv, err := a.API(ctx, api.Options{})
	if err != nil {
		return nil, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rt.Run(rctx, 5*time.Second) }()
	r.onEnd(func() { cancel(); <-done })

	url, err := r.listen(srv)
	if err != nil {
		return nil, err
	}
	_, key, err := st.CreateAPIKey(ctx, "bench")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = posters
	return &eventsAPI{url: url, key: key, client: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}, nil
}

// listen serves h on a loopback port until the run ends and returns its
// base URL.
func (r *run) listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the api: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	r.onEnd(func() { _ = hs.Close() })
	return "http://" + ln.Addr().String(), nil
}

// apiEvent is one event as a client posts it.
type apiEvent struct {
	EventID    string         `json:"event_id"`
	Customer   string         `json:"customer"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties,omitempty"`
	OccurredAt time.Time      `json:"occurred_at"`
}

// encodeBatches encodes the request bodies of POST /v1/events/batch ahead
// of time, so the client's JSON encoding is not part of what is measured.
func encodeBatches(evs []apiEvent, size int) ([][]byte, error) {
	var out [][]byte
	for lo := 0; lo < len(evs); lo += size {
		b, err := json.Marshal(map[string]any{"events": evs[lo:min(lo+size, len(evs))]})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// postStats is what posting batches took.
type postStats struct {
	batches  int
	recorded int
	// unrouted counts events the API stored but could not route at once
	// (they wait in the outbox).
	unrouted  int
	latencies []time.Duration
}

func (p postStats) add(o postStats) postStats {
	return postStats{batches: p.batches + o.batches, recorded: p.recorded + o.recorded, unrouted: p.unrouted + o.unrouted,
		latencies: append(p.latencies, o.latencies...)}
}

func (p postStats) percentile(q float64) time.Duration { return latencies(p.latencies).percentile(q) }

// latencies are the durations of repeated requests.
type latencies []time.Duration

// percentile is the q-quantile (0.5, 0.95) of l, 0 when l is empty.
func (l latencies) percentile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// post sends the batches from posters concurrent clients.
func (a *eventsAPI) post(ctx context.Context, bodies [][]byte, posters int) (postStats, error) {
	var mu sync.Mutex
	var st postStats
	err := parallel(ctx, len(bodies), posters, func(i int) error {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/v1/events/batch", bytes.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+a.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.client.Do(req)
		if err != nil {
			return fmt.Errorf("post events: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("post events: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("post events: %s: %s", resp.Status, body)
		}
		var out struct {
			Recorded int `json:"recorded"`
			Results  []struct {
				Routed bool `json:"routed"`
			} `json:"results"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return fmt.Errorf("post events: decode the answer: %w", err)
		}
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		st.batches++
		st.recorded += out.Recorded
		for _, x := range out.Results {
			if !x.Routed {
				st.unrouted++
			}
		}
		st.latencies = append(st.latencies, took)
		return nil
	})
	return st, err
}

// waitFor polls done until it reports true, failing when progress (as
// reported by done's count) stalls for stall.
func waitFor(ctx context.Context, stall time.Duration, done func() (int, bool, error)) error {
	last, since := -1, time.Now()
	for {
		n, ok, err := done()
		if err != nil || ok {
			return err
		}
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > stall {
			return errors.New("no progress for " + stall.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
