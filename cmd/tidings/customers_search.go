package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/names"
	"github.com/tidingsdev/tidings/internal/store"
)

func newCustomersSearchCmd(a *app) *cobra.Command {
	var (
		q      mgmt.CustomerQuery
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "search [TEXT]",
		Short: "Find customers by email, phone, external ID, name prefix or tag",
		Long: `Find customers. TEXT is whatever you would type into a search box: an email
address, a phone number (read with TIDINGS_DEFAULT_REGION), an exact external
ID, or else the start of a first or last name ("ada", "ada lo"). The flags
narrow by one thing each; every one given must match. Results come in pages
(--limit); the last line says how to get the next one.`,
		Example: `  tidings customers search ada@example.com
  tidings customers search "ada lo"
  tidings customers search --tag vip --limit 100`,
		Args: func(cmd *cobra.Command, args []string) error {
			return withCode(exitUsage, cobra.MaximumNArgs(1)(cmd, args))
		},
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			if len(args) == 1 {
				q.Q = args[0]
			}
			q.Region = a.cfg.DefaultRegion
			page, err := m.SearchCustomers(ctx, q)
			if err != nil {
				return mgmtErr(err)
			}
			if asJSON {
				return writeJSON(a.stdout, page)
			}
			if len(page.Customers) == 0 {
				fmt.Fprintln(a.stdout, "no customers found")
				return nil
			}
			err = printRows(a.stdout, "EXTERNAL ID\tNAME\tEMAIL\tPHONE\tTAGS\tID", page.Customers, func(w io.Writer, c store.Customer) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ExternalID, names.Full(c.FirstName, c.LastName),
					c.Email, c.Phone, strings.Join(c.Tags, ","), c.ID)
			})
			if err != nil {
				return err
			}
			if page.Next != "" {
				fmt.Fprintf(a.stdout, "more: add --after %s\n", page.Next)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&q.Email, "email", "", "email address (case does not matter)")
	f.StringVar(&q.Phone, "phone", "", "phone number")
	f.StringVar(&q.ExternalID, "external-id", "", "your ID of the customer")
	f.StringVar(&q.Name, "name", "", "start of the first or last name")
	f.StringVar(&q.Tag, "tag", "", "a tag the customer has")
	f.StringVar(&q.After, "after", "", "the cursor the previous page printed")
	f.IntVar(&q.Limit, "limit", 50, "customers per page (1 to 500)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newCustomersTimelineCmd(a *app) *cobra.Command {
	var (
		after  string
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "timeline ID",
		Short: "A customer's history, newest first: events, messages, journeys, campaigns, consent, surveys",
		Long: `Print a customer's history (by Tidings ID or external ID) merged newest first:
events, messages with their status and skip or failure reason, journey runs
and campaign entries with their outcomes, conversions, consent changes and
survey answers.`,
		Example: `  tidings customers timeline C-1001 --limit 20`,
		Args:    exactArgs(1),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, args []string) error {
			tl, err := m.CustomerTimeline(ctx, args[0], after, limit)
			if err != nil {
				return mgmtErr(err)
			}
			if asJSON {
				return writeJSON(a.stdout, tl)
			}
			fmt.Fprintf(a.stdout, "customer %s (%s)\n", tl.Customer.ExternalID, tl.Customer.ID)
			tw := aligned(a.stdout)
			for _, it := range tl.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", it.At.Local().Format(time.DateTime), it.Kind, timelineLine(it))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if tl.Next != "" {
				fmt.Fprintf(a.stdout, "more: add --after %s\n", tl.Next)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&after, "after", "", "the cursor the previous page printed")
	cmd.Flags().IntVar(&limit, "limit", 100, "items per page (1 to 500)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// timelineKeys are the details printed first for each kind, in order.
var timelineKeys = map[string][]string{
	"event":      {"type"},
	"message":    {"journey", "template", "channel", "status", "reason"},
	"journey":    {"journey", "trigger", "outcome"},
	"campaign":   {"campaign", "variant", "holdout", "outcome"},
	"conversion": {"journey", "step", "revenue", "currency"},
	"consent":    {"channel", "topic", "status", "source"},
	"survey":     {"survey", "score", "comment"},
}

// timelineLine is one item's details as key=value, the telling ones first.
func timelineLine(it store.TimelineItem) string {
	var parts []string
	for _, k := range timelineKeys[it.Kind] {
		if v, ok := it.Detail[k]; ok && v != nil && v != "" && v != false {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	if len(parts) == 0 {
		keys := make([]string, 0, len(it.Detail))
		for k := range it.Detail {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, it.Detail[k]))
		}
	}
	return strings.Join(parts, " ")
}
