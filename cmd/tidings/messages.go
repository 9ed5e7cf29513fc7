package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
)

func newMessagesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "messages",
		Short: "The message log: what was sent, skipped or failed, and what came back",
		Long: `Every message Tidings meant to send is in the ledger: sent, skipped (and why:
no consent, suppressed, capped), failed, or still queued; with what the
relay or carrier reported afterwards (delivered, bounced, complained), the
clicks and opens it drew, and its content as it went out. The same log is at
GET /v1/messages.`,
	}
	cmd.AddCommand(newMessagesListCmd(a), newMessagesShowCmd(a), newMessagesTestCmd(a))
	return cmd
}

func newMessagesListCmd(a *app) *cobra.Command {
	var f store.MessageFilter
	var customer, since, until string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List messages, newest first, with filters",
		Example: `  tidings messages list --campaign spring-winback --status skipped
  tidings messages list --customer C-1001 --since 2026-11-01T00:00:00Z
  tidings messages list --delivery bounced --json`,
		Args: exactArgs(0),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, _ []string) error {
			if err := readTimes(timeFlag{"since", since, &f.Since}, timeFlag{"until", until, &f.Until}); err != nil {
				return err
			}
			if customer != "" {
				id, err := customerID(ctx, s, customer)
				if err != nil {
					return err
				}
				f.CustomerID = id
			}
			ms, next, err := s.ListMessages(ctx, f)
			if err != nil {
				return badCursorIsUsage(err)
			}
			return printPage(a.stdout, a.stderr, asJSON, "messages", ms, next,
				"CREATED\tID\tCHANNEL\tJOURNEY\tSTEP\tTEMPLATE\tSTATUS\tDELIVERY\tREASON", func(w io.Writer, m store.LoggedMessage) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.CreatedAt.Format(time.DateTime), m.ID, m.Channel,
						m.Journey, m.Step, m.Template, m.Status, orDash(m.Delivery), clip(m.Reason, 50))
				})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&customer, "customer", "", "Tidings ID or external ID")
	fl.StringVar(&f.Campaign, "campaign", "", "campaign name")
	fl.StringVar(&f.Journey, "journey", "", "journey as in the ledger (onboarding, winback, ...)")
	fl.StringVar(&f.Template, "template", "", "template name")
	fl.StringVar(&f.Topic, "topic", "", "topic")
	fl.StringVar(&f.Channel, "channel", "", "email or sms")
	fl.StringVar(&f.Status, "status", "", "queued, sent, failed or skipped")
	fl.StringVar(&f.Reason, "reason", "", "reasons starting with this (suppressed, frequency_cap, no_opt_in, ...)")
	fl.StringVar(&f.Delivery, "delivery", "", "delivered, undelivered, failed, bounced, soft_bounced or complained")
	fl.StringVar(&since, "since", "", "created at or after (RFC 3339)")
	fl.StringVar(&until, "until", "", "created before (RFC 3339)")
	fl.IntVar(&f.Limit, "limit", 50, "rows per page (at most 500)")
	fl.StringVar(&f.After, "after", "", "cursor printed by the previous page")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// customerID resolves a Tidings ID or an external ID.
func customerID(ctx context.Context, s *store.Store, key string) (string, error) {
	if _, err := uuid.Parse(key); err == nil {
		if c, err := s.Customer(ctx, key); err == nil {
			return c.ID, nil
		}
	}
	c, err := s.CustomerByExternalID(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", withCode(exitUsage, fmt.Errorf("no customer with ID or external ID %q", key))
	}
	return c.ID, err
}

