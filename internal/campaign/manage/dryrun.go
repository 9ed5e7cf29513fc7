package manage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/templates"
)

// Zones at the two ends of the clock: a once campaign with local: true
// reaches its first customers at its wall time in UTC+14 and its last in
// UTC-12.
const (
	earliestZone = "Etc/GMT-14"
	latestZone   = "Etc/GMT+12"
)

// DryRunStore is what a dry run reads: saved segments and the sample
// customers' profiles. *store.Store implements it.
type DryRunStore interface {
	Segments
	Customer(ctx context.Context, id string) (store.Customer, error)
}

// DryRunOptions tune a dry run; zero values mean the defaults.
type DryRunOptions struct {
	// Now is the time the plan is made at (default time.Now()).
	Now time.Time
	// Samples is how many customers' first messages to render (default 3).
	Samples int
	// Next is how many future firings of a schedule to list (default 3).
	Next int
	// Company is the sender printed in footers, as the send path has it.
	Company templates.Company
}

// Plan is what applying a campaign would do, computed without sending or
// storing anything.
type Plan struct {
	Campaign string `json:"campaign"`
	Trigger  string `json:"trigger"`
	// EvaluatedAt is when the audience was evaluated: the first firing of a
	// schedule or once trigger, now for an event trigger.
	EvaluatedAt time.Time `json:"evaluated_at"`
	// Audience is the customers the audience holds then; HeldOut how many
	// of them the holdout keeps back; Treatment the rest.
	Audience  int64 `json:"audience"`
	HeldOut   int64 `json:"held_out"`
	Treatment int64 `json:"treatment"`
	// Next lists upcoming firings (schedule), or for once the first and
	// last send time (local: true spans every zone).
	Next     []time.Time `json:"next,omitempty"`
	Samples  []Sample    `json:"samples"`
	Warnings []string    `json:"warnings,omitempty"`
	// WarningKeys are Warnings with their keys, one for one, for a front
	// door that says them in another language.
	WarningKeys []*spec.Problem `json:"-"`
	Took        Durations       `json:"took_ms"`
}

// warn adds a warning to the plan.
func (p *Plan) warn(w *spec.Problem) {
	p.Warnings = append(p.Warnings, w.Error())
	p.WarningKeys = append(p.WarningKeys, w)
}

// Durations are the query times of a dry run, in milliseconds in JSON.
type Durations struct {
	Count   time.Duration `json:"-"`
	Samples time.Duration `json:"-"`
}

// MarshalJSON writes the durations as milliseconds.
func (d Durations) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]int64{"count": d.Count.Milliseconds(), "samples": d.Samples.Milliseconds()})
}

// Sample is one treatment customer's first message as it would be rendered.
type Sample struct {
	CustomerID string `json:"customer_id"`
	ExternalID string `json:"external_id"`
	Locale     string `json:"locale"`
	TimeZone   string `json:"time_zone"`
	Variant    string `json:"variant,omitempty"`
	// Starts is when the customer's run starts (a schedule's or once
	// trigger's time, in local: true the customer's own); zero for events.
	Starts time.Time `json:"starts,omitzero"`
	// Step is the send step; After the waits and branches before it.
	Step     string   `json:"step,omitempty"`
	After    []string `json:"after,omitempty"`
	Channel  string   `json:"channel,omitempty"`
	Template string   `json:"template,omitempty"`
	// Rendered is the message in the variant the customer's locale gets.
	Rendered *templates.Rendered `json:"rendered,omitempty"`
	// Problem says why nothing could be rendered (no send reached, a
	// template error).
	Problem string `json:"problem,omitempty"`
}

