package spec

import (
	"errors"
	"fmt"
)

// Problem is what a check found wrong with a value, with its message's key
// and values (Format, Args), by which a front door shows it in its
// reader's language. A Problem handed on whole ("%v", err) keeps them: At
// and validate.Errors.Add look through it.
type Problem struct {
	Format string
	Args   []any
}

func (p *Problem) Error() string { return fmt.Sprintf(p.Format, p.Args...) }

// Problemf is a Problem.
func Problemf(format string, args ...any) error { return &Problem{Format: format, Args: args} }

// Unwrapped is format and args as they are, or, when they pass one error
// on whole ("%v", err) and it is a Problem, the Problem's own.
func Unwrapped(format string, args []any) (string, []any) {
	if format != "%v" || len(args) != 1 {
		return format, args
	}
	err, ok := args[0].(error)
	var p *Problem
	if !ok || !errors.As(err, &p) {
		return format, args
	}
	return p.Format, p.Args
}
