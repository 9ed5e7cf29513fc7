package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/store"
)

func newAPIKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Create, list and revoke HTTP API keys",
		Long: `API keys authenticate clients of the HTTP API ("Authorization: Bearer <key>").
Only a hash of each key is stored: the key is shown once, when created.`,
	}
	cmd.AddCommand(newAPIKeysCreateCmd(a), newAPIKeysListCmd(a), newAPIKeysRevokeCmd(a))
	return cmd
}

func newAPIKeysCreateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "create NAME",
		Short:   "Issue a key (printed once; store it in your secret manager)",
		Example: `  tidings apikeys create "shop backend"`,
		Args:    exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			k, secret, err := s.CreateAPIKey(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			fmt.Fprintf(a.stderr, "key %d %q created (prefix %s); it is not shown again\n", k.ID, k.Name, k.Prefix)
			return nil
		}),
	}
}

func newAPIKeysListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys by ID, name and prefix, with last use",
		Args:  exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, _ []string) error {
			ks, err := s.APIKeys(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATUS")
			for _, k := range ks {
				status := "active"
				if k.RevokedAt != nil {
					status = "revoked " + k.RevokedAt.Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.CreatedAt.Format(time.DateTime), when(k.LastUsedAt), status)
			}
			return tw.Flush()
		}),
	}
}

func newAPIKeysRevokeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|PREFIX",
		Short: "Stop a key from working, immediately",
		Example: `  tidings apikeys revoke 3
  tidings apikeys revoke tdg_k3j9a2bq`,
		Args: exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			k, err := s.RevokeAPIKey(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, fmt.Errorf("no API key with ID or prefix %q (see tidings apikeys list)", args[0]))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "key %d %q (%s) revoked\n", k.ID, k.Name, k.Prefix)
			return nil
		}),
	}
}

func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.DateTime)
}
