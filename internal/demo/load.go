package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/store"
)

// Store is what loading and running the demo needs of the store.
type Store interface {
	importer.Upserter
	CustomerByExternalID(ctx context.Context, externalID string) (store.Customer, error)
	CustomerPage(ctx context.Context, after string, limit int) ([]store.Customer, error)
	ConsentStatus(ctx context.Context, customerID, channel, topic string) (string, error)
	SetConsent(ctx context.Context, ch store.ConsentChange) (store.Consent, error)
	RecordEvents(ctx context.Context, in []store.EventInput) ([]store.RecordedEvent, error)
	CustomerEvents(ctx context.Context, customerID, typ string, since time.Time, limit int) ([]store.Event, error)
}

// Loaded is the company as stored, with what this load changed.
type Loaded struct {
	Company
	// IDs maps external IDs to Tidings IDs.
	IDs map[string]string
	// Import is the customers' import summary: a second load reports every
	// row unchanged.
	Import importer.Summary
	// Orders is the number of past orders, NewOrders those recorded now;
	// NewOrderIDs are their event row IDs, for routing.
	Orders, NewOrders int
	NewOrderIDs       []int64
	// Consents is how many consent records this load wrote.
	Consents int
}

// consentSource marks consent records the demo wrote.
const consentSource = "demo_import"

// Load stores the company of n customers from seed: profiles through the
// importer, consents, and the purchase history as events (not yet routed).
// It finds the anchor of an earlier load on the first demo customer, so
// loading again changes nothing; now is the anchor of a first load.
func Load(ctx context.Context, st Store, n int, seed uint64, now time.Time) (Loaded, error) {
	anchor, err := findAnchor(ctx, st, now)
	if err != nil {
		return Loaded{}, err
	}
	l := Loaded{Company: Generate(n, seed, anchor)}

	var jsonl bytes.Buffer
	enc := json.NewEncoder(&jsonl)
	for _, c := range l.Customers {
		if err := enc.Encode(c.Input); err != nil {
			return Loaded{}, fmt.Errorf("encode demo customer %s: %w", c.Input.ExternalID, err)
		}
	}
	l.Import, err = importer.Import(ctx, st, &jsonl, importer.Options{Format: importer.JSONL, Now: now})
	if err != nil {
		return Loaded{}, fmt.Errorf("import demo customers: %w", err)
	}
	if l.Import.Rejected > 0 {
		return Loaded{}, fmt.Errorf("import demo customers: %d rejected, first %s", l.Import.Rejected, l.Import.Rejections[0])
	}
	if l.IDs, err = demoIDs(ctx, st); err != nil {
		return Loaded{}, err
	}
	if l.Consents, err = loadConsents(ctx, st, l); err != nil {
		return Loaded{}, err
	}
	if err := loadOrders(ctx, st, &l); err != nil {
		return Loaded{}, err
	}
	return l, nil
}

// findAnchor reads the anchor of an earlier load from the first demo
// customer, or returns now for a first load.
func findAnchor(ctx context.Context, st Store, now time.Time) (time.Time, error) {
	first, err := st.CustomerByExternalID(ctx, fmt.Sprintf("demo-%04d", 1))
	if errors.Is(err, store.ErrNotFound) {
		return now, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("look for an earlier demo load: %w", err)
	}
	s, _ := first.Attributes[AnchorAttribute].(string)
	anchor, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("customer demo-0001 has %s %q, not a time: %w", AnchorAttribute, s, err)
	}
	return anchor, nil
}

// demoIDs maps every demo customer's external ID to its Tidings ID.
func demoIDs(ctx context.Context, st Store) (map[string]string, error) {
	ids := map[string]string{}
	after := ""
	for {
		page, err := st.CustomerPage(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list demo customers: %w", err)
		}
		for _, c := range page {
			if strings.HasPrefix(c.ExternalID, "demo-") {
				ids[c.ExternalID] = c.ID
			}
		}
		if len(page) < 1000 {
			return ids, nil
		}
		after = page[len(page)-1].ID
	}
}

// loadConsents records the demo's consents where a customer has none yet,
// so a choice made since (an unsubscribe link clicked in the catcher) stands.
func loadConsents(ctx context.Context, st Store, l Loaded) (int, error) {
	written := 0
	set := func(id, channel, topic, status string) error {
		cur, err := st.ConsentStatus(ctx, id, channel, topic)
		if err != nil || cur != "" {
			return err
		}
		_, err = st.SetConsent(ctx, store.ConsentChange{CustomerID: id, Channel: channel, Topic: topic, Status: status,
			Source: consentSource, Actor: "tidings dev --demo"})
		if err == nil {
			written++
		}
		return err
	}
	for _, c := range l.Customers {
		id := l.IDs[c.Input.ExternalID]
		if c.SMSMarketing {
			if err := set(id, "sms", "marketing", store.Granted); err != nil {
				return written, fmt.Errorf("demo consent of %s: %w", c.Input.ExternalID, err)
			}
		}
		if c.EmailOptOut {
			if err := set(id, "email", "all", store.Denied); err != nil {
				return written, fmt.Errorf("demo consent of %s: %w", c.Input.ExternalID, err)
			}
		}
	}
	return written, nil
}

// loadOrders records the purchase history; orders already stored are
// skipped by their event IDs.
func loadOrders(ctx context.Context, st Store, l *Loaded) error {
	var batch []store.EventInput
	flush := func() error {
		recs, err := st.RecordEvents(ctx, batch)
		if err != nil {
			return fmt.Errorf("record demo orders: %w", err)
		}
		for _, r := range recs {
			if r.Created {
				l.NewOrders++
				l.NewOrderIDs = append(l.NewOrderIDs, r.ID)
			}
		}
		batch = batch[:0]
		return nil
	}
	for _, c := range l.Customers {
		evs := c.Events(l.IDs[c.Input.ExternalID])
		l.Orders += len(evs)
		batch = append(batch, evs...)
		if len(batch) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}
