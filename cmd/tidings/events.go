package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

func newEventsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Record customer events (signup, purchase, order_delivered, ...)",
	}
	cmd.AddCommand(newEventsSendCmd(a))
	return cmd
}

// eventFile is the JSON accepted by `events send --file`, the same shape as
// the API's event body.
type eventFile struct {
	EventID    string         `json:"event_id"`
	Customer   string         `json:"customer"`
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	OccurredAt *time.Time     `json:"occurred_at"`
}

func newEventsSendCmd(a *app) *cobra.Command {
	var (
		ev    eventFile
		props []string
		file  string
		when  string
	)
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Record one event from flags or a JSON file",
		Long: `Record one event. The event ID makes this idempotent: sending the same event
twice stores it once. A purchase's "amount" property updates the customer's
order count, total spent and purchase dates.

Property values given with --prop are numbers when they parse as numbers,
true/false as booleans, and text otherwise.`,
		Example: `  tidings events send --customer C-1001 --type purchase --id order-77 --prop amount=42.50 --prop currency=USD
  tidings events send --file event.json   # {"event_id": "...", "customer": "C-1001", "type": "signup"}`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return withCode(exitUsage, err)
				}
				dec := json.NewDecoder(strings.NewReader(string(b)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&ev); err != nil {
					return withCode(exitUsage, fmt.Errorf("%s: %v", file, err))
				}
			}
			var err error
			if ev.Properties, err = keyValues("prop", props, ev.Properties); err != nil {
				return err
			}
			if when != "" {
				var t time.Time
				if err := readTimes(timeFlag{"occurred-at", when, &t}); err != nil {
					return err
				}
				ev.OccurredAt = &t
			}
			if ev.EventID == "" {
				ev.EventID = uuid.NewString()
			}
			if ev.Customer == "" {
				return withCode(exitUsage, fmt.Errorf("customer: is required (--customer or \"customer\" in the file)"))
			}
			s, err := a.store(ctx)
			if err != nil {
				return err
			}
			c, err := lookupCustomer(ctx, s, ev.Customer)
			if err != nil {
				return err
			}
			in := store.EventInput{EventID: ev.EventID, CustomerID: c.ID, Type: ev.Type, Properties: ev.Properties}
			if ev.OccurredAt != nil {
				in.OccurredAt = *ev.OccurredAt
			}
			if err := validate.Event(&in, time.Now()); err != nil {
				return withCode(exitUsage, err)
			}
			rec, err := s.RecordEvent(ctx, in)
			if err != nil {
				return err
			}
			state := "recorded"
			if !rec.Created {
				state = "already recorded (nothing changed)"
			}
			fmt.Fprintf(a.stdout, "event %s (%s for %s) %s\n", rec.EventID, rec.Type, c.ExternalID, state)
			return nil
		},
	}
	cmd.Flags().StringVar(&ev.Customer, "customer", "", "customer's Tidings ID or external ID")
	cmd.Flags().StringVar(&ev.Type, "type", "", "event type, e.g. signup, purchase, order_delivered")
	cmd.Flags().StringVar(&ev.EventID, "id", "", "event ID that makes the send idempotent (default: a new UUID)")
	cmd.Flags().StringArrayVar(&props, "prop", nil, "property KEY=VALUE (repeatable)")
	cmd.Flags().StringVar(&when, "occurred-at", "", "when it happened, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&file, "file", "", "read the event from this JSON file")
	return cmd
}

func propValue(v string) any {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return v
}

// keyValues adds the KEY=VALUE pairs given with --flag to m (made when
// nil), each value typed as propValue reads it.
func keyValues(flag string, pairs []string, m map[string]any) (map[string]any, error) {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return m, withCode(exitUsage, fmt.Errorf("--%s %q: want KEY=VALUE", flag, p))
		}
		if m == nil {
			m = map[string]any{}
		}
		m[k] = propValue(v)
	}
	return m, nil
}