func newMessagesShowCmd(a *app) *cobra.Command {
	var asJSON, bodies bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "One message: headers, parts as sent, attempts, clicks, opens, bounces",
		Example: `  tidings messages show 0f8c2d3e-5a4b-5c6d-8e7f-9a0b1c2d3e4f
  tidings messages show 0f8c2d3e-5a4b-5c6d-8e7f-9a0b1c2d3e4f --html`,
		Args: exactArgs(1),
		RunE: a.withStore(func(ctx context.Context, s *store.Store, args []string) error {
			if _, err := uuid.Parse(args[0]); err != nil {
				return withCode(exitUsage, fmt.Errorf("%q is not a message ID (a UUID, as in X-Tidings-Message-ID)", args[0]))
			}
			rec, err := s.MessageRecordByID(ctx, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, fmt.Errorf("no message %s", args[0]))
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, rec)
			}
			printMessage(a.stdout, rec, bodies)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (with every part)")
	cmd.Flags().BoolVar(&bodies, "html", false, "print the HTML part too")
	return cmd
}

func printMessage(w io.Writer, rec store.MessageRecord, withHTML bool) {
	m := rec.Message
	fmt.Fprintf(w, "message %s\n", m.ID)
	tw := aligned(w)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	row("status", m.Status+ifSet(" ("+m.Reason+")", m.Reason))
	row("delivery", m.Delivery+ifSet(" ("+m.DeliveryDetail+")", m.DeliveryDetail))
	row("channel", m.Channel)
	row("journey", m.Journey)
	row("step", m.Step)
	row("template", m.Template+ifSet(" ("+m.Locale+")", m.Locale))
	row("topic", m.Topic)
	row("customer", m.CustomerID)
	row("recipient", m.Recipient)
	row("provider ID", m.ProviderMessageID)
	row("key", m.IdempotencyKey)
	row("created", m.CreatedAt.Format(time.RFC3339))
	if m.SentAt != nil {
		row("sent", m.SentAt.Format(time.RFC3339))
	}
	row("attempts", fmt.Sprintf("%d", m.Attempts))
	_ = tw.Flush()
	if c := rec.Content; c != nil {
		fmt.Fprintln(w, "\nheaders")
		if _, ok := c.Headers["Subject"]; !ok && c.Subject != "" {
			c.Headers["Subject"] = c.Subject
		}
		keys := make([]string, 0, len(c.Headers))
		for k := range c.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s\n", k, c.Headers[k])
		}
		if m.Channel == "sms" {
			fmt.Fprintf(w, "\nSMS\n%s\n", part(c.SMS))
		} else {
			fmt.Fprintf(w, "\ntext part\n%s\n", part(c.Text))
			if withHTML {
				fmt.Fprintf(w, "\nHTML part\n%s\n", part(c.HTML))
			} else {
				fmt.Fprintf(w, "\nHTML part: %d bytes (--html prints it)\n", len(c.HTML))
			}
		}
		if len(c.Links) > 0 {
			fmt.Fprintln(w, "\ntracked links")
			for i, l := range c.Links {
				fmt.Fprintf(w, "  %d  %s\n", i, l)
			}
		}
	} else {
		fmt.Fprintln(w, "\ncontent: not stored")
	}
	fmt.Fprintln(w, "\nattempts")
	printAttempts(w, m.Attempts, rec.Attempts)
	fmt.Fprintln(w, "clicks")
	if len(rec.Clicks) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, k := range rec.Clicks {
		fmt.Fprintf(w, "  link %d  %s  %d× first %s  %s\n", k.Link, who(k.Machine, k.MachineReason), k.Clicks,
			k.FirstAt.Format(time.DateTime), k.URL)
	}
	fmt.Fprintln(w, "opens")
	if len(rec.Opens) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, o := range rec.Opens {
		fmt.Fprintf(w, "  %s  %d× first %s\n", who(o.Machine, o.MachineReason), o.Opens, o.FirstAt.Format(time.DateTime))
	}
	fmt.Fprintln(w, "reports (bounces, complaints, receipts)")
	if len(rec.Reports) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, r := range rec.Reports {
		fmt.Fprintf(w, "  %s  %s from %s: %s\n", r.OccurredAt.Format(time.DateTime), r.Kind, r.Provider, r.Detail)
	}
}