// DryRun evaluates the campaign's audience and holdout, renders the first
// message of the first few treatment customers through the template set,
// and lists the next firings. It writes nothing.
func DryRun(ctx context.Context, db segment.DB, st DryRunStore, set Templates, s *campaign.Spec, o DryRunOptions) (Plan, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Samples <= 0 {
		o.Samples = 3
	}
	if o.Next <= 0 {
		o.Next = 3
	}
	p := Plan{Campaign: s.Name, Trigger: DescribeTrigger(s.Trigger), EvaluatedAt: o.Now}
	next, err := NextFirings(s.Trigger, o.Now, o.Next)
	if err != nil {
		return Plan{}, err
	}
	p.Next = next
	if s.Trigger.Kind != campaign.TriggerEvent && len(next) > 0 && next[0].After(o.Now) {
		p.EvaluatedAt = next[0]
	}
	for _, w := range warnings(s, o.Now) {
		p.warn(w)
	}

	aud, err := Audience(ctx, st, s)
	if err != nil {
		return Plan{}, err
	}
	start := time.Now()
	if p.Audience, err = segment.Count(ctx, db, aud, segment.At(p.EvaluatedAt)); err != nil {
		return Plan{}, err
	}
	if s.Holdout > 0 {
		held, err := holdoutOf(s, aud)
		if err != nil {
			return Plan{}, err
		}
		if p.HeldOut, err = segment.Count(ctx, db, held, segment.At(p.EvaluatedAt)); err != nil {
			return Plan{}, err
		}
	}
	p.Treatment = p.Audience - p.HeldOut
	p.Took.Count = time.Since(start)
	if p.Audience == 0 {
		p.warn(&spec.Problem{Format: "the audience is empty: nobody would receive this campaign"})
	}

	start = time.Now()
	if p.Samples, err = samples(ctx, db, st, set, s, aud, p.EvaluatedAt, o); err != nil {
		return Plan{}, err
	}
	p.Took.Samples = time.Since(start)
	return p, nil
}

// Audience is the campaign's audience as a segment definition, a saved
// segment it names read from st.
func Audience(ctx context.Context, st Segments, s *campaign.Spec) (*segment.Definition, error) {
	aud, err := s.Audience.Definition(ctx, saved(st))
	if err != nil {
		return nil, fmt.Errorf("campaign %s audience: %w", s.Name, err)
	}
	return aud, nil
}

// holdoutOf is the audience narrowed to the campaign's holdout: the same
// seeded bucket campaign.HeldOut computes per customer, as a condition.
func holdoutOf(s *campaign.Spec, aud *segment.Definition) (*segment.Definition, error) {
	src, err := json.Marshal(map[string]any{"match": map[string]any{
		"bucket": map[string]any{"seed": s.Name + "/holdout", "lt": s.Holdout},
	}})
	if err != nil {
		return nil, err
	}
	bucket, err := segment.Parse(src, "holdout")
	if err != nil {
		return nil, fmt.Errorf("holdout condition: %w", err)
	}
	return &segment.Definition{Name: aud.Name + " (holdout)", Match: &segment.Cond{
		Kind: segment.KindAll, Children: []*segment.Cond{aud.Match, bucket.Match},
	}}, nil
}

// samples renders the first message of the first treatment customers in ID
// order (IDs are random, so they are an unbiased, repeatable sample).
func samples(ctx context.Context, db segment.DB, st DryRunStore, set Templates, s *campaign.Spec, aud *segment.Definition, at time.Time, o DryRunOptions) ([]Sample, error) {
	out := []Sample{}
	after := ""
	for len(out) < o.Samples {
		ids, err := segment.Page(ctx, db, aud, after, 50, segment.At(at))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if len(out) == o.Samples {
				break
			}
			if campaign.HeldOut(s.Name, id, s.Holdout) {
				continue
			}
			c, err := st.Customer(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("sample customer %s: %w", id, err)
			}
			smp, err := sample(ctx, db, st, set, s, c, at, o.Company)
			if err != nil {
				return nil, err
			}
			out = append(out, smp)
		}
		if len(ids) < 50 {
			break
		}
		after = ids[len(ids)-1]
	}
	return out, nil
}

