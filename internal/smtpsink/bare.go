package smtpsink

import (
	"context"
	"fmt"
	"net"
	"strconv"

	gomail "github.com/wneessen/go-mail"
)

// Body is one pre-rendered message a BareSender sends.
type Body struct {
	Subject, Text, HTML string
}

// BareSender is the baseline benchmarks hold the send path against: plain
// go-mail with its defaults, connections dialed once and reused, one
// message built per email from pre-rendered bodies in turn, with nothing
// else (no policy, no ledger, no rendering). Send is safe for concurrent
// use; at most as many messages as connections are in flight.
type BareSender struct {
	clients chan *gomail.Client
	bodies  []Body
}

// NewBareSender dials conns plain-text connections to the relay at addr
// (host:port).
func NewBareSender(ctx context.Context, addr string, conns int, bodies []Body) (*BareSender, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bare sender: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("bare sender: port %q: %w", p, err)
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("bare sender: no message bodies")
	}
	l := &BareSender{clients: make(chan *gomail.Client, conns), bodies: bodies}
	for range conns {
		c, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS))
		if err == nil {
			err = c.DialWithContext(ctx)
		}
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("bare sender: dial %s: %w", addr, err)
		}
		l.clients <- c
	}
	return l, nil
}

// Send builds message i (addressed to customer<i>@bare.example, with body
// i modulo the bodies) and sends it on a free connection.
func (l *BareSender) Send(i int) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.FromFormat("Tidings", "hello@tidings.example"); err != nil {
		return err
	}
	if err := m.AddToFormat("Ada Lovelace", fmt.Sprintf("customer%d@bare.example", i)); err != nil {
		return err
	}
	m.SetMessageIDWithValue(fmt.Sprintf("bare-%d@tidings.example", i))
	m.SetDate()
	b := l.bodies[i%len(l.bodies)]
	m.Subject(b.Subject)
	m.SetBodyString(gomail.TypeTextPlain, b.Text)
	m.AddAlternativeString(gomail.TypeTextHTML, b.HTML)
	c := <-l.clients
	defer func() { l.clients <- c }()
	return c.Send(m)
}

// Conns is the number of connections.
func (l *BareSender) Conns() int { return cap(l.clients) }

// Close ends every connection that is not in use.
func (l *BareSender) Close() {
	for {
		select {
		case c := <-l.clients:
			_ = c.Close()
		default:
			return
		}
	}
}
