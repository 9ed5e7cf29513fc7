// Package campaign reads a marketer's campaign file (YAML): who it is for,
// what starts it, the steps each customer goes through, the goal that counts
// as a conversion and the holdout that measures it. Parse validates the whole
// file at once and locates every problem by line and column; the result, a
// Spec, is plain data that a campaign run carries as the snapshot of the
// version it started with, so editing a campaign never changes runs in
// flight.
package campaign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// Trigger kinds.
const (
	TriggerSchedule = "schedule" // a cron spec in a zone: each firing sends to the audience
	TriggerEvent    = "event"    // a customer event starts that customer's run
	TriggerOnce     = "once"     // one send to the audience at a time
)

// Step kinds.
const (
	StepSend    = "send"
	StepWait    = "wait"
	StepBranch  = "branch"
	StepTag     = "tag"
	StepUntag   = "untag"
	StepSet     = "set"
	StepWebhook = "webhook"
)

// Campaign statuses, kept in PostgreSQL.
const (
	StatusActive   = "active"
	StatusPaused   = "paused"
	StatusArchived = "archived"
)

// Defaults for fields a file may leave out.
const (
	DefaultTopic     = "marketing"
	DefaultChannel   = "email"
	DefaultLateAfter = 12 * time.Hour
	DefaultGoalAfter = 30 * 24 * time.Hour
	// MaxHoldout keeps a control group from swallowing the campaign.
	MaxHoldout = 50
)

// Spec is one validated campaign version. It is JSON-serialisable and holds
// no customer data, so it travels in workflow inputs as the run's snapshot.
type Spec struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Audience    Condition `json:"audience"`
	Trigger     Trigger   `json:"trigger"`
	// AgainAfter lets a customer enter again this long after their last
	// entry; zero means once per customer.
	AgainAfter time.Duration `json:"again_after,omitempty"`
	Goal       *Goal         `json:"goal,omitempty"`
	// Holdout is the percentage (0-50) of the audience that gets nothing
	// and is measured as the control group.
	Holdout int `json:"holdout,omitempty"`
	// LateAfter: after a pause, a send that fell due longer ago than this is
	// skipped rather than sent late.
	LateAfter time.Duration `json:"late_after,omitempty"`
	Steps     []Step        `json:"steps"`

	// Where Parse found things, for errors found later (an unknown template,
	// a missing saved segment); empty in a spec read back from JSON.
	file      string
	pos       map[string]position
	stepPaths map[string]string
}

// position is a line and column in the campaign file.
type position struct{ line, col int }

