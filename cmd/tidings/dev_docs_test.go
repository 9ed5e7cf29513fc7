package main

import (
	"os"
	"strings"
	"testing"

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
