package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

// benchConns SMTP connections carry both loops. Run with -benchtime 4000x
// or more: with fewer messages a round is too short for a batch's chunks to
// overlap.
const benchConns = 4

// benchEnv is the send path wired to PostgreSQL, the real templates and an
// in-process relay, plus 200 customers to write to.
type benchEnv struct {
	svc    *delivery.Service
	sink   *smtpsink.Sink
	ids    []string
	sample templates.Rendered
}

func newBenchEnv(b *testing.B) *benchEnv {
	ctx := context.Background()
	_, dsn := testdb.New(b)
	st, err := store.Open(ctx, dsn+"&pool_max_conns=16")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	sink, err := smtpsink.Start(smtpsink.Options{Discard: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sink.Close() })
	tpl := realTemplates(b)

	// A capped, consent-checked topic whose cap never trips, so every check
	// runs its query on every send.
	topics := delivery.DefaultTopics()
	topics["bench"] = delivery.Topic{
		Consent: map[string]delivery.Rule{delivery.Email: delivery.OptOut},
		Caps:    []delivery.Cap{{Channel: delivery.Email, Max: 1 << 30, Window: 24 * time.Hour}},
	}
	mailer, err := email.New(email.Config{URL: sink.URL(), From: "hello@harbourpine.example", FromName: "Harbour & Pine", Connections: benchConns})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mailer.Close() })
	svc, err := delivery.New(st, tpl, mailer, nil, delivery.Options{
		Topics: topics, QuietHours: "21:00-09:00", DefaultLocale: "en", PublicURL: publicURL,
		UnsubscribeMailto: "unsubscribe@harbourpine.example",
		Company:           templates.Company{Name: "Harbour & Pine", PostalAddress: "1 Harbour Road, Hong Kong"},
		Signer:            token.NewSigner("bench-secret-0123456789"),
		Now:               func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		b.Fatal(err)
	}
	h := &harness{store: st}
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = h.customer(b, fmt.Sprintf("bench-%d", i), []string{"en", "zh-CN", "zh-TW"}[i%3], "UTC", fmt.Sprintf("c%d@example.com", i), "")
	}
	sample, err := tpl.Render("welcome", "zh-CN", templates.ChannelEmail, templates.Data{
		Company: templates.Company{Name: "Harbour & Pine", PostalAddress: "1 Harbour Road, Hong Kong"},
		Links:   templates.Links{Unsubscribe: publicURL + "/u/x", Preferences: publicURL + "/p/x"},
	})
	if err != nil {
		b.Fatal(err)
	}

	return &benchEnv{svc: svc, sink: sink, ids: ids, sample: sample}
}

func (e *benchEnv) request(n, i int) delivery.Request {
	return delivery.Request{
		CustomerID: e.ids[i%len(e.ids)], Journey: "bench", Step: "welcome", Channel: delivery.Email,
		Template: "welcome", Topic: "bench", IdempotencyKey: fmt.Sprintf("bench/%d/%d/%d", n, benchRun.Add(1), i),
	}
}

var benchRun atomic.Int64

// BenchmarkSendPath measures emails per second through the whole send path
// (customer load, consent, suppression, cap, quiet hours, render, ledger,
// SMTP) against a bare go-mail loop over the same number of connections to
// the same in-process relay, in the same run, and reports the ratio. Each
// round's messages go in as one SendBatch, as a campaign hands over a page.
func BenchmarkSendPath(b *testing.B) {
	e := newBenchEnv(b)
	compare(b, e, func(lo, hi int) error {
		reqs := make([]delivery.Request, 0, hi-lo)
		for i := lo; i < hi; i++ {
			reqs = append(reqs, e.request(b.N, i))
		}
		results, errs := e.svc.SendBatch(context.Background(), reqs)
		for i, res := range results {
			if errs[i] != nil {
				return errs[i]
			}
			if res.Status != delivery.Sent {
				return fmt.Errorf("send %d: %+v", i, res)
			}
		}
		return nil
	})
}

// BenchmarkSendPathSingle is the journeys' case: one Send per message, from
// 32 concurrent callers (a worker's concurrent activities), each message
// with its own ledger commits.
func BenchmarkSendPathSingle(b *testing.B) {
	e := newBenchEnv(b)
	compare(b, e, func(lo, hi int) error {
		parallel(hi-lo, 32, func(i int) error {
			res, err := e.svc.Send(context.Background(), e.request(b.N, lo+i))
			if err == nil && res.Status != delivery.Sent {
				err = fmt.Errorf("send %d: %+v", lo+i, res)
			}
			return err
		}, b)
		return nil
	})
}

// compare runs send and the bare loop (smtpsink.BareSender) in turns, a slice of b.N each per
// round (the machine is shared and its load drifts), and reports both rates
// and their ratio.
func compare(b *testing.B, e *benchEnv, send func(lo, hi int) error) {
	bare, err := smtpsink.NewBareSender(context.Background(), e.sink.Addr(), benchConns,
		[]smtpsink.Body{{Subject: e.sample.Subject, Text: e.sample.Text, HTML: e.sample.HTML}})
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	before := e.sink.Count()
	const rounds = 4
	var fullTime, bareTime time.Duration
	b.ResetTimer()
	for round := range rounds {
		lo, hi := b.N*round/rounds, b.N*(round+1)/rounds
		b.StopTimer()
		start := time.Now()
		parallel(hi-lo, benchConns, func(i int) error { return bare.Send(lo + i) }, b)
		bareTime += time.Since(start)
		b.StartTimer()

		start = time.Now()
		if err := send(lo, hi); err != nil {
			b.Fatal(err)
		}
		fullTime += time.Since(start)
	}
	b.StopTimer()
	if got := e.sink.Count() - before; got != 2*b.N {
		b.Fatalf("the relay accepted %d messages, want %d", got, 2*b.N)
	}
	full := float64(b.N) / fullTime.Seconds()
	bareRate := float64(b.N) / bareTime.Seconds()
	b.ReportMetric(full, "emails/s")
	b.ReportMetric(bareRate, "bare-emails/s")
	b.ReportMetric(full/bareRate, "ratio")
}

// parallel runs fn for 0..n-1 on workers goroutines.
func parallel(n, workers int, fn func(i int) error, b *testing.B) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}
