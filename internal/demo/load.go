package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidingsdev/tidings/internal/importer"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/workflows"
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
	RefreshScores(ctx context.Context, now time.Time) (store.ScoreRefresh, error)
	RecordStages(ctx context.Context, at time.Time) (int64, error)
	Pool() *pgxpool.Pool
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
	// NewOrderIDs are their event row IDs, for routing. Views and NewViews
	// count the product views the same way.
	Orders, NewOrders int
	NewOrderIDs       []int64
	Views, NewViews   int
	// Consents is how many consent records this load wrote.
	Consents int
}

// consentSource marks consent records the demo wrote.
const consentSource = "demo_import"

// Load stores the company of n customers from seed: profiles through the
// importer, consents, the purchase history and product views as events (not
// yet routed), the history the reports read (a past campaign, surveys,
// signups: see history), and the RFM scores and lifecycle stages segments
// and reports read. It finds the anchor of
// an earlier load on the first demo customer, so loading again changes
// nothing; now is the anchor of a first load.
//
// A customer already stored keeps the tags and attributes they have:
// journeys and campaigns tag customers (a win-back ends with "lapsed"), and a
// restart of the demo must not take that back.
func Load(ctx context.Context, st Store, n int, seed uint64, now time.Time) (Loaded, error) {
	anchor, err := findAnchor(ctx, st, now)
	if err != nil {
		return Loaded{}, err
	}
	l := Loaded{Company: Generate(n, seed, anchor)}
	stored, err := demoCustomers(ctx, st)
	if err != nil {
		return Loaded{}, err
	}

	var jsonl bytes.Buffer
	enc := json.NewEncoder(&jsonl)
	for _, c := range l.Customers {
		if err := enc.Encode(keepChanges(c.Input, stored[c.Input.ExternalID])); err != nil {
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
	if stored, err = demoCustomers(ctx, st); err != nil {
		return Loaded{}, err
	}
	l.IDs = make(map[string]string, len(stored))
	for ext, c := range stored {
		l.IDs[ext] = c.ID
	}
	if l.Consents, err = loadConsents(ctx, st, l); err != nil {
		return Loaded{}, err
	}
	if err := loadEvents(ctx, st, &l); err != nil {
		return Loaded{}, err
	}
	if err := loadHistory(ctx, st.Pool(), l.Anchor); err != nil {
		return Loaded{}, err
	}
	if err := loadSegments(ctx, st.Pool()); err != nil {
		return Loaded{}, err
	}
	if _, err := st.RefreshScores(ctx, now); err != nil {
		return Loaded{}, fmt.Errorf("score the demo customers: %w", err)
	}
	if _, err := st.RecordStages(ctx, now); err != nil {
		return Loaded{}, fmt.Errorf("record the demo customers' stages: %w", err)
	}
	return l, nil
}

// keepChanges is the demo's profile of a customer as it goes to the
// importer: a new customer gets all of it, one already stored only the
// fields the demo owns, without touching tags and with only the attributes
// they lack.
func keepChanges(in store.CustomerInput, stored *store.Customer) store.CustomerInput {
	if stored == nil {
		return in
	}
	in.Tags = nil
	attrs := map[string]any{}
	for k, v := range in.Attributes {
		if _, ok := stored.Attributes[k]; !ok {
			attrs[k] = v
		}
	}
	in.Attributes = attrs
	return in
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

// demoCustomers returns every stored demo customer by external ID.
func demoCustomers(ctx context.Context, st Store) (map[string]*store.Customer, error) {
	out := map[string]*store.Customer{}
	after := ""
	for {
		page, err := st.CustomerPage(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list demo customers: %w", err)
		}
		for i := range page {
			if strings.HasPrefix(page[i].ExternalID, "demo-") {
				out[page[i].ExternalID] = &page[i]
			}
		}
		if len(page) < 1000 {
			return out, nil
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
		if c.EmailMarketing {
			if err := set(id, "email", "marketing", store.Granted); err != nil {
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

// loadEvents records the purchase history and the product views; events
// already stored are skipped by their event IDs.
func loadEvents(ctx context.Context, st Store, l *Loaded) error {
	var batch []store.EventInput
	flush := func() error {
		recs, err := st.RecordEvents(ctx, batch)
		if err != nil {
			return fmt.Errorf("record demo orders and views: %w", err)
		}
		for _, r := range recs {
			switch {
			case !r.Created:
			case r.Type == workflows.EventPurchase:
				l.NewOrders++
				l.NewOrderIDs = append(l.NewOrderIDs, r.ID)
			default:
				l.NewViews++
			}
		}
		batch = batch[:0]
		return nil
	}
	for _, c := range l.Customers {
		l.Orders += len(c.Orders)
		l.Views += len(c.Views)
		batch = append(batch, c.Events(l.IDs[c.Input.ExternalID])...)
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
