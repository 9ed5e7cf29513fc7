package delivery

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
// Every problem is reported at once, each with file:line:column.
func LoadTopics(data []byte, filename string) (map[string]Topic, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	p := &policyParser{file: filename}
	topics := DefaultTopics()
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty policy file: expected a topics: mapping", filename)
	}
	p.mapping(doc.Content[0], "", []string{"topics"}, func(_ string, v *yaml.Node, _ string) {
		p.mapping(v, "topics", nil, func(name string, tn *yaml.Node, path string) {
			if !topicName.MatchString(name) {
				p.errorf(tn, path, "topic name %q: use lowercase letters, digits and _", name)
			}
			if name == TopicAll {
				p.errorf(tn, path, "%q is the consent topic that covers every other; it cannot be defined", TopicAll)
			}
			topics[name] = p.topic(tn, path)
		})
	})
	if len(p.errs) > 0 {
		return nil, errors.New(strings.Join(p.errs, "\n"))
	}
	return topics, nil
}

var (
	topicName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	window    = regexp.MustCompile(`^([0-9]{1,4})(m|h|d|w)$`)
)

// policyParser walks the YAML tree, keeping every error with its position.
type policyParser struct {
	file string
	errs []string
}

func (p *policyParser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf("%s:%d:%d: %s: %s", p.file, n.Line, n.Column, path, fmt.Sprintf(format, args...)))
}

// mapping calls fn for each key of n; known, when set, lists the only keys
// allowed.
func (p *policyParser) mapping(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node, path string)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, orRoot(path), "expected a mapping")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errorf(k, sub, "unknown field (expected one of %s)", strings.Join(known, ", "))
			continue
		}
		fn(k.Value, v, sub)
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

func (p *policyParser) topic(n *yaml.Node, path string) Topic {
	var t Topic
	p.mapping(n, path, []string{"consent", "caps", "uncapped", "transactional", "ignore_quiet_hours"}, func(key string, v *yaml.Node, sub string) {
		switch key {
		case "consent":
			t.Consent = map[string]Rule{}
			p.mapping(v, sub, []string{Email, SMS}, func(ch string, r *yaml.Node, sub string) {
				rule := Rule(r.Value)
				if r.Kind != yaml.ScalarNode || (rule != OptIn && rule != OptOut) {
					p.errorf(r, sub, "expected %s or %s", OptIn, OptOut)
				}
				t.Consent[ch] = rule
			})
		case "caps":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, sub, "expected a list of {channel, max, per}")
				return
			}
			for i, cn := range v.Content {
				t.Caps = append(t.Caps, p.cap(cn, fmt.Sprintf("%s[%d]", sub, i)))
			}
		case "uncapped":
			t.Uncapped = p.boolean(v, sub)
		case "transactional":
			t.Transactional = p.boolean(v, sub)
		case "ignore_quiet_hours":
			t.IgnoreQuietHours = p.boolean(v, sub)
		}
	})
	return t
}

func (p *policyParser) cap(n *yaml.Node, path string) Cap {
	var c Cap
	seen := map[string]bool{}
	p.mapping(n, path, []string{"channel", "max", "per"}, func(key string, v *yaml.Node, sub string) {
		seen[key] = true
		switch key {
		case "channel":
			if c.Channel = v.Value; c.Channel != Email && c.Channel != SMS {
				p.errorf(v, sub, "%q is not %s or %s", v.Value, Email, SMS)
			}
		case "max":
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 1 || v.Kind != yaml.ScalarNode {
				p.errorf(v, sub, "%q is not a positive whole number", v.Value)
			}
			c.Max = n
		case "per":
			m := window.FindStringSubmatch(v.Value)
			var k int
			if m != nil {
				k, _ = strconv.Atoi(m[1])
			}
			if k == 0 {
				p.errorf(v, sub, "%q is not a window such as 24h, 7d or 2w", v.Value)
				return
			}
			unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
			c.Window = time.Duration(k) * unit
		}
	})
	for _, f := range []string{"channel", "max", "per"} {
		if n.Kind == yaml.MappingNode && !seen[f] {
			p.errorf(n, path, "%s is required", f)
		}
	}
	return c
}

func (p *policyParser) boolean(n *yaml.Node, path string) bool {
	b, err := strconv.ParseBool(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, path, "%q is not true or false", n.Value)
	}
	return b
}