// printAttempts lists each attempt with the provider's answer; an attempt
// the ledger counted without an answer was interrupted or is under way.
func printAttempts(w io.Writer, counted int, as []store.MessageAttempt) {
	if counted == 0 && len(as) == 0 {
		fmt.Fprintln(w, "  none")
	}
	seen := map[int]bool{}
	for _, a := range as {
		seen[a.Attempt] = true
		kind := a.Outcome
		switch {
		case a.Temporary:
			kind = "temporary failure, retried"
		case a.Outcome == store.StatusFailed:
			kind = "permanent failure"
		}
		fmt.Fprintf(w, "  %d  %s  %s%s%s\n", a.Attempt, a.At.Format(time.DateTime), kind,
			ifSet(": "+a.Reply, a.Reply), ifSet(" ("+a.ProviderMessageID+")", a.ProviderMessageID))
	}
	for n := 1; n <= counted; n++ {
		if !seen[n] {
			fmt.Fprintf(w, "  %d  no answer recorded (interrupted, or under way)\n", n)
		}
	}
}

func who(machine bool, reason string) string {
	if machine {
		return "machine (" + reason + ")"
	}
	return "person"
}

func ifSet(s, v string) string {
	if v == "" {
		return ""
	}
	return s
}

// part prints a message part indented, or says it is empty.
func part(s string) string {
	if s == "" {
		return "    (empty)"
	}
	return indent(s)
}

func newMessagesTestCmd(a *app) *cobra.Command {
	var in mgmt.TestSend
	var vars []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Send a template or a campaign step as a test, to a customer or to seed addresses",
		Long: `Sends through the one send path, marked as a test in the ledger (journey
"test"): counted in no report and in no frequency cap, skipping consent and
quiet hours, never reaching a suppressed address. With --seed the message
goes to the seed addresses instead of the customer, rendered with the
customer's profile and locale; its unsubscribe, preference and survey links
open a page saying it was a test, and change no one's consent. Audited as
message.test, like POST /v1/messages/test.`,
		Example: `  tidings messages test --customer C-1001 --template welcome --topic care
  tidings messages test --customer C-1001 --campaign spring-winback --step offer
  tidings messages test --customer C-1001 --template winback_offer --topic marketing \
      --var coupon=TEST-10 --var discount_percent=10 --seed qa@example.com --seed inbox@example.net`,
		Args: exactArgs(0),
		RunE: a.manage(func(ctx context.Context, m *mgmt.Service, _ []string) error {
			var err error
			if in.Vars, err = keyValues("var", vars, nil); err != nil {
				return err
			}
			sent, err := m.SendTest(ctx, a.operator(), in)
			if err != nil {
				return mgmtErr(err)
			}
			if asJSON {
				return writeJSON(a.stdout, sent)
			}
			results := sent.Seeds
			if len(results) == 0 {
				results = []mgmt.TestSent{sent}
			}
			return printRows(a.stdout, "RECIPIENT\tSTATUS\tMESSAGE\tREASON", results, func(w io.Writer, r mgmt.TestSent) {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Recipient, r.Status, orDash(r.MessageID), orDash(r.Reason))
			})
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Customer, "customer", "", "Tidings ID or external ID: the recipient, or whose profile seeds are rendered with")
	fl.StringVar(&in.Template, "template", "", "template to send")
	fl.StringVar(&in.Topic, "topic", "", "topic of the template's message")
	fl.StringVar(&in.Channel, "channel", "", "email (default) or sms")
	fl.StringVar(&in.Campaign, "campaign", "", "instead of --template: a campaign whose send step to test")
	fl.StringVar(&in.Step, "step", "", "the campaign's send step")
	fl.StringArrayVar(&in.Seeds, "seed", nil, "a seed address to send to instead of the customer (repeat for more; phone numbers for SMS)")
	fl.StringArrayVar(&vars, "var", nil, "a template variable, name=value (repeat for more)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
