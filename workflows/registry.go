package workflows

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Journey is how a journey declares itself, once, in its own file: what it
// runs, what starts and steers it, what an operator may tune, whether erasure
// must cancel it, whether a schedule runs it, and which templates it sends.
// Routing, erasure, `tidings schedules`, worker registration, replay
// coverage, the template test and the CLI all read these descriptors
// (Journeys, in register.go); none keeps a list of its own.
type Journey struct {
	// Name is the journey's name: its runs' workflow IDs
	// (journey/<name>/<customer>), its journey_runs rows, its ledger rows and
	// its section of the policy file's journeys: mapping.
	Name string
	// Summary is one line for `tidings journeys list` and the worker's help.
	Summary string
	// Run is the per-customer workflow, one run per customer at a time under
	// JourneyID(Name, customer); erasure cancels it. Nil for a journey that
	// is only a sweep.
	Run *Workflow
	// Starts lists the event types that start a run (SignalWithStart: a run
	// already going hears the event instead), given the effective parameter
	// values; nil when nothing but a sweep or a campaign starts it.
	Starts func(Values) []string
	// Steers lists the event types signalled to a running run only.
	Steers func(Values) []string
	// Input builds a run's start input from the customer, the event that
	// starts it and the effective parameter values.
	Input func(customerID string, trigger Event, v Values) any
	// Once, when set, is the once-per-window rule the run claims in its
	// first step (0: once ever). The router does not start a run the rule
	// would refuse (a finished run within the window, none open), so a
	// repeat event costs no call to Temporal.
	Once func(Values) time.Duration
	// StartAfter, when set, is how long after its trigger a run has nothing
	// to do (the cross-sell waits days before its email). The router then
	// records the start in PostgreSQL with the event, instead of creating the
	// run in Temporal while the event is ingested, and starts it when due;
	// a run already going still hears the event at once. Such a run must
	// reckon its waits from the trigger's time, not its own start, and look
	// among the stored events for a goal that came before it started.
	StartAfter func(Values) time.Duration
	// LateBy is how far past its due time (the trigger's time, plus
	// StartAfter for a deferred start) a start may still go out. A trigger
	// older than that when it is routed (an imported order history or
	// customer list, a backlog replayed) starts no run, and a deferred start
	// held back longer than that (Temporal down for days) is dropped: "a few
	// days after your order" must not arrive months after it, nor a welcome
	// months after the signup. A run already going still hears the event.
	// Zero means no limit.
	LateBy func(Values) time.Duration
	// Sweep is the workflow a Temporal Schedule runs, if any.
	Sweep *Sweep
	// Others are further workflows the journey runs (a campaign's runner and
	// runs), registered with the rest.
	Others []Workflow
	// Params are what an operator may tune in the policy file, with
	// defaults; a run gets the values in force when it starts.
	Params []Param
	// Templates are the built-in templates the journey sends.
	Templates []string
}

// Workflow is one registered workflow: its stable name (what histories,
// schedules and starts refer to) and its function.
type Workflow struct {
	Name string
	Func any
}

// Sweep is a journey's scheduled workflow: `tidings schedules` files name it
// by Kind (run: birthday_sweep).
type Sweep struct {
	Workflow
	Kind string
	// Fields are the schedule fields it takes beyond the timing (template,
	// topic, channel, audience, segment); any other is an error.
	Fields []string
	// Input is the workflow input a schedule starts it with.
	Input func(SweepFields) any
	// Check reports what is wrong with the fields, by field; nil when any
	// value of the allowed fields will do.
	Check func(SweepFields) []FieldError
	// Default, when set, is a schedule every installation gets (created at
	// start when missing, never changed afterwards).
	Default *DefaultSchedule
	// Settings is the part of the input the journey's parameters set. The
	// sweep reads it from its worker when it fires (SweepSettings), so a
	// changed policy file takes effect at the next firing without
	// reapplying schedules.
	Settings func(Values) any
}

// SweepFields are what a schedules file may give a sweep besides its timing.
type SweepFields struct {
	Template string
	Topic    string
	Channel  string
	Audience string
	Segment  string
}

// Get returns a field by its name in a schedules file.
func (f SweepFields) Get(name string) string {
	switch name {
	case "template":
		return f.Template
	case "topic":
		return f.Topic
	case "channel":
		return f.Channel
	case "audience":
		return f.Audience
	case "segment":
		return f.Segment
	}
	return ""
}

// SweepFieldNames are the fields SweepFields holds, as a schedules file
// writes them.
var SweepFieldNames = []string{"template", "topic", "channel", "audience", "segment"}

// FieldError is a problem with one field.
type FieldError struct {
	Field string
	Msg   string
}

// DefaultSchedule is a schedule every installation starts with.
type DefaultSchedule struct {
	ID, Cron, TimeZone, Note string
}

// On is a fixed list of event types, for Starts and Steers.
func On(types ...string) func(Values) []string {
	return func(Values) []string { return types }
}

