package delivery_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/tidingsdev/tidings/internal/channels/email"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

// benchConns SMTP connections carry both loops. The send path gets each
// round's messages as one SendBatch, as a campaign sender hands over a page
// of its audience. Run with -benchtime 4000x or more: with fewer messages a
// round is too short for the chunks to overlap.
const benchConns = 4

// BenchmarkSendPath measures emails per second through the whole send path
// (customer load, consent, suppression, cap, quiet hours, render, ledger,
// SMTP) against a bare go-mail loop over the same number of connections to
// the same in-process relay, in the same run, and reports the ratio.
func BenchmarkSendPath(b *testing.B) {
	ctx := context.Background()
	_, dsn := testdb.New(b)
	st, err := store.Open(ctx, dsn+"&pool_max_conns=16")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sink, err := smtpsink.Start(smtpsink.Options{Discard: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
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
	defer mailer.Close()
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

	var run atomic.Int64
	r := run.Add(1)
	bare, err := newBareLoop(sink, sample)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.close()

	// The machine is shared, so its load drifts: both loops run in turns,
	// a slice each per round, and each total is the sum of its slices.
	const rounds = 4
	var fullTime, bareTime time.Duration
	b.ResetTimer()
	for round := range rounds {
		lo, hi := b.N*round/rounds, b.N*(round+1)/rounds
		b.StopTimer()
		start := time.Now()
		parallel(hi-lo, benchConns, func(i int) error { return bare.send(lo + i) }, b)
		bareTime += time.Since(start)
		b.StartTimer()

		start = time.Now()
		reqs := make([]delivery.Request, 0, hi-lo)
		for i := lo; i < hi; i++ {
			reqs = append(reqs, delivery.Request{
				CustomerID: ids[i%len(ids)], Journey: "bench", Step: "welcome", Channel: delivery.Email,
				Template: "welcome", Topic: "bench", IdempotencyKey: fmt.Sprintf("bench/%d/%d/%d", b.N, r, i),
			})
		}
		results, errs := svc.SendBatch(ctx, reqs)
		for i, res := range results {
			if errs[i] != nil {
				b.Fatal(errs[i])
			}
			if res.Status != delivery.Sent {
				b.Fatalf("send %d: %+v", i, res)
			}
		}
		fullTime += time.Since(start)
	}
	b.StopTimer()
	if got := sink.Count(); got != 2*b.N {
		b.Fatalf("the relay accepted %d messages, want %d", got, 2*b.N)
	}
	full := float64(b.N) / fullTime.Seconds()
	bareRate := float64(b.N) / bareTime.Seconds()
	b.ReportMetric(full, "emails/s")
	b.ReportMetric(bareRate, "bare-emails/s")
	b.ReportMetric(full/bareRate, "ratio")
}

// bareLoop is the baseline: plain go-mail, benchConns connections dialed
// once, one pre-rendered message built and sent per email.
type bareLoop struct {
	clients chan *gomail.Client
	r       templates.Rendered
}

func newBareLoop(sink *smtpsink.Sink, r templates.Rendered) (*bareLoop, error) {
	srv, err := email.ParseURL(sink.URL())
	if err != nil {
		return nil, err
	}
	l := &bareLoop{clients: make(chan *gomail.Client, benchConns), r: r}
	for range benchConns {
		c, err := gomail.NewClient(srv.Host, gomail.WithPort(srv.Port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithTimeout(srv.Timeout))
		if err == nil {
			err = c.DialWithContext(context.Background())
		}
		if err != nil {
			l.close()
			return nil, err
		}
		l.clients <- c
	}
	return l, nil
}

func (l *bareLoop) send(i int) error {
	m := gomail.NewMsg()
	if err := m.FromFormat("Harbour & Pine", "hello@harbourpine.example"); err != nil {
		return err
	}
	if err := m.AddToFormat("芳 王", fmt.Sprintf("c%d@example.com", i)); err != nil {
		return err
	}
	m.SetMessageIDWithValue(fmt.Sprintf("bare-%d@harbourpine.example", i))
	m.SetDate()
	m.Subject(l.r.Subject)
	m.SetBodyString(gomail.TypeTextPlain, l.r.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, l.r.HTML)
	c := <-l.clients
	defer func() { l.clients <- c }()
	return c.Send(m)
}

func (l *bareLoop) close() {
	for {
		select {
		case c := <-l.clients:
			_ = c.Close()
		default:
			return
		}
	}
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
