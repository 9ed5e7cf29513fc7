package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/store"
)

func newMigrateCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema",
		Long: `Migrations are numbered SQL files built into the binary. "migrate up" applies
the pending ones (creating the database if it does not exist); "migrate
status" lists them. Every other command refuses to run on an outdated schema
or a database that does not exist (exit status 4).`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.parts.CreateStore(cmd.Context())
			if err != nil {
				return err
			}
			done, err := s.Migrate(cmd.Context())
			for _, m := range done {
				fmt.Fprintf(a.stdout, "applied %s\n", m.Name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "schema is at version %d\n", store.LatestVersion())
			return nil
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.parts.StoreAnySchema(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := s.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			pending := 0
			err = printRows(a.stdout, "VERSION\tNAME\tAPPLIED", ms, func(w io.Writer, m store.Migration) {
				at := "pending"
				if m.AppliedAt != nil {
					at = m.AppliedAt.Format(time.RFC3339)
				} else {
					pending++
				}
				fmt.Fprintf(w, "%d\t%s\t%s\n", m.Version, m.Name, at)
			})
			if err != nil {
				return err
			}
			if pending > 0 {
				fmt.Fprintf(a.stdout, "%d pending; run `tidings migrate up`\n", pending)
			}
			return nil
		},
	})
	return cmd
}