// Locate returns an error at path (e.g. "steps[2].send.template") in the
// file the spec was parsed from, or at the nearest enclosing path Parse
// recorded, so checks made after parsing point at the line like Parse does.
func (s *Spec) Locate(path, format string, args ...any) *spec.Error {
	e := &spec.Error{File: s.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	e.Format, e.Args = spec.Unwrapped(format, args)
	for p := path; p != ""; p = parentPath(p) {
		if at, ok := s.pos[p]; ok {
			e.Line, e.Column = at.line, at.col
			break
		}
	}
	return e
}

// parentPath drops the last element of a path: a.b[2].c -> a.b[2] -> a.b -> a.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// StepPath is where the step with the given ID is written
// ("steps[3].branch.then[0]"), or "" when unknown.
func (s *Spec) StepPath(id string) string { return s.stepPaths[id] }

// Condition selects customers: a saved segment by name, or an inline
// definition kept as its source so the snapshot survives serialisation and
// the segment package parses it where it is evaluated.
type Condition struct {
	Segment string `json:"segment,omitempty"`
	Inline  string `json:"inline,omitempty"`
}

// SavedSegments returns the definition of a saved segment as written, by
// name; the store's segments provide it.
type SavedSegments func(ctx context.Context, name string) (string, error)

// Definition resolves the condition to a segment definition: the saved
// segment as it is now, or the version's inline definition. A definition
// that no longer parses is segment.Errors.
func (c Condition) Definition(ctx context.Context, saved SavedSegments) (*segment.Definition, error) {
	src, label := c.Inline, "inline condition"
	if c.Segment != "" {
		def, err := saved(ctx, c.Segment)
		if err != nil {
			return nil, fmt.Errorf("segment %s: %w", c.Segment, err)
		}
		src, label = def, c.Segment
	}
	def, err := segment.Parse([]byte(src), label)
	if err != nil {
		return nil, err
	}
	def.Name = label
	return def, nil
}

// Trigger says what starts the campaign for a customer.
type Trigger struct {
	Kind string `json:"kind"`
	// Schedule.
	Cron string `json:"cron,omitempty"`
	Zone string `json:"zone,omitempty"`
	// Event: the type and properties an event must carry.
	Event string         `json:"event,omitempty"`
	Where map[string]any `json:"where,omitempty"`
	// Once: At, read in Zone (UTC when empty) or, when Local, as a wall
	// time in each customer's own zone.
	At    time.Time `json:"at,omitzero"`
	Local bool      `json:"local,omitempty"`
}

// Goal is the event that counts as a conversion and ends the customer's run.
type Goal struct {
	Event string         `json:"event"`
	Where map[string]any `json:"where,omitempty"`
	// Within is how long after entry a goal event still counts.
	Within time.Duration `json:"within"`
}

// Step is one step of a customer's run; exactly one of the kind fields is set.
type Step struct {
	// ID names the step in idempotency keys and reports; it defaults to its
	// position ("2", "3.then.1").
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Send    *Send    `json:"send,omitempty"`
	Wait    *Wait    `json:"wait,omitempty"`
	Branch  *Branch  `json:"branch,omitempty"`
	Tag     string   `json:"tag,omitempty"`
	Set     *SetAttr `json:"set,omitempty"`
	Webhook *Webhook `json:"webhook,omitempty"`
}

// Send is one message. With Variants, each customer gets one of them by
// their stable bucket for the campaign, in the given split.
type Send struct {
	Channel  string         `json:"channel"`
	Template string         `json:"template"`
	Topic    string         `json:"topic"`
	Vars     map[string]any `json:"vars,omitempty"`
	Variants []Variant      `json:"variants,omitempty"`
	// Winner, when set, tests the variants on a share of the audience and
	// sends the rest the one that did best.
	Winner *Winner `json:"winner,omitempty"`
}

// Winner metrics.
const (
	MetricClick = "click" // customers who clicked the message, per message sent
	MetricGoal  = "goal"  // customers who reached the goal, per message sent
)

// Automatic winner defaults and bounds.
const (
	DefaultWinnerTest    = 20
	DefaultWinnerMinSent = 100
	MinWinnerAfter       = time.Hour
	MaxWinnerAfter       = 30 * 24 * time.Hour
)

// Winner is an A/B test that picks its winner: Test percent of the
// audience (by a stable hash, beside the holdout) gets the variants; After
// the test's last send the variant with the best Metric per message sent
// wins (ChooseWinner), and the rest of the audience gets it.
type Winner struct {
	After  time.Duration `json:"after"`
	Metric string        `json:"metric"`
	Test   int           `json:"test"`
	// MinSent is how many messages each variant needs before the numbers
	// decide; with fewer, the first variant listed wins.
	MinSent int `json:"min_sent"`
}

// Variant is one arm of an A/B test: its own template and/or vars.
type Variant struct {
	Name     string         `json:"name"`
	Percent  int            `json:"percent"`
	Template string         `json:"template,omitempty"`
	Vars     map[string]any `json:"vars,omitempty"`
}

// Wait pauses a run: for a duration, until a local time of day, or until an
// event arrives (OnEvent) or Timeout passes (OnTimeout).
type Wait struct {
	Duration time.Duration `json:"duration,omitempty"`
	// UntilMinute is the local time of day (minutes after midnight) to wait
	// for; -1 when unused.
	UntilMinute int            `json:"until_minute"`
	Event       string         `json:"event,omitempty"`
	Where       map[string]any `json:"where,omitempty"`
	Timeout     time.Duration  `json:"timeout,omitempty"`
	OnEvent     []Step         `json:"on_event,omitempty"`
	OnTimeout   []Step         `json:"on_timeout,omitempty"`
}

// Branch runs Then for customers meeting If, Else for the others.
type Branch struct {
	If   Condition `json:"if"`
	Then []Step    `json:"then,omitempty"`
	Else []Step    `json:"else,omitempty"`
}

// SetAttr sets one custom attribute on the customer.
type SetAttr struct {
	Attribute string `json:"attribute"`
	Value     any    `json:"value"`
}

// Webhook posts the campaign, step and customer ID (never contact details)
// as JSON to URL.
type Webhook struct {
	URL string `json:"url"`
}

// Batchable reports whether the campaign is a single send: a scheduled or
// one-off run then sends in batches from one workflow instead of starting a
// workflow per customer, because nobody has anything to wait for. A goal
// does not change that: conversions are measured from stored events.
func (s *Spec) Batchable() bool {
	return len(s.Steps) == 1 && s.Steps[0].Kind == StepSend
}

// FirstSendBatched reports whether a campaign that runs per customer has
// its first step sent by the runner in batches: the first step is a send
// and the audience starts together (a schedule or a once trigger read in
// one zone), so the first message of every customer can go through the
// batched send path and each customer's run starts after it. With local:
// true every customer starts at their own hour, so their runs send it.
func (s *Spec) FirstSendBatched() bool {
	t := s.Trigger
	return !s.Batchable() && len(s.Steps) > 0 && s.Steps[0].Kind == StepSend &&
		(t.Kind == TriggerSchedule || (t.Kind == TriggerOnce && !t.Local))
}

// EventsHeard lists the event types a running customer run listens for
// (goal and waits), so routing signals only those.
func (s *Spec) EventsHeard() []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if s.Goal != nil {
		add(s.Goal.Event)
	}
	Walk(s.Steps, func(st *Step) {
		if st.Wait != nil {
			add(st.Wait.Event)
		}
	})
	return out
}

