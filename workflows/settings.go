package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gopkg.in/yaml.v3"

	filespec "github.com/tidingsdev/tidings/internal/spec"
)

// ParseSettings reads the journeys: mapping of a policy file
// (TIDINGS_POLICY_FILE), the operator's values for the journeys'
// parameters; the file's other sections are not its business:
//
//	journeys:
//	  onboarding: {tips_day: 3, nudge_day: 7, send_time: "09:30"}
//	  winback:
//	    lapsed_after: 90d
//	    offer_percent: 15
//
// Every problem is reported at once, each as file:line:column
// (filespec.Errors).
func ParseSettings(data []byte, filename string) (Settings, error) {
	root, err := filespec.Decode(data, filename)
	if err != nil || root == nil || root.Kind != yaml.MappingNode {
		return Settings{}, err
	}
	s := Settings{}
	p := settingsReader{filespec.Reader{File: filename}}
	p.Fields(root, "", nil, func(k, v *yaml.Node, path string) {
		if k.Value != "journeys" {
			return
		}
		p.Fields(v, path, nil, func(k, jn *yaml.Node, path string) {
			name := k.Value
			j, ok := Find(name)
			if !ok {
				p.Errorf(k, path, "no such journey; expected one of %s", strings.Join(tunable(), ", "))
				return
			}
			p.Fields(jn, path, paramNames(j), func(k, vn *yaml.Node, path string) {
				param, _ := j.Param(k.Value)
				if v, ok := p.value(vn, path, param); ok {
					s.Set(name, param.Name, v)
				}
			})
		})
	})
	if err := p.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// settingsReader reads parameter values with their positions.
type settingsReader struct{ filespec.Reader }

// value reads a value node: a scalar as Param.Parse reads it, an event
// map's entries one by one, so a mistake is reported where it is.
func (p *settingsReader) value(n *yaml.Node, path string, param Param) (any, bool) {
	if param.Kind != KindEventMap {
		text, ok := p.Text(n, path)
		return p.parse(n, path, param, text, ok)
	}
	errs := len(p.Errs)
	var pairs []string
	p.Fields(n, path, nil, func(k, v *yaml.Node, sub string) {
		if err := filespec.CheckEventType(k.Value); err != nil {
			p.Errorf(k, sub, "%v", err)
		}
		choice, ok := p.Text(v, sub)
		if ok && !slices.Contains(param.choices, choice) {
			p.Errorf(v, sub, "%q: expected one of %s", choice, strings.Join(param.choices, ", "))
		}
		pairs = append(pairs, k.Value+"="+choice)
	})
	return p.parse(n, path, param, strings.Join(pairs, ","), len(p.Errs) == errs)
}

// parse reads text as a value of param when ok, reporting an error at n.
func (p *settingsReader) parse(n *yaml.Node, path string, param Param, text string, ok bool) (any, bool) {
	if !ok {
		return nil, false
	}
	v, err := param.Parse(text)
	if err != nil {
		p.Errorf(n, path, "%v", err)
		return nil, false
	}
	return v, true
}

// tunable names the journeys with parameters.
func tunable() []string {
	var out []string
	for _, j := range Journeys() {
		if len(j.Params) > 0 {
			out = append(out, j.Name)
		}
	}
	return out
}

func paramNames(j Journey) []string {
	out := make([]string, len(j.Params))
	for i, p := range j.Params {
		out[i] = p.Name
	}
	return out
}

// SettingsActivities answer a sweep's question "what are my parameters?"
// from the worker's settings when the sweep fires. Register them with
// RegisterActivities.
type SettingsActivities struct {
	settings Settings
}

// RegisterActivities adds the settings activity, answering from s, to a
// worker.
func RegisterActivities(r worker.ActivityRegistry, s Settings) {
	r.RegisterActivity(&SettingsActivities{settings: s})
}

// SweepSettingsInput names the journey whose sweep asks.
type SweepSettingsInput struct {
	Journey string `json:"journey"`
}

// SweepSettings returns the part of the journey's sweep input its
// parameters set, as the worker's settings have them now.
func (a *SettingsActivities) SweepSettings(_ context.Context, in SweepSettingsInput) (any, error) {
	j, ok := Find(in.Journey)
	if !ok || j.Sweep == nil || j.Sweep.Settings == nil {
		return nil, fmt.Errorf("journey %q has no sweep settings", in.Journey)
	}
	return j.Sweep.Settings(j.Values(a.settings)), nil
}

// settingsActivities names the settings activity by method; never
// dereferenced.
var settingsActivities *SettingsActivities

// sweepSettingsVersion guards reading the parameters when a sweep fires:
// runs recorded before it replay with their inputs as they were.
const sweepSettingsVersion = "sweep-reads-settings"

// sweepSettings fills out with the journey's configured sweep input (the
// fields the input left zero are then taken from it).
func sweepSettings(ctx workflow.Context, journey string, out any) error {
	if workflow.GetVersion(ctx, sweepSettingsVersion, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	return workflow.ExecuteLocalActivity(withLocalStore(ctx), settingsActivities.SweepSettings,
		SweepSettingsInput{Journey: journey}).Get(ctx, out)
}
