package reports

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// FunnelStore is what the funnel reports read: the funnels counted now and
// as the last refresh kept them; *store.Store implements it.
type FunnelStore interface {
	CampaignFunnel(ctx context.Context, name string, window time.Duration) ([]store.FunnelRow, error)
	JourneyFunnel(ctx context.Context, journey string, since, until time.Time, window time.Duration) ([]store.FunnelRow, error)
	KeptCampaignFunnel(ctx context.Context, name string, window time.Duration) (store.KeptFunnel, error)
	KeptJourneyFunnel(ctx context.Context, journey string, since, until time.Time, window time.Duration) (store.KeptFunnel, error)
}

// DefaultAttributionWindow is how long after a step a conversion is still
// credited to it unless the caller says otherwise.
const DefaultAttributionWindow = 7 * 24 * time.Hour

// maxAttributionWindow bounds the window a caller may give.
const maxAttributionWindow = 366 * 24 * time.Hour

// FunnelReport is a campaign's or a journey's funnel per arm (A/B variant,
// "<variant> rollout" for those sent an automatic test's winner, holdout;
// a journey has one arm, ""): entered → each step sent →
// delivered → opened → clicked → goal reached, with the goal's revenue
// credited to the last step sent before it (last touch) within Window.
type FunnelReport struct {
	// Kind is campaign or journey, Name the campaign's or journey's name.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Period is the journey runs' (or sweep messages') start; nil for a
	// campaign, whose funnel covers every entry.
	Period     *Period `json:"period,omitempty"`
	WindowDays float64 `json:"window_days"`
	// AsOf is when the refresh that kept this funnel counted it; nil when
	// it was counted for this request. A journey's entries since the
	// refresh (and any of its period the refresh did not keep) are counted
	// for the request all the same.
	AsOf       *time.Time        `json:"as_of,omitempty"`
	Definition map[string]string `json:"definition"`
	Arms       []FunnelArm       `json:"arms"`
}

// FunnelArm is one arm's funnel.
type FunnelArm struct {
	Arm     string `json:"arm"`
	Holdout bool   `json:"holdout"`
	Entered int    `json:"entered"`
	// Steps in the order they were first sent.
	Steps []FunnelStep `json:"steps"`
	// Converted entries reached the goal; ConversionRate = Converted /
	// Entered.
	Converted      int                `json:"converted"`
	ConversionRate *float64           `json:"conversion_rate"`
	Revenue        map[string]float64 `json:"revenue"`
	// Unattributed are the conversions no step was sent in the window
	// before (every conversion of a holdout), with their revenue.
	Unattributed        int                `json:"unattributed"`
	UnattributedRevenue map[string]float64 `json:"unattributed_revenue"`
}

// FunnelStep is one step of an arm: how many of its entries the step
// reached at each stage, the stage's rate of the one before it, and the
// conversions credited to the step.
type FunnelStep struct {
	Step      string `json:"step"`
	Sent      int    `json:"sent"`
	Delivered int    `json:"delivered"`
	Opened    int    `json:"opened"`
	Clicked   int    `json:"clicked"`
	Redeemed  int    `json:"redeemed"`
	// SentRate is Sent / the arm's Entered, DeliveredRate Delivered / Sent,
	// OpenRate Opened / Delivered, ClickRate Clicked / Opened.
	SentRate      *float64 `json:"sent_rate"`
	DeliveredRate *float64 `json:"delivered_rate"`
	OpenRate      *float64 `json:"open_rate"`
	ClickRate     *float64 `json:"click_rate"`
	// Conversions credited to the step (last touch) and their revenue by
	// currency.
	Conversions int                `json:"conversions"`
	Revenue     map[string]float64 `json:"revenue"`
}

// FunnelQuery is what a funnel report is asked for: a window of 0 is
// DefaultAttributionWindow; Period applies to journeys only.
//
// Kept answers from what the last refresh kept (each refresh keeps every
// campaign's and built-in journey's funnel rows, for every window) rather
// than following every entry through the ledger now: a campaign's funnel
// as of the refresh; a journey's entries of the whole UTC days of Period
// the refresh kept (the default period's, DefaultFunnelPeriod at its
// moment) as of the refresh, and its other entries (since the refresh, or
// earlier than it kept) counted now. The front doors ask for it; before
// any refresh the funnel is counted now.
type FunnelQuery struct {
	Period Period
	Window time.Duration
	Kept   bool
}

// DefaultFunnelPeriod is a journey funnel's period when none is named:
// the last 12 calendar months up to now, the one the refresh keeps.
func DefaultFunnelPeriod(now time.Time) Period {
	return Period{Since: MonthsBack(now, 12), Until: now}
}

var funnelDefinition = map[string]string{
	"entered":     "campaign: customers' entries (holdout included); journey: runs started in the period, or for a date sweep the messages it meant to send",
	"sent":        "entries the step's message was handed to the provider for",
	"delivered":   "sent with no bounce, undelivered or failure report",
	"opened":      "delivered messages a person opened or clicked (machine opens and link scanners left out)",
	"clicked":     "messages a person clicked a link in",
	"redeemed":    "messages whose coupon was redeemed",
	"converted":   "campaign: the goal event within the goal window after entry; journey: the run's recorded conversion; date sweep: the message's coupon redeemed",
	"credit":      "each conversion to the last step sent to the entry before it, if sent at most the window before (last touch); otherwise unattributed",
	"rates":       "sent / entered, delivered / sent, opened / delivered, clicked / opened, conversion = converted / entered",
	"revenue":     "the goal event's amount (campaign), the conversion's revenue (journey, coupon)",
	"window_days": "the attribution window in days",
}