func sample(ctx context.Context, db segment.DB, st DryRunStore, set Templates, s *campaign.Spec, c store.Customer, at time.Time, company templates.Company) (Sample, error) {
	smp := Sample{CustomerID: c.ID, ExternalID: c.ExternalID, Locale: c.Locale, TimeZone: c.TimeZone}
	switch t := s.Trigger; {
	case t.Kind == campaign.TriggerOnce && t.Local:
		smp.Starts = campaign.LocalAt(t.At, c.TimeZone)
	case t.Kind != campaign.TriggerEvent:
		smp.Starts = at.In(c.Location())
	}
	step, after, err := firstSend(ctx, db, st, s.Steps, c.ID, at)
	if err != nil {
		return Sample{}, err
	}
	if step == nil {
		smp.Problem = "no send step is reached (every branch on the way leads past the sends)"
		return smp, nil
	}
	v := campaign.PickVariant(s.Name, c.ID, step.Send)
	r := campaign.Message(s.Name, 1, c.ID, *step, v, 1)
	smp.Step, smp.After, smp.Channel, smp.Template = step.ID, after, r.Channel, r.Template
	if v != nil {
		smp.Variant = v.Name
	}
	d, err := set.Sample(r.Template, c.Locale)
	if err != nil {
		smp.Problem = err.Error()
		return smp, nil
	}
	d.Customer = templates.Customer{
		ID: c.ID, FirstName: c.FirstName, LastName: c.LastName, Locale: c.Locale, TimeZone: c.TimeZone,
		City: c.City, Country: c.Country, OrdersCount: c.OrdersCount, TotalSpent: c.TotalSpent,
	}
	d.Company = company
	d.Vars = map[string]any{}
	for k, val := range delivery.SampleCouponData(r.Data) {
		d.Vars[k] = val
	}
	rendered, err := set.Render(r.Template, c.Locale, r.Channel, d)
	if err != nil {
		smp.Problem = err.Error()
		return smp, nil
	}
	smp.Rendered = &rendered
	return smp, nil
}

// firstSend follows the steps for one customer to the first send step:
// branches are decided for the customer now, an event wait takes its
// timeout path (the customer has not acted yet). after describes what
// comes before the send.
func firstSend(ctx context.Context, db segment.DB, st DryRunStore, steps []campaign.Step, customerID string, at time.Time) (*campaign.Step, []string, error) {
	var after []string
	for i := range steps {
		step := &steps[i]
		var inner []campaign.Step
		switch {
		case step.Send != nil:
			return step, after, nil
		case step.Wait != nil:
			w := step.Wait
			switch {
			case w.Event != "":
				after = append(after, fmt.Sprintf("no %s within %s", w.Event, spec.FormatDuration(w.Timeout)))
				inner = w.OnTimeout
			case w.UntilMinute >= 0:
				after = append(after, fmt.Sprintf("wait until %02d:%02d local", w.UntilMinute/60, w.UntilMinute%60))
			default:
				after = append(after, "wait "+spec.FormatDuration(w.Duration))
			}
		case step.Branch != nil:
			def, err := step.Branch.If.Definition(ctx, saved(st))
			if err != nil {
				return nil, nil, fmt.Errorf("step %s condition: %w", step.ID, err)
			}
			in, err := segment.Contains(ctx, db, def, customerID, segment.At(at))
			if err != nil {
				return nil, nil, err
			}
			inner = step.Branch.Else
			after = append(after, fmt.Sprintf("branch %s: else", step.ID))
			if in {
				inner = step.Branch.Then
				after[len(after)-1] = fmt.Sprintf("branch %s: then", step.ID)
			}
		}
		found, more, err := firstSend(ctx, db, st, inner, customerID, at)
		if err != nil || found != nil {
			return found, append(after, more...), err
		}
		after = append(after, more...)
	}
	return nil, after, nil
}

// NextFirings lists when a trigger fires next: up to n schedule times after
// now, or a once trigger's time (with local: true, the first and the last
// moment it is that wall time somewhere). An event trigger has none.
func NextFirings(t campaign.Trigger, now time.Time, n int) ([]time.Time, error) {
	switch t.Kind {
	case campaign.TriggerSchedule:
		sched, err := spec.ParseCron(t.Cron)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %w", t.Cron, err)
		}
		loc, err := time.LoadLocation(orUTC(t.Zone))
		if err != nil {
			return nil, err
		}
		var out []time.Time
		for at := now.In(loc); len(out) < n; {
			at = sched.Next(at)
			if at.IsZero() {
				break
			}
			out = append(out, at)
		}
		return out, nil
	case campaign.TriggerOnce:
		if t.Local {
			return []time.Time{campaign.LocalAt(t.At, earliestZone), campaign.LocalAt(t.At, latestZone)}, nil
		}
		return []time.Time{t.At}, nil
	}
	return nil, nil
}

