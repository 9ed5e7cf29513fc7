package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

func newAPIKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Create, list, scope and revoke HTTP API keys",
		Long: `API keys authenticate clients of the HTTP API ("Authorization: Bearer <key>").
Only a hash of each key is stored: the key is shown once, when created.

Each key has a role, as users do (viewer, marketer, ops, admin; see "tidings
users --help"): a shop's backend that writes customers and events and sends
transactional messages needs ops. Keys made before keys had roles have none
and keep full access until scoped with "tidings apikeys scope".`,
	}
	cmd.AddCommand(newAPIKeysCreateCmd(a), newAPIKeysListCmd(a), newAPIKeysScopeCmd(a), newAPIKeysRevokeCmd(a))
	return cmd
}

func newAPIKeysCreateCmd(a *app) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Issue a key (printed once; store it in your secret manager)",
		Example: `  tidings apikeys create "shop backend" --role ops
  tidings apikeys create reporting --role viewer`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			k, err := m.CreateKey(ctx, a.operator(), mgmt.NewKey{Name: args[0], Role: role})
			if err != nil {
				return mgmtErr(err)
			}
			fmt.Fprintln(a.stdout, k.Secret)
			fmt.Fprintf(a.stderr, "key %d %q created with role %s (prefix %s); it is not shown again\n", k.Key.ID, k.Key.Name, *k.Key.Role, k.Key.Prefix)
			return nil
		}),
	}
	cmd.Flags().StringVar(&role, "role", "admin", "viewer, marketer, ops or admin")
	return cmd
}

func newAPIKeysListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys by ID, name, role and prefix, with last use",
		Args:  exactArgs(0),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			ks, err := m.Keys(ctx)
			if err != nil {
				return err
			}
			return printRows(a.stdout, "ID\tNAME\tROLE\tPREFIX\tCREATED\tLAST USED\tSTATUS", ks, func(w io.Writer, k store.APIKey) {
				status := "active"
				if k.RevokedAt != nil {
					status = "revoked " + k.RevokedAt.Format(time.DateTime)
				}
				role := "unscoped (full access)"
				if k.Role != nil {
					role = *k.Role
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, role, k.Prefix, k.CreatedAt.Format(time.DateTime), when(k.LastUsedAt), status)
			})
		}),
	}
}

func newAPIKeysScopeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "scope ID|PREFIX ROLE",
		Short: "Give a key a role (an unscoped key loses its full access)",
		Example: `  tidings apikeys scope 3 ops
  tidings apikeys scope tdg_k3j9a2bq viewer`,
		Args: exactArgs(2),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			k, err := m.ScopeKey(ctx, a.operator(), args[0], args[1])
			if err != nil {
				return mgmtErr(err)
			}
			fmt.Fprintf(a.stdout, "key %d %q (%s): role %s\n", k.ID, k.Name, k.Prefix, *k.Role)
			return nil
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
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			k, err := m.RevokeKey(ctx, a.operator(), args[0])
			if err != nil {
				return mgmtErr(fmt.Errorf("%w (see tidings apikeys list)", err))
			}
			fmt.Fprintf(a.stdout, "key %d %q (%s) revoked\n", k.ID, k.Name, k.Prefix)
			return nil
		}),
	}
}
