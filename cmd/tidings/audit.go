package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log: who did what, when and from where",
		Long: `Every state change a person or key makes through the console, the API or
this CLI is written to the audit log: applying, pausing or archiving a
campaign, saving a segment, operating a schedule, sending a test, creating
users and keys, signing in, and always erasing or exporting a customer.
Also GET /v1/audit.`,
	}
	cmd.AddCommand(newAuditListCmd(a))
	return cmd
}

func newAuditListCmd(a *app) *cobra.Command {
	var (
		q            store.AuditQuery
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit entries, newest first",
		Example: `  tidings audit list
  tidings audit list --action customer --since 2026-05-01T00:00:00Z
  tidings audit list --actor mei@example.com --limit 20
  tidings audit list --target campaign:spring-sale --json`,
		Args: exactArgs(0),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			if err := readTimes(timeFlag{"since", since, &q.Since}, timeFlag{"until", until, &q.Until}); err != nil {
				return err
			}
			if q.Limit < 1 || q.Limit > 1000 {
				return withCode(exitUsage, fmt.Errorf("--limit %d: want 1 to 1000", q.Limit))
			}
			es, err := m.AuditLog(ctx, q)
			if err != nil {
				return err
			}
			return printList(a.stdout, asJSON, es, "no audit entries match", "ID\tWHEN\tWHO\tFROM\tACTION\tTARGET\tDETAIL", func(w io.Writer, e store.AuditEntry) {
				detail := ""
				if len(e.Detail) > 0 {
					b, _ := json.Marshal(e.Detail)
					detail = string(b)
				}
				fmt.Fprintf(w, "%d\t%s\t%s:%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.Local().Format(time.DateTime), e.ActorKind, e.ActorName,
					orDash(e.IP), e.Action, orDash(e.Target), detail)
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&q.Actor, "actor", "", "an actor's name (mei@example.com) or kind:name (api_key:shop, cli:root)")
	f.StringVar(&q.Action, "action", "", "one action (campaign.apply) or all on a kind of thing (campaign)")
	f.StringVar(&q.Target, "target", "", "what was acted on (campaign:spring-sale, customer:<id>, user:<email>)")
	f.StringVar(&since, "since", "", "entries at or after this time (RFC 3339)")
	f.StringVar(&until, "until", "", "entries before this time (RFC 3339)")
	f.Int64Var(&q.Before, "before", 0, "entries with an ID below this (paging)")
	f.IntVar(&q.Limit, "limit", 100, "at most this many entries (1 to 1000)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
