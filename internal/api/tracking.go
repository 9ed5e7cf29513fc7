package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/tracking"
)

// Engagement event types, recorded for the customer and routed like any
// other event, so segments, campaign waits and goals can use them.
const (
	EventEmailOpened  = "email_opened"
	EventEmailClicked = "email_clicked"
)

// transparentGIF is the 1×1 open pixel.
var transparentGIF = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

// errUnknownMessage is a tracking token whose message is not in the ledger.
var errUnknownMessage = errors.New("tracked message is not in the ledger")

// click is GET /c/{token}: a tracked link. The token names the message, the
// link's number and its URL under a signature; the redirect goes to that
// URL only when the signature holds, the message is in the ledger and, where
// its content is stored, the message really carried that URL at that
// number. Anything else is a 4xx page: never an open redirect. The click is
// recorded (once per message, link and kind of visitor) unless the customer
// turned tracking off; a person's first click becomes an email_clicked event.
func (s *Server) click(w http.ResponseWriter, r *http.Request) error {
	if s.tracking == nil {
		return s.linkError(w, r, tracking.ErrInvalid)
	}
	c, err := s.tracking.VerifyClick(r.PathValue("token"))
	if err != nil {
		return s.linkError(w, r, err)
	}
	ctx := r.Context()
	m, err := s.store.MessageByID(ctx, c.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		return s.linkError(w, r, errUnknownMessage)
	}
	if err != nil {
		return err
	}
	content, err := s.store.MessageContentOf(ctx, c.MessageID)
	switch {
	case err == nil && (c.Link >= len(content.Links) || content.Links[c.Link] != c.URL):
		return s.linkError(w, r, tracking.ErrInvalid)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := s.recordClick(ctx, r, m, c); err != nil {
		// The customer came for the page: a failure to count the click
		// must not keep them from it.
		s.log.ErrorContext(ctx, "click not recorded", "message_id", m.ID, "link", c.Link, "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, c.URL, http.StatusFound)
	return nil
}

// open is GET /o/{file}: the open pixel, file being "{token}.gif". The image
// is served whatever the outcome of recording, but only for a valid token.
func (s *Server) open(w http.ResponseWriter, r *http.Request) error {
	tok, ok := strings.CutSuffix(r.PathValue("file"), ".gif")
	if s.tracking == nil || !ok {
		return s.linkError(w, r, tracking.ErrInvalid)
	}
	id, err := s.tracking.VerifyOpen(tok)
	if err != nil {
		return s.linkError(w, r, err)
	}
	ctx := r.Context()
	m, err := s.store.MessageByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s.linkError(w, r, errUnknownMessage)
	}
	if err != nil {
		return err
	}
	if err := s.recordOpen(ctx, r, m); err != nil {
		s.log.ErrorContext(ctx, "open not recorded", "message_id", m.ID, "err", err)
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, private")
	w.Header().Set("Expires", "0")
	_, err = w.Write(transparentGIF)
	return err
}

// trackingAllowed reports whether visits of m may be recorded: the customer
// still exists and has neither turned tracking off nor denied every topic
// on the channel since the message went out.
func (s *Server) trackingAllowed(ctx context.Context, m store.Message) (bool, error) {
	if m.CustomerID == "" {
		return false, nil // erased
	}
	for _, topic := range []string{delivery.TopicTracking, delivery.TopicAll} {
		st, err := s.store.ConsentStatus(ctx, m.CustomerID, m.Channel, topic)
		if err != nil {
			return false, err
		}
		if st == store.Denied {
			return false, nil
		}
	}
	return true, nil
}

// visit classifies the request that followed a tracked link or loaded the
// pixel.
func (s *Server) visit(r *http.Request, m store.Message) (string, time.Time) {
	now := s.opt.Now()
	v := tracking.Visit{UserAgent: r.UserAgent(), IP: clientIP(r), Method: r.Method}
	if m.SentAt != nil {
		v.SinceSent = now.Sub(*m.SentAt)
	}
	return tracking.Classify(v), now
}

func (s *Server) recordClick(ctx context.Context, r *http.Request, m store.Message, c tracking.Click) error {
	if ok, err := s.trackingAllowed(ctx, m); !ok || err != nil {
		return err
	}
	machine, now := s.visit(r, m)
	first, err := s.store.RecordClick(ctx, store.MessageClick{
		MessageID: m.ID, Link: c.Link, URL: c.URL, Machine: machine != "", MachineReason: machine,
		UserAgent: truncate(r.UserAgent(), 512), FirstAt: now,
	})
	if err != nil || !first || machine != "" {
		return err
	}
	props := engagementProperties(m)
	props["link"] = c.Link
	_, err = s.recordAndRoute(ctx, []store.EventInput{{
		EventID: EventEmailClicked + ":" + m.ID + ":" + strconv.Itoa(c.Link), CustomerID: m.CustomerID,
		Type: EventEmailClicked, Properties: props, OccurredAt: now,
	}})
	return err
}

func (s *Server) recordOpen(ctx context.Context, r *http.Request, m store.Message) error {
	if ok, err := s.trackingAllowed(ctx, m); !ok || err != nil {
		return err
	}
	machine, now := s.visit(r, m)
	first, err := s.store.RecordOpen(ctx, store.MessageOpen{
		MessageID: m.ID, Machine: machine != "", MachineReason: machine, UserAgent: truncate(r.UserAgent(), 512), FirstAt: now,
	})
	if err != nil || !first || machine != "" {
		return err
	}
	_, err = s.recordAndRoute(ctx, []store.EventInput{{
		EventID: EventEmailOpened + ":" + m.ID, CustomerID: m.CustomerID,
		Type: EventEmailOpened, Properties: engagementProperties(m), OccurredAt: now,
	}})
	return err
}

// engagementProperties are the IDs an engagement event carries: the
// message, its journey or campaign, step (and A/B variant), template and
// topic. Never the URL or the user agent: events reach workflows, which
// hold no personal data.
func engagementProperties(m store.Message) map[string]any {
	props := map[string]any{"message_id": m.ID, "journey": m.Journey, "step": m.Step, "template": m.Template, "topic": m.Topic}
	if name, ok := strings.CutPrefix(m.Journey, "campaign/"); ok {
		props["campaign"] = name
		if step, variant, split := strings.Cut(m.Step, ":"); split {
			props["step"], props["variant"] = step, variant
		}
	}
	return props
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
