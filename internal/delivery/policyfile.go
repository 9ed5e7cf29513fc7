package delivery

import (
	"gopkg.in/yaml.v3"

	"github.com/tidingsdev/tidings/internal/spec"
)

// LoadTopics reads a policy file (TIDINGS_POLICY_FILE) and returns the
// built-in topics with the file's topics laid over them: a topic named in
// the file replaces the built-in one of that name, new names add topics.
//
//	topics:
//	  marketing:
//	    consent: {email: opt-out, sms: opt-in}
//	    caps:
//	      - {channel: email, max: 3, per: 7d}
//	  newsletter:
//	    consent: {email: opt-in}
//	    ignore_quiet_hours: false
//
// Every problem is reported at once, each with file:line:column
// (spec.Errors).
func LoadTopics(data []byte, filename string) (map[string]Topic, error) {
	root, err := spec.Decode(data, filename)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, spec.Errors{spec.At(filename, nil, "", "empty policy file: expected a topics: mapping")}
	}
	p := &policyParser{spec.Reader{File: filename}}
	topics := DefaultTopics()
	// journeys: holds the journeys' parameters (workflows.ParseSettings),
	// acquisition: the signup sources' spend (reports.ParseSpendPerMonth).
	p.Fields(root, "", []string{"topics", "journeys", "acquisition"}, func(key, v *yaml.Node, _ string) {
		if key.Value != "topics" {
			return
		}
		p.Fields(v, "topics", nil, func(k, tn *yaml.Node, path string) {
			name := k.Value
			if err := spec.CheckTopic(name); err != nil {
				p.Errorf(k, path, "%v", err)
			}
			if name == TopicAll {
				p.Errorf(k, path, "%q is the consent topic that covers every other; it cannot be defined", TopicAll)
			}
			topics[name] = p.topic(tn, path)
		})
	})
	if err := p.Err(); err != nil {
		return nil, err
	}
	return topics, nil
}

// policyParser walks the YAML tree, keeping every error with its position.
type policyParser struct {
	spec.Reader
}

func (p *policyParser) topic(n *yaml.Node, path string) Topic {
	var t Topic
	p.Fields(n, path, []string{"consent", "caps", "uncapped", "transactional", "ignore_quiet_hours", "tracking"}, func(k, v *yaml.Node, sub string) {
		switch k.Value {
		case "consent":
			t.Consent = map[string]Rule{}
			p.Fields(v, sub, []string{Email, SMS}, func(ch, r *yaml.Node, sub string) {
				rule := Rule(r.Value)
				if r.Kind != yaml.ScalarNode || (rule != OptIn && rule != OptOut) {
					p.Errorf(r, sub, "expected %s or %s, got %s", OptIn, OptOut, spec.Describe(r))
				}
				t.Consent[ch.Value] = rule
			})
		case "caps":
			if v.Kind != yaml.SequenceNode {
				p.Errorf(v, sub, "expected a list of {channel, max, per}, got %s", spec.Describe(v))
				return
			}
			for i, cn := range v.Content {
				t.Caps = append(t.Caps, p.cap(spec.Resolve(cn), spec.Index(sub, i)))
			}
		case "uncapped":
			t.Uncapped, _ = p.Bool(v, sub)
		case "transactional":
			t.Transactional, _ = p.Bool(v, sub)
		case "ignore_quiet_hours":
			t.IgnoreQuietHours, _ = p.Bool(v, sub)
		case "tracking":
			t.Tracking = p.tracking(v, sub)
		}
	})
	return t
}

// tracking reads `tracking: false` (nothing tracked), `tracking: true`
// (clicks and opens) or `tracking: {clicks: true, opens: false, text: true}`.
func (p *policyParser) tracking(n *yaml.Node, path string) *Tracking {
	if spec.IsScalar(n) {
		on, _ := p.Bool(n, path)
		return &Tracking{Clicks: on, Opens: on}
	}
	tr := &Tracking{}
	p.Fields(n, path, []string{"clicks", "opens", "text"}, func(k, v *yaml.Node, sub string) {
		b, _ := p.Bool(v, sub)
		switch k.Value {
		case "clicks":
			tr.Clicks = b
		case "opens":
			tr.Opens = b
		case "text":
			tr.Text = b
		}
	})
	return tr
}

// MaxCap is the most messages a cap may allow per window; more is no cap.
const MaxCap = 1000

func (p *policyParser) cap(n *yaml.Node, path string) Cap {
	var c Cap
	seen := map[string]bool{}
	ok := p.Fields(n, path, []string{"channel", "max", "per"}, func(k, v *yaml.Node, sub string) {
		seen[k.Value] = true
		switch k.Value {
		case "channel":
			if ch, ok := p.Text(v, sub); ok {
				if ch != Email && ch != SMS {
					p.Errorf(v, sub, "expected %s or %s, got %s", Email, SMS, spec.Describe(v))
				}
				c.Channel = ch
			}
		case "max":
			c.Max, _ = p.Int(v, sub, 1, MaxCap)
		case "per":
			if d, ok := p.Duration(v, sub); ok {
				c.Window = d.Fixed()
			}
		}
	})
	for _, f := range []string{"channel", "max", "per"} {
		if ok && !seen[f] {
			p.Errorf(n, spec.Join(path, f), "is required")
		}
	}
	return c
}