// CampaignFunnel is a campaign's funnel over all its entries.
func CampaignFunnel(ctx context.Context, st FunnelStore, name string, q FunnelQuery) (FunnelReport, error) {
	window, err := q.window()
	if err != nil {
		return FunnelReport{}, err
	}
	if q.Kept {
		k, err := st.KeptCampaignFunnel(ctx, name, window)
		if r, ok, err := kept("campaign", name, nil, window, k, err); ok || err != nil {
			return r, err
		}
	}
	rows, err := st.CampaignFunnel(ctx, name, window)
	if err != nil {
		return FunnelReport{}, err
	}
	return funnel("campaign", name, nil, window, rows), nil
}

// JourneyFunnel is a built-in journey's funnel for the runs started in the
// period.
func JourneyFunnel(ctx context.Context, st FunnelStore, journey string, q FunnelQuery) (FunnelReport, error) {
	if err := q.Period.check(); err != nil {
		return FunnelReport{}, err
	}
	window, err := q.window()
	if err != nil {
		return FunnelReport{}, err
	}
	p := q.Period
	if q.Kept {
		k, err := st.KeptJourneyFunnel(ctx, journey, p.Since, p.Until, window)
		if r, ok, err := kept("journey", journey, &p, window, k, err); ok || err != nil {
			return r, err
		}
	}
	rows, err := st.JourneyFunnel(ctx, journey, p.Since, p.Until, window)
	if err != nil {
		return FunnelReport{}, err
	}
	return funnel("journey", journey, &p, window, rows), nil
}

// kept is the funnel k the store read from what the last refresh kept;
// ok is false when none was kept (it is then counted now).
func kept(kind, name string, p *Period, window time.Duration, k store.KeptFunnel, err error) (FunnelReport, bool, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return FunnelReport{}, false, nil
	case err != nil:
		return FunnelReport{}, false, err
	}
	r := funnel(kind, name, p, window, k.Rows)
	if !k.At.IsZero() {
		r.AsOf = &k.At
	}
	return r, true, nil
}

func (q FunnelQuery) window() (time.Duration, error) {
	switch {
	case q.Window == 0:
		return DefaultAttributionWindow, nil
	case q.Window < time.Hour || q.Window > maxAttributionWindow:
		return 0, inputErrorf("window", "must be between 1 hour and 366 days, not %s", q.Window)
	}
	return q.Window, nil
}

// ParseWindow reads an attribution window as the CLI and the API take it:
// days (7d), weeks (2w) or a Go duration (36h).
func ParseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if k, ok := days(s); ok {
		return time.Duration(k) * 24 * time.Hour, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, inputErrorf("window", "%q is not a length of time (7d, 2w, 36h)", s)
}

func funnel(kind, name string, p *Period, window time.Duration, rows []store.FunnelRow) FunnelReport {
	r := FunnelReport{Kind: kind, Name: name, Period: p, WindowDays: window.Hours() / 24,
		Definition: funnelDefinition, Arms: []FunnelArm{}}
	arm := func(name string) *FunnelArm {
		for i := range r.Arms {
			if r.Arms[i].Arm == name {
				return &r.Arms[i]
			}
		}
		r.Arms = append(r.Arms, FunnelArm{Arm: name, Steps: []FunnelStep{}, Revenue: map[string]float64{},
			UnattributedRevenue: map[string]float64{}})
		return &r.Arms[len(r.Arms)-1]
	}
	// Rows come arms first, then credits, then steps by first send.
	for _, row := range rows {
		if row.Kind == store.FunnelArm {
			a := arm(row.Arm)
			a.Holdout, a.Entered, a.Converted = row.Holdout, row.Entries, row.Converted
			a.ConversionRate = ratio(a.Converted, a.Entered)
		}
	}
	for _, row := range rows {
		if row.Kind != store.FunnelStep {
			continue
		}
		a := arm(row.Arm)
		a.Steps = append(a.Steps, FunnelStep{Step: row.Step, Sent: row.Sent, Delivered: row.Delivered,
			Opened: row.Opened, Clicked: row.Clicked, Redeemed: row.Redeemed,
			SentRate: ratio(row.Sent, a.Entered), DeliveredRate: ratio(row.Delivered, row.Sent),
			OpenRate: ratio(row.Opened, row.Delivered), ClickRate: ratio(row.Clicked, row.Opened),
			Revenue: map[string]float64{}})
	}
	for _, row := range rows {
		if row.Kind != store.FunnelCredit {
			continue
		}
		a := arm(row.Arm)
		if row.Revenue != 0 || row.Currency != "" {
			a.Revenue[row.Currency] += row.Revenue
		}
		if row.Step == "" {
			a.Unattributed += row.Converted
			if row.Revenue != 0 || row.Currency != "" {
				a.UnattributedRevenue[row.Currency] += row.Revenue
			}
			continue
		}
		for i := range a.Steps {
			if a.Steps[i].Step == row.Step {
				a.Steps[i].Conversions += row.Converted
				if row.Revenue != 0 || row.Currency != "" {
					a.Steps[i].Revenue[row.Currency] += row.Revenue
				}
			}
		}
	}
	slices.SortStableFunc(r.Arms, func(a, b FunnelArm) int {
		if a.Holdout != b.Holdout {
			if a.Holdout {
				return 1
			}
			return -1
		}
		return strings.Compare(a.Arm, b.Arm)
	})
	return r
}
