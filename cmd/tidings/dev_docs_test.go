package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tidingsdev/tidings/internal/config"
)

// TestREADMEConfigTableIsCurrent keeps the README's configuration reference
// (between the config-table markers) equal to the settings the binary reads.
func TestREADMEConfigTableIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- config-table -->\n", "<!-- /config-table -->"
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q block", strings.TrimSpace(begin), end)
	}
	var want strings.Builder
	want.WriteString("| variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range config.Reference() {
		def := "`" + s[2] + "`"
		if s[2] == "" {
			def = "(empty)"
		}
		want.WriteString("| `" + s[0] + "` | `" + s[1] + "` | " + def + " | " + strings.ReplaceAll(s[3], "|", "\\|") + " |\n")
	}
	if got := readme[i+len(begin) : j]; got != want.String() {
		t.Errorf("README.md's configuration table is out of date; replace it with:\n\n%s", want.String())
	}
}

// TestDocsCommandsWorkAsWritten checks every `tidings` command in the shell
// blocks of README.md, ARCHITECTURE.md, CONTRIBUTING.md and docs/*.md
// against the command tree: the command exists and runs something, its
// flags are known, it gets the arguments it takes, and a file of the
// repository it names exists. A doc writes the
// bare `tidings` only if the README puts bin/ on the PATH right after
// building it, so a reader of a fresh clone can paste any line.
func TestDocsCommandsWorkAsWritten(t *testing.T) {
	// The check itself refuses what a reader would see fail.
	for _, bad := range [][]string{{"campaign", "list"}, {"report", "nps", "--colour"}, {"segments"},
		{"segments", "count", "examples/segments/nope.yaml"}, {"customers", "get"}} {
		if checkDocCommand(bad) == nil {
			t.Fatalf("tidings %s passes the check", strings.Join(bad, " "))
		}
	}
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md", "../../ARCHITECTURE.md", "../../CONTRIBUTING.md"}, files...)
	bare, total := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../../")
		for _, c := range docCommands(string(b)) {
			total++
			if c.args[0] == "tidings" {
				bare++
			}
			if err := checkDocCommand(c.args[1:]); err != nil {
				t.Errorf("%s:%d: %s\n\t%v", name, c.line, c.text, err)
			}
		}
	}
	if total < 20 {
		t.Fatalf("found %d tidings commands in the docs; the block parser misses them", total)
	}
	if bare == 0 {
		return
	}
	readme, _ := os.ReadFile("../../README.md")
	build := strings.Index(string(readme), "make build")
	path := strings.Index(string(readme), `export PATH="$PWD/bin:$PATH"`)
	if build < 0 || path < build || strings.Count(string(readme)[build:path], "\n") > 2 {
		t.Errorf("the docs write %d commands as `tidings ...`, but README.md does not put bin/ on the PATH "+
			"(export PATH=\"$PWD/bin:$PATH\") right after `make build`", bare)
	}
}

type docCommand struct {
	line int
	text string
	args []string // args[0] is how the binary is named: tidings, ./bin/tidings
}

// docCommands finds the tidings command lines of a Markdown text's sh,
// text and untyped blocks. A backslash continues a line; a command may follow ;, &&, |, do
// or $( in a shell line; [--flag value] marks an optional part, checked as
// if given.
func docCommands(md string) []docCommand {
	var out []docCommand
	fence := "" // the opening line of the block we are in
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case fence == "" && strings.HasPrefix(strings.TrimSpace(line), "```"):
			fence = strings.TrimSpace(line)
			continue
		case fence != "" && strings.TrimSpace(line) == "```":
			fence = ""
			continue
		case !slices.Contains([]string{"```sh", "```text", "```"}, fence):
			continue // not a shell block (yaml, json, mermaid ...), or prose
		}
		start := i + 1
		for strings.HasSuffix(line, `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, `\`) + " " + lines[i]
		}
		words := shellWords(line)
		for j := 0; j < len(words); j++ {
			w := words[j]
			if w != "tidings" && w != "./bin/tidings" && w != "bin/tidings" {
				continue
			}
			if j > 0 && !slices.Contains([]string{";", "&&", "||", "|", "do", "then", "$("}, words[j-1]) {
				continue // an argument, as in `grep tidings`
			}
			k := j + 1
			for k < len(words) && !slices.Contains([]string{";", "&&", "||", "|", ")", "#"}, words[k]) {
				k++
			}
			var args []string
			for _, a := range words[j:k] {
				args = append(args, strings.Trim(a, "[]"))
			}
			out = append(out, docCommand{line: start, text: strings.TrimSpace(line), args: args})
			j = k
		}
	}
	return out
}

// shellWords splits a shell line into words, quotes removed, with the
// operators ; && || | ) $( and a comment's # as words of their own.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				end = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return append(words, "#")
		case c == ';' || c == '|' || c == '&' || c == ')':
			flush()
			op := string(c)
			if i+1 < len(line) && (c == '|' || c == '&') && line[i+1] == c {
				op += string(c)
				i++
			}
			words = append(words, op)
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			flush()
			words = append(words, "$(")
			i++
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words
}

// checkDocCommand resolves args in the command tree without running it.
func checkDocCommand(args []string) error {
	root := newRootCmd(&app{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard, stdin: strings.NewReader("")})
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if c == root && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("unknown command %q", args[0])
	}
	if !c.Runnable() {
		return fmt.Errorf("%q only groups commands: %s", c.CommandPath(), strings.Join(subcommandNames(c), ", "))
	}
	if err := c.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %w", c.CommandPath(), err)
	}
	positional := c.Flags().Args()
	if err := c.ValidateArgs(positional); err != nil {
		return fmt.Errorf("%s: %w", c.CommandPath(), err)
	}
	for _, a := range append(positional, flagValues(c)...) {
		if strings.HasPrefix(a, "examples/") || strings.HasPrefix(a, "docs/") || strings.HasPrefix(a, "templates/") {
			if _, err := os.Stat(filepath.Join("../..", a)); err != nil {
				return fmt.Errorf("names %s, which the repository does not hold", a)
			}
		}
	}
	return nil
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		names = append(names, s.Name())
	}
	return names
}

// flagValues lists the values of the flags set on c, so a file given as
// --file examples/... is checked too.
func flagValues(c *cobra.Command) []string {
	var vs []string
	c.Flags().Visit(func(f *pflag.Flag) { vs = append(vs, f.Value.String()) })
	return vs
}