// events returns what f lists (nothing when f is nil).
func events(f func(Values) []string, v Values) []string {
	if f == nil {
		return nil
	}
	return f(v)
}

// StartsOn lists the event types that start the journey under settings s.
func (j Journey) StartsOn(s Settings) []string { return events(j.Starts, j.Values(s)) }

// SteersOn lists the event types signalled to a running run under settings s.
func (j Journey) SteersOn(s Settings) []string { return events(j.Steers, j.Values(s)) }

// Workflows are every workflow the journey registers.
func (j Journey) Workflows() []Workflow {
	var out []Workflow
	if j.Run != nil {
		out = append(out, *j.Run)
	}
	if j.Sweep != nil {
		out = append(out, j.Sweep.Workflow)
	}
	return append(out, j.Others...)
}

// Param looks up a parameter by name.
func (j Journey) Param(name string) (Param, bool) {
	i := slices.IndexFunc(j.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return j.Params[i], true
}

// Find returns the journey named name.
func Find(name string) (Journey, bool) {
	for _, j := range Journeys() {
		if j.Name == name {
			return j, true
		}
	}
	return Journey{}, false
}

// SweepKind returns the journey whose sweep a schedules file names by kind.
func SweepKind(kind string) (Journey, bool) {
	for _, j := range Journeys() {
		if j.Sweep != nil && j.Sweep.Kind == kind {
			return j, true
		}
	}
	return Journey{}, false
}

// SweepKinds lists every sweep's kind, in registry order.
func SweepKinds() []string {
	var out []string
	for _, j := range Journeys() {
		if j.Sweep != nil {
			out = append(out, j.Sweep.Kind)
		}
	}
	return out
}

// PerCustomer lists the journeys that run one workflow per customer: the
// runs erasure cancels.
func PerCustomer() []Journey {
	var out []Journey
	for _, j := range Journeys() {
		if j.Run != nil {
			out = append(out, j)
		}
	}
	return out
}

// Templates lists every template a journey sends, sorted, each once.
func Templates() []string {
	var out []string
	for _, j := range Journeys() {
		out = append(out, j.Templates...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Registered is every registered workflow by name.
func Registered() map[string]any {
	out := map[string]any{}
	for _, j := range Journeys() {
		for _, w := range j.Workflows() {
			out[w.Name] = w.Func
		}
	}
	return out
}

// Register adds every journey's workflows to a worker or a replayer under
// their stable names, so renaming a Go function never breaks running
// journeys or schedules.
func Register(r worker.WorkflowRegistry) {
	for name, fn := range Registered() {
		r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
}

// checkRegistry reports what is inconsistent in a set of descriptors: names
// and workflows given twice, sweeps without an input, parameters without a
// default. A test runs it on Journeys.
func checkRegistry(js []Journey) error {
	var errs []string
	names, workflows, kinds := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, j := range js {
		if j.Name == "" || names[j.Name] {
			errs = append(errs, fmt.Sprintf("journey %q: empty or declared twice", j.Name))
		}
		names[j.Name] = true
		if j.Summary == "" {
			errs = append(errs, fmt.Sprintf("journey %s: no summary", j.Name))
		}
		ws := j.Workflows()
		if len(ws) == 0 {
			errs = append(errs, fmt.Sprintf("journey %s: runs no workflow", j.Name))
		}
		for _, w := range ws {
			if w.Name == "" || w.Func == nil || workflows[w.Name] {
				errs = append(errs, fmt.Sprintf("journey %s: workflow %q empty or registered twice", j.Name, w.Name))
			}
			workflows[w.Name] = true
		}
		if (j.Starts != nil) != (j.Input != nil) || (j.Starts != nil && j.Run == nil) {
			errs = append(errs, fmt.Sprintf("journey %s: events start it only with a per-customer workflow and an input", j.Name))
		}
		if j.Steers != nil && j.Run == nil {
			errs = append(errs, fmt.Sprintf("journey %s: events steer only a per-customer workflow", j.Name))
		}
		if s := j.Sweep; s != nil {
			if s.Kind == "" || kinds[s.Kind] || s.Input == nil {
				errs = append(errs, fmt.Sprintf("journey %s: sweep kind %q empty, taken or without an input", j.Name, s.Kind))
			}
			kinds[s.Kind] = true
			for _, f := range s.Fields {
				if !slices.Contains(SweepFieldNames, f) {
					errs = append(errs, fmt.Sprintf("journey %s: sweep field %q is not one of %s", j.Name, f, strings.Join(SweepFieldNames, ", ")))
				}
			}
		}
		seen := map[string]bool{}
		for _, p := range j.Params {
			if err := p.check(); err != nil || seen[p.Name] {
				errs = append(errs, fmt.Sprintf("journey %s: parameter %q: declared twice or %v", j.Name, p.Name, err))
			}
			seen[p.Name] = true
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("registry: %s", strings.Join(errs, "; "))
	}
	return nil
}
