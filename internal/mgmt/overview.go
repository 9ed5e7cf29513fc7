package mgmt

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// OverviewStore answers the console's overview; *store.Store implements it.
type OverviewStore interface {
	TrafficSince(ctx context.Context, t time.Time) ([]store.Traffic, error)
	TrafficBetween(ctx context.Context, from, to time.Time) ([]store.Traffic, error)
	JourneysInFlight(ctx context.Context) ([]store.JourneyLoad, error)
	CampaignLoads(ctx context.Context, limit int) ([]store.CampaignLoad, error)
	OutboxStats(ctx context.Context) (store.OutboxStats, error)
	CustomerScoreOf(ctx context.Context, customerID string) (store.CustomerScore, error)
	Consents(ctx context.Context, customerID string) ([]store.Consent, error)
	ConsentHistory(ctx context.Context, customerID string) ([]store.ConsentChange, error)
}

// Overview is the state of the whole system at a glance: what was sent
// today and over the last seven days, what is running, and what needs a
// person's attention.
type Overview struct {
	Today, Week []ChannelTraffic
	Journeys    []store.JourneyLoad
	Campaigns   []store.CampaignLoad
	Outbox      store.OutboxStats
	Attention   []Attention
}

// ChannelTraffic is one channel's messages in a window: how many the send
// path sent, skipped (and why), failed (and why), or holds queued, and what
// came back about the sent ones.
type ChannelTraffic struct {
	Channel                  string
	Sent, Skipped, Failed    int64
	Queued                   int64
	SkippedBy, FailedBy      []ReasonCount
	Delivered, Bounced, Soft int64
	Complained               int64
}

// ReasonCount is how many messages share a reason.
type ReasonCount struct {
	Reason string
	Count  int64
}

// FailureRate is failed over attempted (sent + failed), 0 when none.
func (c ChannelTraffic) FailureRate() float64 {
	if c.Sent+c.Failed == 0 {
		return 0
	}
	return float64(c.Failed) / float64(c.Sent+c.Failed)
}

// Attention is something a person should look at, with its figures.
type Attention struct {
	// Kind is outbox_backlog, failure_rate or paused_backlog.
	Kind    string
	Subject string // the channel or campaign concerned
	Count   int64
	Rate    float64
	Since   time.Duration
}

// Thresholds for the overview's attention items.
const (
	// outboxLate: events still unrouted after this long mean the router
	// is not draining the outbox.
	outboxLate = 5 * time.Minute
	// failureFloor: today's failure rate above this and above twice the
	// week's is not normal.
	failureFloor = 0.02
	// failureMin: fewer attempts than this say nothing about a rate.
	failureMin = 20
)

// Overview reads the figures the console's first page shows. today is the
// start of the reader's day (in their time zone); the week starts six days
// before it.
func (s *Service) Overview(ctx context.Context, today time.Time) (Overview, error) {
	var o Overview
	day, err := s.store.TrafficSince(ctx, today)
	if err != nil {
		return o, err
	}
	earlier, err := s.earlier.traffic(ctx, s.store, today.AddDate(0, 0, -6), today, s.opt.Now())
	if err != nil {
		return o, err
	}
	o.Today, o.Week = byChannel(day), byChannel(append(slices.Clone(earlier), day...))
	if o.Journeys, err = s.store.JourneysInFlight(ctx); err != nil {
		return o, err
	}
	if o.Campaigns, err = s.store.CampaignLoads(ctx, 50); err != nil {
		return o, err
	}
	if o.Outbox, err = s.store.OutboxStats(ctx); err != nil {
		return o, err
	}
	o.Attention = attention(o)
	return o, nil
}

// settledFor is how long the overview reuses its count of the six days
// before today: at a million customers it reads a quarter of a million
// ledger rows (about 180 ms), and those days change only by late outcomes
// (a delivery report, a bounce, a queued message sent), which then show
// within this long. Today is always counted live.
const settledFor = 5 * time.Minute

// settledTraffic keeps the overview's count of the days before today, per
// window (readers in other time zones start their days at other times).
type settledTraffic struct {
	mu      sync.Mutex
	windows map[time.Time]settledWindow
}

type settledWindow struct {
	to, at time.Time
	rows   []store.Traffic
}

