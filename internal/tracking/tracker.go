package tracking

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

// ContentStore keeps message contents; *store.Store implements it.
type ContentStore interface {
	StoreMessageContents(ctx context.Context, cs []store.MessageContent) error
}

// Message is one outgoing message as the tracker sees it.
type Message struct {
	ID        string
	Channel   string
	Recipient string
	Policy    Policy
	// Unsubscribe is the List-Unsubscribe link, kept with the headers.
	Unsubscribe string
}

// Tracker is what the send path hands every rendered message to before the
// provider gets it: email links are rewritten and the pixel added as the
// policy says, and the content as sent is queued for the message log.
type Tracker struct {
	rw  *Rewriter
	log *contentLog
}

// Options tune a Tracker; zero values mean the defaults.
type Options struct {
	// FlushEvery is the longest a content waits to be stored (default 250ms).
	FlushEvery time.Duration
	// Batch is how many contents one statement stores (default 500).
	Batch int
	// MaxPending bounds the contents held while the database is unreachable
	// (default 20,000); beyond it the oldest are dropped and logged.
	MaxPending int
	Logger     *slog.Logger
}

// New returns a Tracker that signs links for publicURL and stores contents
// in st. Close it to store what is still queued.
func New(signer *Signer, publicURL string, st ContentStore, opt Options) *Tracker {
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = 250 * time.Millisecond
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.MaxPending <= 0 {
		opt.MaxPending = 20000
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Tracker{rw: NewRewriter(signer, publicURL)}
	if st != nil {
		t.log = newContentLog(st, opt)
	}
	return t
}

// Prepare returns r as it should go out and queues its content.
func (t *Tracker) Prepare(m Message, r templates.Rendered) templates.Rendered {
	c := store.MessageContent{MessageID: m.ID, Subject: r.Subject, SMS: r.SMS, Headers: map[string]string{}}
	if m.Channel == templates.ChannelEmail {
		rw := t.rw.Rewrite(m.ID, m.Policy, r.HTML, r.Text)
		r.HTML, r.Text = rw.HTML, rw.Text
		c.Links, c.Tracked = rw.Links, m.Policy.Any()
		c.Headers["To"] = m.Recipient
		c.Headers["Subject"] = r.Subject
		c.Headers["X-Tidings-Message-ID"] = m.ID
		if m.Unsubscribe != "" {
			c.Headers["List-Unsubscribe"] = "<" + m.Unsubscribe + ">"
		}
	} else {
		c.Headers["To"] = m.Recipient
	}
	c.HTML, c.Text = r.HTML, r.Text
	if t.log != nil {
		t.log.add(c)
	}
	return r
}

// Close stores what is still queued, waiting at most until ctx ends.
func (t *Tracker) Close(ctx context.Context) error {
	if t.log == nil {
		return nil
	}
	return t.log.close(ctx)
}

// contentLog stores contents in batches from one goroutine, so the send
// path never waits on it: a statement per FlushEvery or per Batch contents.
type contentLog struct {
	st      ContentStore
	opt     Options
	mu      sync.Mutex
	pending []store.MessageContent
	dropped int
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newContentLog(st ContentStore, opt Options) *contentLog {
	l := &contentLog{st: st, opt: opt, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *contentLog) add(c store.MessageContent) {
	l.mu.Lock()
	l.pending = append(l.pending, c)
	if over := len(l.pending) - l.opt.MaxPending; over > 0 {
		l.pending = l.pending[over:]
		l.dropped += over
	}
	full := len(l.pending) >= l.opt.Batch
	l.mu.Unlock()
	if full {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

func (l *contentLog) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opt.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		case <-l.wake:
		}
		l.flush(context.Background())
	}
}

// flush stores everything pending, a batch per statement. A failed batch
// goes back to the front of the queue for the next flush.
func (l *contentLog) flush(ctx context.Context) error {
	for {
		l.mu.Lock()
		n := min(len(l.pending), l.opt.Batch)
		batch := l.pending[:n:n]
		l.pending = l.pending[n:]
		dropped := l.dropped
		l.dropped = 0
		l.mu.Unlock()
		if dropped > 0 {
			l.opt.Logger.Warn("message contents dropped: the database did not keep up", "dropped", dropped)
		}
		if n == 0 {
			return nil
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := l.st.StoreMessageContents(sctx, batch)
		cancel()
		if err != nil {
			l.mu.Lock()
			l.pending = append(batch, l.pending...)
			l.mu.Unlock()
			l.opt.Logger.Warn("store message contents, will retry", "contents", n, "err", err)
			return err
		}
	}
}

func (l *contentLog) close(ctx context.Context) error {
	close(l.stop)
	<-l.done
	for {
		err := l.flush(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