// Walk visits every step, nested ones included, in file order.
func Walk(steps []Step, fn func(*Step)) {
	for i := range steps {
		st := &steps[i]
		fn(st)
		switch {
		case st.Wait != nil:
			Walk(st.Wait.OnEvent, fn)
			Walk(st.Wait.OnTimeout, fn)
		case st.Branch != nil:
			Walk(st.Branch.Then, fn)
			Walk(st.Branch.Else, fn)
		}
	}
}

// Templates lists every template the campaign sends, for checking against
// the template set before it is applied.
func (s *Spec) Templates() []string {
	seen := map[string]bool{}
	var out []string
	Walk(s.Steps, func(st *Step) {
		if st.Send == nil {
			return
		}
		names := []string{st.Send.Template}
		for _, v := range st.Send.Variants {
			names = append(names, v.Template)
		}
		for _, n := range names {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	})
	return out
}

// PickVariant returns the variant a customer gets at a send step: the split
// walks the variants in order over the customer's bucket seeded with the
// campaign name, so a customer keeps the same arm across steps and versions
// and the arms are independent of other campaigns' splits. Nil when the step
// has no variants.
func PickVariant(campaign, customerID string, send *Send) *Variant {
	if send == nil || len(send.Variants) == 0 {
		return nil
	}
	b := segment.SeededBucket(campaign+"/variant", customerID)
	edge := 0
	for i := range send.Variants {
		edge += send.Variants[i].Percent
		if b < edge {
			return &send.Variants[i]
		}
	}
	return &send.Variants[len(send.Variants)-1]
}

// WinnerStep is the send step that picks an A/B winner (the first step, as
// Parse requires), nil for a campaign without one.
func (s *Spec) WinnerStep() *Step {
	if len(s.Steps) > 0 && s.Steps[0].Send != nil && s.Steps[0].Send.Winner != nil {
		return &s.Steps[0]
	}
	return nil
}

// InTest reports whether a customer is in the test share of a campaign
// that picks an A/B winner. The bucket is seeded apart from the holdout's
// and the variants', so the test share is a fair sample of both.
func InTest(campaign, customerID string, percent int) bool {
	return segment.SeededBucket(campaign+"/test", customerID) < percent
}

// Variant returns the variant with the given name, nil if there is none.
func (s *Send) Variant(name string) *Variant {
	for i := range s.Variants {
		if s.Variants[i].Name == name {
			return &s.Variants[i]
		}
	}
	return nil
}

// Rules by which ChooseWinner decides.
const (
	RuleBestRate      = "best_rate"       // one variant has the highest rate
	RuleTie           = "tie"             // several share it: the first listed of them wins
	RuleNotEnoughData = "not_enough_data" // a variant has fewer than min_sent messages: the first listed wins
)

// ChooseWinner picks the winner of an A/B test from each variant's tally,
// given in the order the file lists the variants: the highest rate of hits
// per message sent; among equal rates the one listed first; and when any
// variant has fewer than minSent messages sent the numbers cannot tell, so
// the first variant listed wins. Rates are compared as exact fractions.
func ChooseWinner(tallies []store.VariantTally, minSent int) (winner, rule string) {
	if len(tallies) == 0 {
		return "", RuleNotEnoughData
	}
	for _, t := range tallies {
		if t.Sent < max(minSent, 1) {
			return tallies[0].Variant, RuleNotEnoughData
		}
	}
	best, ties := 0, 1
	for i := 1; i < len(tallies); i++ {
		a, b := tallies[i], tallies[best]
		switch l, r := a.Hits*b.Sent, b.Hits*a.Sent; {
		case l > r:
			best, ties = i, 1
		case l == r:
			ties++
		}
	}
	if ties > 1 {
		return tallies[best].Variant, RuleTie
	}
	return tallies[best].Variant, RuleBestRate
}

// HeldOut reports whether a customer is in the campaign's control group. The
// holdout bucket is seeded separately from the variant split, so the control
// group is not made of one arm's customers.
func HeldOut(campaign, customerID string, percent int) bool {
	return percent > 0 && segment.SeededBucket(campaign+"/holdout", customerID) < percent
}

// Matches reports whether event properties carry every value in where.
// Values compare as text, so 5 in the file matches "5" or 5 in the event.
func Matches(where, props map[string]any) bool {
	for k, want := range where {
		got, ok := props[k]
		if !ok || fmt.Sprint(got) != fmt.Sprint(want) {
			return false
		}
	}
	return true
}

// CheckName reports whether name can name a campaign: it appears in
// workflow IDs, idempotency keys, URLs and shells (spec.CheckName).
func CheckName(name string) error { return spec.CheckName("campaign", name) }

// RunKey is the idempotency key of one send: campaign, version, customer,
// step and the customer's occurrence (their nth entry into the campaign).
func RunKey(campaign string, version int, customerID, step string, occurrence int) string {
	return fmt.Sprintf("campaign/%s/%d/%s/%s/%d", campaign, version, customerID, step, occurrence)
}

// Journey is the name campaign messages carry in the ledger.
func Journey(campaign string) string { return "campaign/" + campaign }

// LocalAt reads at's wall-clock date and time in zone: a once trigger with
// local: true sends at 10:00 in every customer's own zone. An unknown zone
// reads as UTC.
func LocalAt(at time.Time, zone string) time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	y, m, d := at.Date()
	return time.Date(y, m, d, at.Hour(), at.Minute(), at.Second(), 0, loc)
}

// Message is the send-path request of a send step for one customer: the
// variant's template and vars over the step's, the ledger step
// "<step>:<variant>" so results split by arm, and the key
// campaign/<name>/<version>/<customer>/<step>/<occurrence>.
func Message(name string, version int, customerID string, st Step, v *Variant, occurrence int) delivery.Request {
	s := st.Send
	r := delivery.Request{
		CustomerID: customerID, Journey: Journey(name), Step: st.ID, Channel: s.Channel,
		Template: s.Template, Topic: s.Topic,
		IdempotencyKey: RunKey(name, version, customerID, st.ID, occurrence),
	}
	data := map[string]any{}
	for k, val := range s.Vars {
		data[k] = val
	}
	if v != nil {
		r.Step = st.ID + ":" + v.Name
		if v.Template != "" {
			r.Template = v.Template
		}
		for k, val := range v.Vars {
			data[k] = val
		}
	}
	if len(data) > 0 {
		r.Data = data
	}
	return r
}
