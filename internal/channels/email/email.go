// Package email sends messages over SMTP with go-mail through a small pool of
// live connections: each connection is dialed once and then carries message
// after message, so a campaign of thousands opens a handful of connections.
package email

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Config is how the Mailer reaches the relay and signs its messages.
type Config struct {
	// URL is the relay, see ParseURL.
	URL      string
	From     string
	FromName string
	ReplyTo  string
	// Connections is the number of live connections kept open (default 4).
	Connections int
	// BounceAddress, when set, is the envelope sender of every message,
	// made a VERP address per message (VERPAddress).
	BounceAddress string
	Logger        *slog.Logger
}

// Message is one email ready to go out.
type Message struct {
	To     string
	ToName string
	// Subject, HTML and Text are the rendered template; both bodies are sent
	// as multipart/alternative.
	Subject string
	HTML    string
	Text    string
	// IdempotencyKey derives the Message-ID, so a retried send carries the
	// same ID and receivers can discard the copy.
	IdempotencyKey string
	// LedgerID goes into X-Tidings-Message-ID so bounces and replies can be
	// matched to the ledger row.
	LedgerID string
	// UnsubscribeURL and UnsubscribeMailto, when set, become List-Unsubscribe
	// (with RFC 8058 one-click when the URL is https).
	UnsubscribeURL    string
	UnsubscribeMailto string
	// Accept, when set, is called with the whole message written but its
	// last part and the final dot, the only point where the relay can take
	// it; a non-nil error ends the connection instead, so the message is
	// not delivered. The send path waits there until fewer accepted
	// messages than there are connections wait for their outcome to be
	// recorded, so the dialogue up to that point overlaps those writes.
	Accept func(context.Context) error
}

// HeaderMessageID carries the ledger row's ID in every email.
const HeaderMessageID = "X-Tidings-Message-ID"

// Mailer sends email through a pool of SMTP connections. It is safe for
// concurrent use; at most Connections messages are in flight at once.
type Mailer struct {
	server Server
	// client holds the relay's settings; every connection is dialed with
	// it and sends through it.
	client *gomail.Client
	from   *mail.Address
	reply  string
	bounce string
	domain string
	log    *slog.Logger
	slots  chan *slot
}

// slot is one pooled connection; conn is nil until dialed and after the
// connection broke.
type slot struct {
	conn *smtp.Client
}

// New checks the configuration and prepares the pool. Connections are dialed
// on first use, so a relay that is down does not stop the process starting.
func New(cfg Config) (*Mailer, error) {
	srv, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail from %q: %w", cfg.From, err)
	}
	from.Name = cfg.FromName
	if cfg.ReplyTo != "" {
		if _, err := mail.ParseAddress(cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("mail reply-to %q: %w", cfg.ReplyTo, err)
		}
	}
	n := cfg.Connections
	if n <= 0 {
		n = 4
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := gomail.NewClient(srv.Host, srv.options()...)
	if err != nil {
		return nil, fmt.Errorf("smtp relay %s: %w", srv.Host, err)
	}
	m := &Mailer{
		server: srv,
		client: client,
		from:   from,
		reply:  cfg.ReplyTo,
		bounce: cfg.BounceAddress,
		domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		log:    log,
		slots:  make(chan *slot, n),
	}
	for range n {
		m.slots <- &slot{}
	}
	return m, nil
}

// Send delivers one message and returns its Message-ID.
//
// A connection the relay closed (an idle timeout answers 421 or just hangs
// up) is replaced and the message sent again on the fresh one, within this
// call: a pooled connection that fails before the message was handed over
// (at MAIL FROM or RCPT TO) cannot have delivered anything, and a
// connection lost during DATA, before the relay acknowledged the message,
// most likely did not either. The copy carries the same Message-ID, so in
// the rare case where the relay did accept it and the reply was lost, the
// receiver can discard the duplicate.
func (m *Mailer) Send(ctx context.Context, msg Message) (string, error) {
	acc := &acceptance{ctx: ctx, accept: msg.Accept}
	g, id, err := m.build(msg, acc)
	if err != nil {
		return "", &Error{Stage: "build", Reason: "invalid message", Err: err, permanent: true}
	}
	var sl *slot
	select {
	case sl = <-m.slots:
	case <-ctx.Done():
		return "", fmt.Errorf("wait for an smtp connection: %w", ctx.Err())
	}
	defer func() { m.slots <- sl }()

	for try := 1; ; try++ {
		fresh := sl.conn == nil
		if fresh {
			c, err := m.client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				return "", classify(fmt.Errorf("connect to %s:%d: %w", m.server.Host, m.server.Port, err))
			}
			sl.conn = c
		}
		start := time.Now()
		err := m.client.SendWithSMTPClient(sl.conn, g)
		if err == nil {
			return id, nil
		}
		if g.IsDelivered() {
			// The relay accepted the message; only the RSET after it
			// failed. Report success so it is not sent twice.
			m.drop(sl)
			return id, nil
		}
		if acc.err != nil {
			// The relay is inside DATA, where any command would first
			// end the message: only cutting the connection keeps the
			// relay from taking it.
			_ = sl.conn.Close()
			sl.conn = nil
			return "", &Error{Stage: "accept", Reason: "not accepted", Err: acc.err}
		}
		if !connClosed(err) {
			if err := m.client.ResetWithSMTPClient(sl.conn); err != nil {
				m.drop(sl)
			}
			return "", classify(err)
		}
		m.drop(sl)
		// A fresh connection refused at MAIL FROM is the relay saying
		// "not now" (421 too busy), and a relay that stopped answering
		// (the command timed out) is overloaded rather than gone: both
		// are for the caller's backoff.
		hung := time.Since(start) >= m.server.Timeout
		if try < sendTries && ctx.Err() == nil && !hung && (!fresh || duringData(err)) {
			m.log.DebugContext(ctx, "smtp connection closed by the relay, resending on a new one",
				"host", m.server.Host, "stage", stage(err), "try", try)
			continue
		}
		return "", classify(err)
	}
}

// sendTries bounds how often one Send puts a message on a connection: a
// relay that keeps dropping connections gets the caller's backoff instead.
const sendTries = 3

// Close ends every pooled connection politely.
func (m *Mailer) Close() error {
	var errs []error
	for range cap(m.slots) {
		sl := <-m.slots
		if sl.conn != nil {
			errs = append(errs, m.client.CloseWithSMTPClient(sl.conn))
			sl.conn = nil
		}
		defer func() { m.slots <- sl }()
	}
	return errors.Join(errs...)
}

func (m *Mailer) drop(sl *slot) {
	_ = m.client.CloseWithSMTPClient(sl.conn)
	sl.conn = nil
}

// build turns a Message into a go-mail message and returns its Message-ID.
func (m *Mailer) build(msg Message, acc *acceptance) (*gomail.Msg, string, error) {
	g := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	g.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, &mail.Address{Name: displayName(m.from.Name), Address: m.from.Address})
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return nil, "", fmt.Errorf("to %q: %w", msg.To, err)
	}
	g.SetAddrHeaderFromMailAddress(gomail.HeaderTo, &mail.Address{Name: displayName(msg.ToName), Address: to.Address})
	if m.reply != "" {
		if err := g.ReplyTo(m.reply); err != nil {
			return nil, "", fmt.Errorf("reply-to: %w", err)
		}
	}
	id := MessageID(msg.IdempotencyKey, m.domain)
	g.SetMessageIDWithValue(id)
	g.SetDate()
	g.Subject(msg.Subject)
	if msg.LedgerID != "" {
		g.SetGenHeader(HeaderMessageID, msg.LedgerID)
	}
	if m.bounce != "" {
		if err := g.EnvelopeFrom(VERPAddress(m.bounce, msg.LedgerID)); err != nil {
			return nil, "", fmt.Errorf("envelope sender: %w", err)
		}
	}
	if err := setUnsubscribe(g, msg.UnsubscribeURL, msg.UnsubscribeMailto); err != nil {
		return nil, "", err
	}
	if msg.HTML == "" {
		g.SetBodyWriter(gomail.TypeTextPlain, acc.writer(msg.Text))
		return g, id, nil
	}
	g.SetBodyString(gomail.TypeTextPlain, msg.Text)
	g.AddAlternativeWriter(gomail.TypeTextHTML, acc.writer(msg.HTML))
	return g, id, nil
}

// acceptance calls a message's Accept once its last part is written; go-mail
// sends that part's encoded bytes, the closing boundary and the final dot
// only after the part's writer returns. Accept is called once per message,
// also when the message is written again on a fresh connection.
type acceptance struct {
	ctx      context.Context
	accept   func(context.Context) error
	accepted bool
	err      error // what Accept refused with
}

func (a *acceptance) writer(body string) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, body)
		if err != nil || a.accept == nil || a.accepted {
			return int64(n), err
		}
		if a.err = a.accept(a.ctx); a.err != nil {
			return int64(n), a.err
		}
		a.accepted = true
		return int64(n), nil
	}
}

// displayName makes any name safe to put in an address header: control
// characters (a CR/LF typed into a form) become spaces and runs of white
// space one space. The header itself is written by net/mail, as a quoted
// string with escapes for ASCII names (`"Quinn \"Q"`) and as RFC 2047
// encoded words otherwise, so every name round-trips through a standard
// parser and none can make a message undeliverable.
func displayName(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// setUnsubscribe writes List-Unsubscribe. Mailbox providers only offer
// one-click (RFC 8058) for an https URL, so the Post header goes with https.
func setUnsubscribe(g *gomail.Msg, link, mailto string) error {
	var uris []string
	if mailto != "" {
		uris = append(uris, "mailto:"+strings.TrimPrefix(mailto, "mailto:")+"?subject=unsubscribe")
	}
	switch {
	case strings.HasPrefix(link, "https://"):
		if err := g.SetListUnsubscribeOneClick(link, uris...); err != nil {
			return fmt.Errorf("list-unsubscribe: %w", err)
		}
	case link != "":
		g.SetListUnsubscribe(append([]string{link}, uris...)...)
	case len(uris) > 0:
		g.SetListUnsubscribe(uris...)
	}
	return nil
}

// MessageID derives a stable Message-ID (without angle brackets) from an
// idempotency key: a retry of the same business message gets the same ID.
func MessageID(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// VERPAddress is the envelope sender (Return-Path) of a message whose
// bounces go to bounce: "bounces@example.com" becomes
// "bounces+<ledger id>@example.com", so a DSN names its message even when
// the relay that bounced it dropped every header.
func VERPAddress(bounce, ledgerID string) string {
	local, domain, ok := strings.Cut(bounce, "@")
	if !ok || ledgerID == "" {
		return bounce
	}
	return local + "+" + ledgerID + "@" + domain
}
