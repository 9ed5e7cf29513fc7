//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// takeTerminal makes `tidings dev` the terminal's foreground process group
// when another program started it in the foreground, as `make dev` does.
// Ctrl-C then reaches only tidings, which stops cleanly and exits 0, and make
// reports that, instead of dying of the interrupt itself (exit 130). Ctrl-Z
// is ignored meanwhile: it would stop tidings alone and leave make waiting
// on a stopped terminal. The returned function hands the terminal back.
// Started by a shell (its own process group already) or without a terminal,
// nothing changes.
func takeTerminal(in io.Reader) (restore func()) {
	nothing := func() {}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nothing
	}
	fd := int(f.Fd())
	pid, group := unix.Getpid(), unix.Getpgrp()
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if group == pid || err != nil || fg != group {
		return nothing
	}
	// Changing the foreground from a group that is not (yet) in it raises
	// SIGTTOU, which would stop the process.
	signal.Ignore(syscall.SIGTTOU, syscall.SIGTSTP)
	if err := unix.Setpgid(0, 0); err != nil {
		return nothing
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pid); err != nil {
		_ = unix.Setpgid(0, group)
		return nothing
	}
	return func() { _ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, group) }
}
