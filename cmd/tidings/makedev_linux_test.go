package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tidingsdev/tidings/internal/testdb"
)

// openPTY opens a pseudo-terminal: the test writes keystrokes to master, the
// command runs on slave as its controlling terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// TestMakeDevStopsWithExitZeroOnCtrlC runs `make dev` on a terminal, as the
// README says, waits for the demo, and presses Ctrl-C: tidings stops
// cleanly and make exits 0 (not 130, which a terminal's interrupt gives make
// when it reaches make too).
func TestMakeDevStopsWithExitZeroOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dir := t.TempDir()
	installBinary(t, dir, "--temporal-port", "0", "--ui-port", "0", "--smtp-addr", "127.0.0.1:0", "--demo-customers", "30")
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	master, slave := openPTY(t)
	// -o build: bin/tidings is already built (it is this test binary).
	cmd := exec.Command("make", "-f", makefile, "-o", "build", "dev")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TIDINGS_DATABASE_URL="+testdb.Create(t), "TIDINGS_API_ADDR=127.0.0.1:0", "TIDINGS_LOG_LEVEL=warn")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	out := &syncBuffer{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()

	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "demo: watch the mail arrive") {
		if time.Now().After(deadline) {
			t.Fatalf("make dev never finished starting the demo:\n%s", out)
		}
		select {
		case err := <-exited:
			t.Fatalf("make dev exited early (%v):\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := master.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("make dev after Ctrl-C: %v (exit %d), want exit 0\n%s", err, ee.ExitCode(), out)
		}
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("make dev did not stop within a minute of Ctrl-C:\n%s", out)
	}
}
