package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/store"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go version and the schema version",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(a.stdout, "tidings %s (%s, schema %d)\n", version, runtime.Version(), store.LatestVersion())
			return nil
		},
	}
}
