package delivery

import (
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/tracking"
	"github.com/tidingsdev/tidings/templates"
)

// TopicTracking is the consent topic of a customer's privacy choice about
// tracking: denied on the email channel (the preference page's privacy box,
// or PUT .../consents/email/tracking) means nothing in their email is
// tracked, whatever the topic allows.
const TopicTracking = "tracking"

// Tracking is what a topic's emails track. Nil in a Topic means the
// default: clicks and opens for every topic but transactional ones, links
// in the plain-text part left as written.
type Tracking struct {
	Clicks bool
	Opens  bool
	// Text also rewrites the links of the plain-text part.
	Text bool
}

// Tracker prepares every rendered message before it goes out (link
// rewriting, the open pixel, the content kept for the message log);
// *tracking.Tracker implements it.
type Tracker interface {
	Prepare(m tracking.Message, r templates.Rendered) templates.Rendered
}

// TrackingOf is the topic's tracking with the default applied.
func TrackingOf(t Topic) Tracking {
	if t.Tracking != nil {
		return *t.Tracking
	}
	if t.Transactional {
		return Tracking{}
	}
	return Tracking{Clicks: true, Opens: true}
}

// track hands the rendered message to the tracker. Nothing is tracked in a
// message to an internal address, or for a customer who turned tracking off
// or denied every topic on the channel (transactional mail still reaches
// them, untracked).
func (s *Service) track(it *item, f store.SendFacts) {
	if s.opt.Tracker == nil {
		return
	}
	pol := TrackingOf(it.topic)
	if it.req.ToAddress != "" || f.Consents[TopicTracking] == store.Denied || f.Consents[TopicAll] == store.Denied {
		pol = Tracking{}
	}
	it.r = s.opt.Tracker.Prepare(tracking.Message{
		ID: it.row.ID, Channel: it.req.Channel, Recipient: it.row.Recipient, Unsubscribe: it.unsubscribe,
		Policy: tracking.Policy{Clicks: pol.Clicks, Opens: pol.Opens, Text: pol.Text},
	}, it.r)
}
