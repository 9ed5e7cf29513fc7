// Package spectest checks that a parser built on spec.Decode keeps its
// bounds: a test of any file format hands it the parser and a hostile file.
package spectest

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// Allocated runs fn and returns the bytes it allocated: a bound on the
// memory it used that does not depend on when the collector ran.
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Refuses reads the file at path, parses it and fails t unless the parse
// returns an error starting with want having allocated less than maxMB.
func Refuses(t *testing.T, path string, parse func([]byte) error, want string, maxMB uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	used := Allocated(func() { err = parse(data) })
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("parse %s = %v, want an error starting %q", path, err, want)
	}
	if used > maxMB<<20 {
		t.Errorf("parsing %d bytes allocated %d MB, want under %d MB", len(data), used>>20, maxMB)
	}
}
