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

func newUsersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Create, list, disable and reset the people who sign in",
		Long: `Users sign in to the console and the API (POST /v1/session) with their email
and a password, stored as an argon2id hash. Each has one role:

  viewer    reads everything except personal-data exports
  marketer  also campaigns, segments, templates and test sends
  ops       also schedules, suppressions, journeys and messages
  admin     everything, including users, API keys, the audit log, erasure and export

Every change is written to the audit log (tidings audit list).`,
	}
	cmd.AddCommand(newUsersCreateCmd(a), newUsersListCmd(a), newUsersDisableCmd(a, true), newUsersDisableCmd(a, false),
		newUsersResetCmd(a), newUsersRoleCmd(a))
	return cmd
}

func newUsersCreateCmd(a *app) *cobra.Command {
	var role string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "create EMAIL --role ROLE",
		Short: "Create a user; a generated password is printed once",
		Long: `Create a user with a role. Without --password-stdin a password is generated
and printed once: hand it over safely; the user can change it after signing in
(PUT /v1/session/password).

Exit status: 0 created, 2 bad email or role, or the email is taken.`,
		Example: `  tidings users create mei@example.com --role marketer
  printf '%s\n' "$PASSWORD" | tidings users create ops@example.com --role ops --password-stdin`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			in := mgmt.NewUser{Email: args[0], Role: role}
			if fromStdin {
				pw, err := a.readSecret()
				if err != nil {
					return err
				}
				in.Password = pw
			}
			u, err := m.CreateUser(ctx, a.operator(), in)
			if err != nil {
				return mgmtErr(err)
			}
			if u.Password != "" {
				fmt.Fprintln(a.stdout, u.Password)
				fmt.Fprintf(a.stderr, "user %s created with role %s; the password above is not shown again\n", u.User.Email, u.User.Role)
				return nil
			}
			fmt.Fprintf(a.stdout, "user %s created with role %s\n", u.User.Email, u.User.Role)
			return nil
		}),
	}
	cmd.Flags().StringVar(&role, "role", "", "viewer, marketer, ops or admin (required)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin instead of generating one")
	return cmd
}

func newUsersListCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users with their role, last sign-in and status",
		Args:  exactArgs(0),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			us, err := m.Users(ctx)
			if err != nil {
				return err
			}
			return printList(a.stdout, asJSON, us, "no users; create one with `tidings users create EMAIL --role admin`",
				"ID\tEMAIL\tROLE\tCREATED\tLAST SIGN-IN\tSTATUS", func(w io.Writer, u store.User) {
					status := "active"
					if u.DisabledAt != nil {
						status = "disabled " + u.DisabledAt.Format(time.DateTime)
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, u.CreatedAt.Format(time.DateTime), when(u.LastLoginAt), status)
				})
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newUsersDisableCmd(a *app, disable bool) *cobra.Command {
	use, short := "enable EMAIL", "Let a disabled user sign in again"
	if disable {
		use, short = "disable EMAIL", "Stop a user from signing in and end their sessions, at once"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			u, err := m.ChangeUser(ctx, a.operator(), args[0], mgmt.UserChange{Disabled: &disable})
			if err != nil {
				return mgmtErr(err)
			}
			state := "enabled"
			if u.DisabledAt != nil {
				state = "disabled; their sessions have ended"
			}
			fmt.Fprintf(a.stdout, "user %s %s\n", u.Email, state)
			return nil
		}),
	}
}

func newUsersResetCmd(a *app) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "reset EMAIL",
		Short: "Give a user a new password (printed once) and end their sessions",
		Example: `  tidings users reset mei@example.com
  printf '%s\n' "$PASSWORD" | tidings users reset mei@example.com --password-stdin`,
		Args: exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			pw := ""
			if fromStdin {
				var err error
				if pw, err = a.readSecret(); err != nil {
					return err
				}
			}
			u, err := m.ResetPassword(ctx, a.operator(), args[0], pw)
			if err != nil {
				return mgmtErr(err)
			}
			if u.Password != "" {
				fmt.Fprintln(a.stdout, u.Password)
			}
			fmt.Fprintf(a.stderr, "password of %s reset; their sessions have ended\n", u.User.Email)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the new password from the first line of stdin instead of generating one")
	return cmd
}

func newUsersRoleCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "role EMAIL ROLE",
		Short:   "Change what a user may do (viewer, marketer, ops, admin)",
		Example: `  tidings users role mei@example.com ops`,
		Args:    exactArgs(2),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			u, err := m.ChangeUser(ctx, a.operator(), args[0], mgmt.UserChange{Role: &args[1]})
			if err != nil {
				return mgmtErr(err)
			}
			fmt.Fprintf(a.stdout, "user %s: role %s\n", u.Email, u.Role)
			return nil
		}),
	}
}