// onceStart is when a once trigger's runner starts: its time, or for
// local: true the moment that wall time first occurs anywhere.
func onceStart(t campaign.Trigger) time.Time {
	if t.Local {
		return campaign.LocalAt(t.At, earliestZone)
	}
	return t.At
}

// onceLast is when a once trigger's last customer is due.
func onceLast(t campaign.Trigger) time.Time {
	if t.Local {
		return campaign.LocalAt(t.At, latestZone)
	}
	return t.At
}

// DescribeTrigger says in words what starts the campaign.
func DescribeTrigger(t campaign.Trigger) string { return TriggerPhrase(t).Error() }

// TriggerPhrase is DescribeTrigger's words with their key, for a front
// door that says them in another language.
func TriggerPhrase(t campaign.Trigger) *spec.Problem {
	switch t.Kind {
	case campaign.TriggerSchedule:
		return &spec.Problem{Format: "schedule %q in %s", Args: []any{t.Cron, orUTC(t.Zone)}}
	case campaign.TriggerEvent:
		if len(t.Where) == 0 {
			return &spec.Problem{Format: "event %s", Args: []any{t.Event}}
		}
		keys := make([]string, 0, len(t.Where))
		for k := range t.Where {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var where []string
		for _, k := range keys {
			where = append(where, fmt.Sprintf("%s=%v", k, t.Where[k]))
		}
		return &spec.Problem{Format: "event %s where %s", Args: []any{t.Event, strings.Join(where, ", ")}}
	case campaign.TriggerOnce:
		if t.Local {
			return &spec.Problem{Format: "once at %s in each customer's time zone", Args: []any{t.At.Format("2006-01-02 15:04")}}
		}
		return &spec.Problem{Format: "once at %s", Args: []any{t.At.Format("2006-01-02 15:04 MST")}}
	}
	return &spec.Problem{Format: "%s", Args: []any{t.Kind}}
}

// warnings are things worth a second look that are not errors.
func warnings(s *campaign.Spec, now time.Time) []*spec.Problem {
	var out []*spec.Problem
	if s.Holdout > 0 && s.Goal == nil {
		out = append(out, &spec.Problem{Format: "a %d%% holdout without a goal measures nothing: add goal: {event: ...} to compare conversions", Args: []any{s.Holdout}})
	}
	errs, warns := CheckOnce(s, now)
	for _, e := range append(errs, warns...) {
		out = append(out, &spec.Problem{Format: e.Format, Args: e.Args})
	}
	return out
}

// CheckOnce judges a once trigger's time against now. A time that has
// passed for every customer by more than late_after can never be sent, so
// it is an error, and apply refuses it. One that has passed for some or all
// customers, but by less, is a warning: they are sent as soon as the
// campaign is applied.
func CheckOnce(s *campaign.Spec, now time.Time) (errs, warnings campaign.Errors) {
	t := s.Trigger
	if t.Kind != campaign.TriggerOnce {
		return nil, nil
	}
	switch last := onceLast(t); {
	case last.Add(lateAfter(s)).Before(now):
		errs = append(errs, s.Locate("trigger.once.at", "%s has passed for every customer (more than late_after %s ago); expected a future time",
			last.Format(time.RFC3339), spec.FormatDuration(lateAfter(s))))
	case onceStart(t).Before(now):
		warnings = append(warnings, s.Locate("trigger.once.at", "%s has already passed for some or all customers: they are sent as soon as the campaign is applied",
			onceStart(t).Format(time.RFC3339)))
	}
	return errs, warnings
}

func lateAfter(s *campaign.Spec) time.Duration {
	if s.LateAfter > 0 {
		return s.LateAfter
	}
	return campaign.DefaultLateAfter
}

func orUTC(zone string) string {
	if zone == "" {
		return "UTC"
	}
	return zone
}
