package delivery

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tidingsdev/tidings/internal/config"
)

// Default topics. A journey names one of these (or one added through
// Options.Topics) on every Request.
const (
	TopicTransactional = "transactional"
	TopicCare          = "care"
	TopicSurveys       = "surveys"
	TopicMarketing     = "marketing"
)

// TopicAll is the consent topic that covers every non-transactional topic on
// a channel: a customer who denied "all" hears nothing but receipts.
const TopicAll = "all"

// Rule is what consent a topic needs on a channel.
type Rule string

// Consent rules.
const (
	// OptIn sends only to customers who granted consent for the topic.
	OptIn Rule = "opt-in"
	// OptOut sends unless the customer denied consent for the topic.
	OptOut Rule = "opt-out"
)

// Cap limits how many messages a customer receives on a channel within a
// rolling window, counting every topic that is not Uncapped.
type Cap struct {
	Channel string
	Max     int
	Window  time.Duration
}

// Topic is the policy for one kind of message.
type Topic struct {
	// Transactional messages need no consent and ignore caps and quiet
	// hours (the suppression list still applies).
	Transactional bool
	// Consent per channel; a channel missing here is treated as OptIn.
	Consent map[string]Rule
	// Caps checked before sending a message of this topic.
	Caps []Cap
	// Uncapped topics are neither capped nor counted against other caps.
	Uncapped bool
	// IgnoreQuietHours sends at any hour of the customer's day.
	IgnoreQuietHours bool
	// Tracking is what its emails track; nil means TrackingOf's default.
	Tracking *Tracking
}

// DefaultTopics is the policy Tidings ships with: receipts always go out,
// care messages unless the customer opted out, surveys and marketing capped,
// and SMS marketing only to customers who opted in.
func DefaultTopics() map[string]Topic {
	marketingCaps := []Cap{
		{Channel: Email, Max: 2, Window: 24 * time.Hour},
		{Channel: Email, Max: 5, Window: 7 * 24 * time.Hour},
		{Channel: SMS, Max: 1, Window: 24 * time.Hour},
		{Channel: SMS, Max: 3, Window: 7 * 24 * time.Hour},
	}
	return map[string]Topic{
		TopicTransactional: {Transactional: true, Uncapped: true, IgnoreQuietHours: true},
		TopicCare: {
			Consent:  map[string]Rule{Email: OptOut, SMS: OptOut},
			Uncapped: true,
		},
		TopicSurveys: {
			Consent: map[string]Rule{Email: OptOut, SMS: OptIn},
			Caps:    marketingCaps,
		},
		TopicMarketing: {
			Consent: map[string]Rule{Email: OptOut, SMS: OptIn},
			Caps:    marketingCaps,
		},
	}
}

// Skip reasons recorded in the ledger.
const (
	ReasonNoAddress    = "no_address"
	ReasonOptedOut     = "opted_out"
	ReasonNoOptIn      = "no_opt_in"
	ReasonSuppressed   = "suppressed"
	ReasonFrequencyCap = "frequency_cap"
)

// quietHours is a local span of the day, in minutes after midnight, that may
// wrap midnight (21:00-09:00).
type quietHours struct{ start, end int }

func parseQuietHours(v string) (quietHours, error) {
	if v == "" {
		return quietHours{}, nil
	}
	s, e, err := config.ParseQuietHours(v)
	if err != nil {
		return quietHours{}, fmt.Errorf("quiet hours: %w", err)
	}
	return quietHours{s, e}, nil
}

func (q quietHours) contains(minute int) bool {
	switch {
	case q.start == q.end:
		return false
	case q.start < q.end:
		return minute >= q.start && minute < q.end
	default:
		return minute >= q.start || minute < q.end
	}
}

// next returns now when now is outside quiet hours in loc, otherwise the
// first minute after them in the customer's own calendar (a wall-clock
// calculation, so a DST change the night before moves the instant, not the
// local time).
func (q quietHours) next(now time.Time, loc *time.Location) time.Time {
	local := now.In(loc)
	minute := local.Hour()*60 + local.Minute()
	if !q.contains(minute) {
		return now
	}
	day := local.Day()
	if q.start > q.end && minute >= q.start {
		day++ // evening: quiet hours end tomorrow morning
	}
	t := time.Date(local.Year(), local.Month(), day, q.end/60, q.end%60, 0, 0, loc)
	if !t.After(now) {
		// The end falls in a DST gap that time.Date resolved backwards.
		t = t.Add(time.Hour)
	}
	return t
}

// uncappedTopics lists the topics that do not count against caps.
func uncappedTopics(topics map[string]Topic) []string {
	var out []string
	for name, t := range topics {
		if t.Uncapped || t.Transactional {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func checkTopics(topics map[string]Topic) error {
	for name, t := range topics {
		for ch, r := range t.Consent {
			if ch != Email && ch != SMS {
				return fmt.Errorf("topic %s: consent for unknown channel %q", name, ch)
			}
			if r != OptIn && r != OptOut {
				return fmt.Errorf("topic %s: consent rule %q is neither %q nor %q", name, r, OptIn, OptOut)
			}
		}
		for _, c := range t.Caps {
			if c.Channel != Email && c.Channel != SMS {
				return fmt.Errorf("topic %s: cap for unknown channel %q", name, c.Channel)
			}
			if c.Max < 1 || c.Window <= 0 {
				return fmt.Errorf("topic %s: a %s cap needs a positive max and window", name, c.Channel)
			}
		}
	}
	return nil
}

func topicNames(topics map[string]Topic) []string {
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
