package segment_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/testdb"
)

// Every shipped example parses, is named after its file, and runs.
func TestExamplesParseAndRun(t *testing.T) {
	files, err := filepath.Glob("../../examples/segments/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	s, _ := testdb.New(t)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		def, err := segment.Parse(data, f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		base := filepath.Base(f)
		if want := base[:len(base)-len(filepath.Ext(base))]; def.Name != want {
			t.Errorf("%s: name %q, want %q", f, def.Name, want)
		}
		if _, err := segment.Count(context.Background(), s.Pool(), def); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
