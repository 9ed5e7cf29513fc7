package catcher

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MaxMessageBytes is the largest email the catcher accepts; larger ones are
// refused with 552 like a real relay would.
const MaxMessageBytes = 10 << 20

// SMTPServer is a local SMTP server that puts every message it receives into
// an Inbox. It accepts any sender, any recipient and any credentials, with
// or without AUTH, and no TLS, so every SMTP URL a developer may set for dev
// (smtp://127.0.0.1:1025, with or without user:pass) works.
type SMTPServer struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan error
	once sync.Once
	err  error
}

// ListenSMTP starts an SMTP server on addr ("127.0.0.1:1025"; port 0 picks
// a free one) that delivers into inbox. Close stops it.
func ListenSMTP(addr string, inbox *Inbox, log *slog.Logger) (*SMTPServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen smtp %s: %w", addr, err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{inbox: inbox}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = MaxMessageBytes
	srv.MaxRecipients = 1000
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = smtpErrorLog{log}
	s := &SMTPServer{srv: srv, ln: ln, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *SMTPServer) Addr() string { return s.ln.Addr().String() }

// Close stops accepting mail and closes open connections. It is safe to
// call more than once.
func (s *SMTPServer) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		if serr := <-s.done; serr != nil {
			err = serr
		}
		if err != nil {
			s.err = fmt.Errorf("close smtp server: %w", err)
		}
	})
	return s.err
}

// session collects one envelope at a time; a connection may carry many.
type session struct {
	inbox *Inbox
	from  string
	to    []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // the server turns a too-large message into a 552 reply
	}
	m := Message{Channel: Email, From: s.from, To: s.to, Size: len(raw)}
	if err := parseEmail(raw, &m); err != nil {
		m.ParseError = err.Error()
		m.Text = string(raw)
	}
	s.inbox.add(m)
	s.to = nil
	return nil
}

func (s *session) Reset() {
	s.from = ""
	s.to = nil
}

func (s *session) Logout() error { return nil }

// smtpErrorLog routes go-smtp's connection errors into slog at debug level:
// in dev they are nearly always a client hanging up.
type smtpErrorLog struct{ log *slog.Logger }

func (l smtpErrorLog) Printf(format string, v ...any) {
	l.log.Debug("catcher smtp", "msg", fmt.Sprintf(format, v...))
}

func (l smtpErrorLog) Println(v ...any) {
	l.log.Debug("catcher smtp", "msg", fmt.Sprint(v...))
}
