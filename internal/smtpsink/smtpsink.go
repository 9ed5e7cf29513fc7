// Package smtpsink is a real SMTP server that runs in-process and keeps what
// it receives, so tests, benchmarks and `tidings dev` can watch mail arrive
// without a mail relay. It counts connections (to prove reuse) and replies
// with injected errors (to prove 4xx/5xx handling) on demand.
package smtpsink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage names the SMTP command a Fault answers.
type Stage string

// Stages a fault can be injected at.
const (
	Mail Stage = "MAIL"
	Rcpt Stage = "RCPT"
	Data Stage = "DATA"
)

// Fault is an error reply the sink gives instead of accepting a command.
type Fault struct {
	Stage Stage
	// Recipient limits a Rcpt fault to one address; empty matches any.
	Recipient string
	Code      int
	// Enhanced is the RFC 3463 status, e.g. "5.1.1".
	Enhanced string
	Message  string
	// Times is how many commands the fault answers; 0 means every one.
	Times int
	// Rate, when set, is the share of matching commands the fault answers,
	// picked at random (0.02 for one in fifty).
	Rate float64
	// Drop closes the connection after the reply (Code 0: without one), as
	// a relay that times out, crashes or loses its network does; at Data
	// it does so after DropAfter bytes of the message were read.
	Drop      bool
	DropAfter int64
	// Stall, at Data, waits this long after the message before answering
	// (with Code, or accepting it without): a relay too slow to reply in
	// the client's timeout that still delivers.
	Stall time.Duration
}

// Message is one message the sink accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// Conn is the number of the connection it arrived on, from 1.
	Conn int
}

// Header parses the message's header section.
func (m Message) Header() (mail.Header, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	return msg.Header, nil
}

// Options tunes a sink.
type Options struct {
	// Username and Password, when set, make AUTH PLAIN mandatory.
	Username, Password string
	// Discard keeps only counts, not message bodies: a benchmark's 100,000
	// messages then cost the process no memory.
	Discard bool
	// IdleTimeout is how long a connection may sit without a command
	// before the sink answers "421 4.4.2 Idle timeout" and hangs up, as
	// relays do; default one minute.
	IdleTimeout time.Duration
}

// Sink is a running SMTP server. All methods are safe for concurrent use.
type Sink struct {
	opt    Options
	server *smtp.Server
	ln     net.Listener
	done   chan struct{}

	mu       sync.Mutex
	conns    []*smtp.Conn
	accepted int
	bytes    int64
	messages []Message
	faults   []*Fault
	rand     *rand.Rand
}

// Start listens on a free loopback port and serves until Close.
func Start(opt Options) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink: listen: %w", err)
	}
	s := &Sink{opt: opt, ln: ln, done: make(chan struct{}), rand: rand.New(rand.NewPCG(1, 2))}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.localhost"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.MaxMessageBytes = 10 << 20
	srv.ReadTimeout = time.Minute
	if opt.IdleTimeout > 0 {
		srv.ReadTimeout = opt.IdleTimeout
	}
	srv.WriteTimeout = time.Minute
	s.server = srv
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// URL is an smtp:// URL for the sink (plain text, no TLS), with the
// configured credentials.
func (s *Sink) URL() string {
	user := ""
	if s.opt.Username != "" {
		user = s.opt.Username + ":" + s.opt.Password + "@"
	}
	return "smtp://" + user + s.Addr() + "?tls=none"
}

// Close stops the server and drops every connection.
func (s *Sink) Close() error {
	err := s.server.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Connections is how many connections clients have opened so far.
func (s *Sink) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Count is how many messages were accepted.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Bytes is the total size of the accepted messages, so a benchmark can show
// that two senders it compares sent messages of the same size.
func (s *Sink) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Messages returns a copy of the accepted messages (empty with Discard).
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Inject makes the sink answer with f until it has been used f.Times times.
func (s *Sink) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// DropConnections closes every open connection from the server side, as a
// relay restarting or an idle timeout would.
func (s *Sink) DropConnections() {
	s.mu.Lock()
	conns := append([]*smtp.Conn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// fault returns the fault that answers a command, or nil.
func (s *Sink) fault(stage Stage, rcpt string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Stage != stage || (f.Recipient != "" && !strings.EqualFold(f.Recipient, rcpt)) {
			continue
		}
		if f.Rate > 0 && s.rand.Float64() >= f.Rate {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f
	}
	return nil
}

// reply is the SMTP error a fault answers with. A dropping fault writes
// its reply itself, if it has a code (a 421 before hanging up), and closes
// the connection.
func (f *Fault) reply(c *smtp.Conn) error {
	if f.Drop {
		if f.Code != 0 {
			_, _ = fmt.Fprintf(c.Conn(), "%d %s %s\r\n", f.Code, f.Enhanced, f.Message)
		}
		_ = c.Close()
	}
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: enhanced(f.Enhanced), Message: f.Message}
}

func enhanced(s string) smtp.EnhancedCode {
	var c smtp.EnhancedCode
	if _, err := fmt.Sscanf(s, "%d.%d.%d", &c[0], &c[1], &c[2]); err != nil {
		return smtp.NoEnhancedCode
	}
	return c
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	n := len(s.conns)
	s.mu.Unlock()
	return &session{sink: s, c: c, conn: n}, nil
}

type session struct {
	sink   *Sink
	c      *smtp.Conn
	conn   int
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.sink.opt.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.sink.opt.Username || pass != ss.sink.opt.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.opt.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if f := ss.sink.fault(Mail, ""); f != nil {
		return f.reply(ss.c)
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.sink.fault(Rcpt, to); f != nil {
		return f.reply(ss.c)
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	f := ss.sink.fault(Data, "")
	if f != nil && f.Drop {
		_, _ = io.CopyN(io.Discard, r, f.DropAfter)
		return f.reply(ss.c)
	}
	var body []byte
	var size int64
	var err error
	if ss.sink.opt.Discard {
		size, err = io.Copy(io.Discard, r)
	} else {
		body, err = io.ReadAll(r)
		size = int64(len(body))
	}
	if err != nil {
		return err
	}
	if f != nil && f.Stall > 0 {
		time.Sleep(f.Stall)
	}
	if f != nil && f.Code != 0 {
		return f.reply(ss.c)
	}
	s := ss.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted++
	s.bytes += size
	if !s.opt.Discard {
		s.messages = append(s.messages, Message{From: ss.from, To: append([]string(nil), ss.to...), Data: body, Conn: ss.conn})
	}
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }
