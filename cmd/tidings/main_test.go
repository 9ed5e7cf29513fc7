package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runMainEnv makes the test binary run as `tidings` itself: tests that drive
// the command line through a shell or make (the docs' commands, `make dev`)
// put a bin/tidings that runs this binary with it set.
const runMainEnv = "TIDINGS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// installBinary writes dir/bin/tidings, as `make build` leaves it, running
// this test binary as the command with extra appended to every command
// line (a test passes its own ports and data directory that way).
func installBinary(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(extra))
	for i, e := range extra {
		quoted[i] = "'" + strings.ReplaceAll(e, "'", `'\''`) + "'"
	}
	bin := filepath.Join(dir, "bin", "tidings")
	script := "#!/bin/sh\n" + runMainEnv + "=1 exec '" + self + "' \"$@\" " + strings.Join(quoted, " ") + "\n"
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
