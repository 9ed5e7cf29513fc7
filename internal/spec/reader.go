package spec

import (
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Reader walks a decoded file and collects every problem with its
// position. Parsers embed it and read each field with its helpers, which
// report what was expected and what was found.
type Reader struct {
	// File labels every error ("" for input that is not a file).
	File string
	Errs Errors
}

// Errorf records a problem at node n, for the value at path.
func (r *Reader) Errorf(n *yaml.Node, path, format string, args ...any) {
	r.Errs = append(r.Errs, At(r.File, n, path, format, args...))
}

// Err returns the problems found, in line order, or nil.
func (r *Reader) Err() error {
	r.Errs.Sort()
	return r.Errs.Err()
}

// Fields walks a mapping, reporting keys that appear twice and, when known
// is given, keys it does not list; fn gets each other key, its value (aliases
// followed) and its path. It reports false, with an error, when n is not a
// mapping.
func (r *Reader) Fields(n *yaml.Node, path string, known []string, fn func(k, v *yaml.Node, path string)) bool {
	n = Resolve(n)
	if n.Kind != yaml.MappingNode {
		if known != nil {
			r.Errorf(n, path, "expected a mapping with %s, got %s", strings.Join(known, ", "), Describe(n))
		} else {
			r.Errorf(n, path, "expected a mapping, got %s", Describe(n))
		}
		return false
	}
	seen := map[string]bool{}
	for k, v := range Entries(n) {
		v = Resolve(v)
		sub := Join(path, k.Value)
		switch {
		case seen[k.Value]:
			r.Errorf(k, sub, "appears twice")
		case known != nil && !slices.Contains(known, k.Value):
			r.Errorf(k, sub, "unknown key; expected one of %s", strings.Join(known, ", "))
		default:
			seen[k.Value] = true
			fn(k, v, sub)
		}
	}
	return true
}

// Text reads a scalar as text (a number or a boolean reads as written).
func (r *Reader) Text(n *yaml.Node, path string) (string, bool) {
	n = Resolve(n)
	if !IsScalar(n) {
		r.Errorf(n, path, "expected text, got %s", Describe(n))
		return "", false
	}
	return n.Value, true
}

// Bool reads true or false.
func (r *Reader) Bool(n *yaml.Node, path string) (bool, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		r.Errorf(n, path, "expected true or false, got %s", Describe(n))
		return false, false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b, true
}

// Int reads a whole number from lo to hi.
func (r *Reader) Int(n *yaml.Node, path string, lo, hi int) (int, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		r.Errorf(n, path, "expected a whole number %d-%d, got %s", lo, hi, Describe(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		r.Errorf(n, path, "%s: expected a whole number %d-%d", n.Value, lo, hi)
		return 0, false
	}
	return v, true
}

// Duration reads a duration in the one grammar (ParseDuration).
func (r *Reader) Duration(n *yaml.Node, path string) (Duration, bool) {
	s, ok := r.Text(n, path)
	if !ok {
		return Duration{}, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		r.Errorf(n, path, "%v", err)
		return Duration{}, false
	}
	return d, true
}

// Entries yields the keys and values of a mapping node, in file order; the
// values as written (Resolve follows an alias).
func Entries(n *yaml.Node) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(k, v *yaml.Node) bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i], n.Content[i+1]) {
				return
			}
		}
	}
}

// Resolve follows aliases to the node they stand for. Decode has bounded
// how much following them can add.
func Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// IsScalar reports whether n is a value other than null.
func IsScalar(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null"
}

// ScalarValue reads text, a whole number (int64), a number (float64) or a
// boolean, as YAML typed it: "10" and 10 are different values.
func ScalarValue(n *yaml.Node) (any, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode {
		return nil, false
	}
	switch n.ShortTag() {
	case "!!str":
		return n.Value, true
	case "!!bool":
		return n.Value == "true", true
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i, true
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}

// Describe names what a node is, for "expected X, got Y".
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return fmt.Sprintf("text %q", n.Value)
		case "!!bool":
			return "boolean " + n.Value
		default:
			return "number " + n.Value
		}
	}
	return "an unsupported value"
}

// Join extends a path by a key: Join("steps[0]", "send") is
// "steps[0].send".
func Join(path, key string) string {
	if path == "" {
		return key
	}
	if key == "" {
		return path
	}
	return path + "." + key
}

// Index extends a path by a list position: Index("steps", 2) is "steps[2]".
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