// traffic is the ledger's traffic in [from, to), counted at most once per
// settledFor.
func (c *settledTraffic) traffic(ctx context.Context, st OverviewStore, from, to, now time.Time) ([]store.Traffic, error) {
	c.mu.Lock()
	w, ok := c.windows[from]
	c.mu.Unlock()
	if ok && w.to.Equal(to) && now.Sub(w.at) < settledFor {
		return w.rows, nil
	}
	rows, err := st.TrafficBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.windows == nil {
		c.windows = map[time.Time]settledWindow{}
	}
	for k, w := range c.windows {
		if now.Sub(w.at) >= settledFor {
			delete(c.windows, k)
		}
	}
	c.windows[from] = settledWindow{to: to, at: now, rows: rows}
	return rows, nil
}

// attention picks out the outbox that is not draining, a channel failing
// more than it normally does, and a paused campaign with people waiting.
func attention(o Overview) []Attention {
	var out []Attention
	if o.Outbox.Size > 0 && o.Outbox.OldestAge > outboxLate {
		out = append(out, Attention{Kind: "outbox_backlog", Count: int64(o.Outbox.Size), Since: o.Outbox.OldestAge})
	}
	for _, c := range o.Today {
		var normal float64
		for _, w := range o.Week {
			if w.Channel == c.Channel {
				normal = w.FailureRate()
			}
		}
		if r := c.FailureRate(); c.Sent+c.Failed >= failureMin && r > failureFloor && r > 2*normal {
			out = append(out, Attention{Kind: "failure_rate", Subject: c.Channel, Count: c.Failed, Rate: r})
		}
	}
	for _, c := range o.Campaigns {
		if c.Status == "paused" && c.Open > 0 {
			out = append(out, Attention{Kind: "paused_backlog", Subject: c.Name, Count: c.Open})
		}
	}
	return out
}

func byChannel(rows []store.Traffic) []ChannelTraffic {
	var out []ChannelTraffic
	find := func(ch string) *ChannelTraffic {
		for i := range out {
			if out[i].Channel == ch {
				return &out[i]
			}
		}
		out = append(out, ChannelTraffic{Channel: ch})
		return &out[len(out)-1]
	}
	add := func(rs []ReasonCount, reason string, n int64) []ReasonCount {
		for i := range rs {
			if rs[i].Reason == reason {
				rs[i].Count += n
				return rs
			}
		}
		return append(rs, ReasonCount{Reason: reason, Count: n})
	}
	for _, r := range rows {
		c := find(r.Channel)
		switch r.Status {
		case store.StatusSent:
			c.Sent += r.Count
		case store.StatusSkipped:
			c.Skipped += r.Count
			c.SkippedBy = add(c.SkippedBy, reasonKind(r.Reason), r.Count)
		case store.StatusFailed:
			c.Failed += r.Count
			c.FailedBy = add(c.FailedBy, reasonKind(r.Reason), r.Count)
		default:
			c.Queued += r.Count
		}
		switch r.Delivery {
		case "delivered":
			c.Delivered += r.Count
		case "bounced":
			c.Bounced += r.Count
		case "soft_bounced":
			c.Soft += r.Count
		case "complained":
			c.Complained += r.Count
		}
	}
	for i := range out {
		for _, rs := range [][]ReasonCount{out[i].SkippedBy, out[i].FailedBy} {
			slices.SortFunc(rs, func(a, b ReasonCount) int {
				return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
			})
		}
	}
	slices.SortFunc(out, func(a, b ChannelTraffic) int { return cmp.Compare(a.Channel, b.Channel) })
	return out
}

// reasonKind groups reasons by their kind: "suppressed:hard_bounce" and
// "suppressed:manual" are both "suppressed"; a failure's provider text
// after the first colon is dropped so counts do not scatter.
func reasonKind(r string) string {
	if r == "" {
		return "unknown"
	}
	for i, ch := range r {
		if ch == ':' {
			return r[:i]
		}
	}
	return r
}

// CustomerProfile is what the console's customer page shows beside the
// timeline: scores (nil before the first refresh) and consent per channel
// and topic with every change.
type CustomerProfile struct {
	Score   *store.CustomerScore
	Consent []store.Consent
	History []store.ConsentChange
}

// CustomerProfile reads a customer's scores and consents (the customer's
// Tidings ID, as FindCustomer returns it).
func (s *Service) CustomerProfile(ctx context.Context, customerID string) (CustomerProfile, error) {
	var p CustomerProfile
	sc, err := s.store.CustomerScoreOf(ctx, customerID)
	switch {
	case err == nil:
		p.Score = &sc
	case !errors.Is(err, store.ErrNotFound):
		return p, err
	}
	if p.Consent, err = s.store.Consents(ctx, customerID); err != nil {
		return p, err
	}
	if p.History, err = s.store.ConsentHistory(ctx, customerID); err != nil {
		return p, err
	}
	return p, nil
}
