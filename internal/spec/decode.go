package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Bounds on what Decode reads. A hostile or mistaken file cannot make a
// command or the API use more than a few tens of megabytes: YAML aliases
// repeat what their anchor holds, so 600 bytes of nested aliases can stand
// for millions of nodes, and a parser holds about 200 bytes per node.
const (
	// MaxBytes is the largest file read (1 MiB).
	MaxBytes = 1 << 20
	// MaxNodes bounds the keys, values and list items a file may hold. It is
	// counted before parsing from the characters that separate them
	// (",[{:", "- " and line breaks), so text full of commas counts more
	// than it holds; no real campaign, segment, schedule or policy file
	// comes near.
	MaxNodes = 100_000
	// MaxAliasNodes bounds what aliases may add when expanded: reusing a
	// condition or a list a few times is fine, multiplying it is refused.
	MaxAliasNodes = 10_000
)

// Decode reads one YAML (or JSON) document within the bounds above and
// returns its root node, or nil when the document is empty (only blanks or
// comments). Every problem is an Errors with one Error at the line and
// column where it is: a syntax error, bytes that are not UTF-8 text, a
// second document, or a bound exceeded. Aliases are left in the tree; a
// reader follows them with Resolve, knowing their expansion is bounded.
func Decode(data []byte, file string) (*yaml.Node, error) {
	fail := func(line, col int, format string, args ...any) (*yaml.Node, error) {
		e := atLine(line, col, format, args...)
		e.File = file
		return nil, Errors{e}
	}
	if len(data) > MaxBytes {
		return fail(0, 0, "the file is %s; at most %s is read", size(len(data)), size(MaxBytes))
	}
	if e := scan(data); e != nil {
		e.File = file
		return nil, Errors{e}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, nil
	case err != nil:
		return nil, Errors{syntaxError(file, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, err)}
	default:
		return fail(next.Line, next.Column, "a second document (after ---) would be ignored; a file holds one")
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if e := checkAliases(root); e != nil {
		e.File = file
		return nil, Errors{e}
	}
	return root, nil
}

// atLine is an Error at a line and column found before parsing, with its
// message's key.
func atLine(line, col int, format string, args ...any) *Error {
	e := At("", nil, "", format, args...)
	e.Line, e.Column = line, col
	return e
}

// scan checks, before parsing, that data is UTF-8 text without control
// characters and that it holds at most MaxNodes nodes, counted from the
// characters that can end one. It locates the first offence.
func scan(data []byte) *Error {
	line, col, seps := 1, 1, 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return atLine(line, col, "the file is not UTF-8 text (save it as UTF-8)")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return atLine(line, col, "control character %U is not allowed in the file", r)
		}
		if separates(r, data[i+n:]) {
			if seps++; seps > MaxNodes {
				return atLine(line, col, "the file holds more than %d keys, values and list items; split it", MaxNodes)
			}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	return nil
}

// separates reports whether r, followed by rest, can end one node and
// start another: a flow indicator, a key's colon, a line break, or a "- "
// that starts a list item (a dash inside "C-1" or "2026-04-01" does not).
func separates(r rune, rest []byte) bool {
	switch r {
	case ',', '[', '{', ':', '\n':
		return true
	case '-':
		return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
	}
	return false
}

// checkAliases refuses aliases that would expand the document by more than
// MaxAliasNodes nodes, or that refer to the node they are in, at the alias
// that crosses the line. Sizes are counted once per anchor, so the check
// is linear in the file even for a bomb.
func checkAliases(root *yaml.Node) *Error {
	c := aliasCounter{sizes: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	var bad *Error
	extra := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if bad != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			size, err := c.size(n.Alias)
			switch {
			case err != nil:
				bad = &Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("alias *%s %v", n.Value, err)}
			case extra+size-1 > MaxAliasNodes:
				bad = atLine(n.Line, n.Column,
					"alias *%s makes the aliases in the file stand for more than %d values; write the values out, or reuse smaller anchors",
					n.Value, MaxAliasNodes)
			}
			extra += size - 1
			return
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	walk(root)
	return bad
}

// aliasCounter measures nodes as a reader that follows aliases sees them.
type aliasCounter struct {
	sizes map[*yaml.Node]int
	open  map[*yaml.Node]bool
}

// size is the number of nodes n stands for, saturating just above the
// budget so a bomb's sizes never overflow.
func (c *aliasCounter) size(n *yaml.Node) (int, error) {
	if n == nil {
		return 1, nil
	}
	if s, ok := c.sizes[n]; ok {
		return s, nil
	}
	if c.open[n] {
		return 0, errors.New("refers to a node it is inside, which never ends")
	}
	c.open[n] = true
	defer delete(c.open, n)
	total := 1
	for _, ch := range n.Content {
		if ch.Kind == yaml.AliasNode {
			ch = ch.Alias
		}
		s, err := c.size(ch)
		if err != nil {
			return 0, err
		}
		total = min(total+s, MaxAliasNodes+2)
	}
	c.sizes[n] = total
	return total, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns "yaml: line 3: ..." into an Error at that line.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Column: 1, Msg: "syntax error: " + m[2]}
	}
	return &Error{File: file, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
