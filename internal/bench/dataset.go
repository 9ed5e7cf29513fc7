package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/store"
)

// The sizes the console, audience and reports goals are stated at: a
// million customers, ten messages and five events per customer.
const (
	DatasetCustomers            = 1_000_000
	DatasetMessagesPerCustomer  = 10
	DatasetEventsPerCustomer    = 5
	datasetMonthsOfMessages     = 12
	datasetMonthsOfEvents       = 18
	datasetCampaignHoldoutEvery = 10 // every tenth entry of a campaign is held out
)

// DatasetSizes say how big a generated dataset is.
type DatasetSizes struct {
	Customers int `json:"customers"`
	// Messages are the ledger's rows over the last 12 months.
	Messages int `json:"messages"`
	// Events are signups, purchases, deliveries and page views over the
	// last 18 months.
	Events int `json:"events"`
}

// DatasetSizesFor is a dataset of customers in the default proportions.
func DatasetSizesFor(customers int) DatasetSizes {
	return DatasetSizes{Customers: customers, Messages: customers * DatasetMessagesPerCustomer, Events: customers * DatasetEventsPerCustomer}
}

func (s DatasetSizes) check() error {
	var bad []string
	for _, f := range []struct {
		name string
		n    int
	}{{"customers", s.Customers}, {"messages", s.Messages}, {"events", s.Events}} {
		if f.n <= 0 {
			bad = append(bad, fmt.Sprintf("%s: %d is not a positive size", f.name, f.n))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// DatasetOptions say what to generate.
type DatasetOptions struct {
	Sizes DatasetSizes
	// Now is the moment the history ends (default: time.Now()).
	Now time.Time
	// Log receives a line per phase (default: none).
	Log *slog.Logger
}

// Dataset is what GenerateDataset wrote.
type Dataset struct {
	Sizes DatasetSizes `json:"sizes"`
	Now   time.Time    `json:"now"`
	// Rows counts each table's rows afterwards.
	Rows map[string]int64 `json:"rows"`
	// Campaigns are the generated campaigns, oldest first.
	Campaigns []string `json:"campaigns"`
	// Phases say where the time went.
	Phases []Row `json:"phases"`
}

// datasetTables are the tables a dataset fills; their indexes and keys are
// dropped while it loads and rebuilt after, which is several times faster
// than maintaining them row by row and leaves the same tables.
var datasetTables = []string{
	"customers", "consents", "consent_changes", "suppressions", "events", "journey_runs", "conversions",
	"campaign_entries", "messages", "message_opens", "message_clicks", "message_bounces", "message_contents",
	"message_attempts", "survey_responses",
}

// GenerateDataset fills the migrated, empty database of st with a company's
// history, inside PostgreSQL (INSERT ... SELECT over generate_series, seeded,
// so the same sizes give the same distributions): customers in en, zh-CN and
// zh-TW across 15 time zones with tags, consents and purchase histories;
// signups with their source, purchases with amounts, deliveries and page
// views over 18 months; a ledger of 12 months of campaign and journey
// messages with statuses, skip reasons, deliveries, opens, clicks and
// bounces; campaign entries with holdouts and A/B variants; journey runs
// with conversions; survey answers with comments; and RFM scores refreshed
// by the product's own statement. The scenarios of internal/bench and
// `tidings bench dataset` use it; every row is tagged or keyed "ds-".
func GenerateDataset(ctx context.Context, st *store.Store, opt DatasetOptions) (*Dataset, error) {
	if err := opt.Sizes.check(); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC().Truncate(time.Second)
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	var full bool
	if err := st.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM messages)`).Scan(&full); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if full {
		return nil, errors.New("dataset: the database already holds customers or messages; generate into an empty one")
	}
	d := &Dataset{Sizes: opt.Sizes, Now: opt.Now, Rows: map[string]int64{}}
	g := &generator{st: st, opt: opt, d: d}
	if err := g.campaigns(ctx); err != nil {
		return nil, err
	}
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer conn.Release()
	g.conn = conn
	if err := g.fill(ctx); err != nil {
		// Nothing of a failed fill stays: its transaction is rolled back
		// (the session's temporary tables with it, and the connection is
		// not reused) and the campaigns it applied are deleted.
		wctx := context.WithoutCancel(ctx)
		_, _ = conn.Exec(wctx, `ROLLBACK`)
		_ = conn.Conn().Close(wctx)
		_, _ = st.Pool().Exec(wctx, `DELETE FROM campaigns WHERE name = ANY ($1)`, d.Campaigns)
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if err := g.finish(ctx); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return d, nil
}

// generator holds one dataset's generation.
type generator struct {
	st   *store.Store
	conn *pgxpool.Conn
	opt  DatasetOptions
	d    *Dataset
	// campaignList are the campaigns with their launch, in order.
	campaignList []datasetCampaign
}

// phase runs fn and records how long it took.
func (g *generator) phase(name string, fn func() error) error {
	start := time.Now()
	g.opt.Log.Info("dataset: "+name, "customers", g.opt.Sizes.Customers)
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	g.d.Phases = append(g.d.Phases, Row{Name: name, Unit: "s", Value: time.Since(start).Seconds()})
	return nil
}

// exec runs statements on the generator's session, in order.
func (g *generator) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := g.conn.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// fill loads the rows in one transaction: keys and indexes are dropped,
// the rows written, and the keys and indexes rebuilt before it commits.
func (g *generator) fill(ctx context.Context) error {
	if _, err := g.exec(ctx, `BEGIN`); err != nil {
		return err
	}
	restore, err := g.dropForLoad(ctx)
	if err != nil {
		return err
	}
	if err := g.setup(ctx); err != nil {
		return err
	}
	// Each step analyses what it wrote before the next reads it: the
	// tables are new to the planner inside this transaction (autovacuum
	// cannot see them), and without statistics it joins ten million
	// messages by nested loops.
	argless := func(sql string, analyse ...string) func() error {
		return func() error {
			if _, err := g.exec(ctx, sql); err != nil {
				return err
			}
			return g.analyse(ctx, analyse...)
		}
	}
	for _, s := range []struct {
		name string
		run  func() error
	}{
		{"customers", argless(datasetPeople+";"+datasetCustomers, "customers")},
		{"events", func() error { return g.events(ctx) }},
		{"consents and suppressions", argless(datasetConsents, "consents", "consent_changes", "suppressions")},
		{"journey runs", argless(datasetJourneyRuns, "journey_runs")},
		{"messages", func() error { return g.messages(ctx) }},
		{"opens and clicks", argless(datasetOpensClicks, "message_opens", "message_clicks")},
		{"bounces", argless(datasetBounces, "message_bounces")},
		{"survey answers", argless(datasetAnswers, "survey_responses")},
		{"conversions", argless(datasetConversions, "conversions")},
		{"contents and attempts", argless(datasetContents, "message_contents", "message_attempts")},
		{"indexes and keys", func() error {
			for _, ddl := range restore {
				if _, err := g.exec(ctx, ddl); err != nil {
					return fmt.Errorf("%s: %w", ddl, err)
				}
			}
			return nil
		}},
	} {
		if err := g.phase(s.name, s.run); err != nil {
			return err
		}
	}
	if _, err := g.exec(ctx, `COMMIT`); err != nil {
		return err
	}
	_, err = g.exec(ctx, `RESET ALL; DISCARD TEMP`)
	return err
}

// analyse gathers the planner's statistics of tables inside the load's
// transaction (ANALYZE, unlike VACUUM, may run in one).
func (g *generator) analyse(ctx context.Context, tables ...string) error {
	for _, t := range tables {
		if _, err := g.exec(ctx, "ANALYZE "+t); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return nil
}

// finish analyses the tables, refreshes the scores as the product does
// and counts what was written.
func (g *generator) finish(ctx context.Context) error {
	if err := g.phase("vacuum analyze", func() error {
		for _, t := range datasetTables {
			if _, err := g.exec(ctx, "VACUUM ANALYZE "+t); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := g.phase("scores", func() error {
		if _, err := g.st.RefreshScores(ctx, g.opt.Now); err != nil {
			return err
		}
		_, err := g.exec(ctx, `VACUUM ANALYZE customer_scores`)
		return err
	}); err != nil {
		return err
	}
	return countRows(ctx, g.conn, g.d.Rows)
}

// countRows counts the rows of each table a dataset fills into rows.
func countRows(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, rows map[string]int64) error {
	for _, t := range append(datasetTables, "customer_scores", "campaigns") {
		var n int64
		if err := q.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", t, err)
		}
		rows[t] = n
	}
	return nil
}

// keptDataset describes the dataset in the database of st, as
// `tidings bench dataset` left it: its sizes are its row counts, its end
// the newest message.
func keptDataset(ctx context.Context, st *store.Store) (*Dataset, error) {
	d := &Dataset{Rows: map[string]int64{}}
	if err := countRows(ctx, st.Pool(), d.Rows); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	d.Sizes = DatasetSizes{Customers: int(d.Rows["customers"]), Messages: int(d.Rows["messages"]), Events: int(d.Rows["events"])}
	if err := d.Sizes.check(); err != nil {
		return nil, fmt.Errorf("dataset: not one `tidings bench dataset` built: %w", err)
	}
	err := st.Pool().QueryRow(ctx, `
		SELECT (SELECT max(created_at) FROM messages),
		       coalesce((SELECT array_agg(name ORDER BY created_at) FROM campaigns WHERE name LIKE 'ds-%'), '{}')`).Scan(&d.Now, &d.Campaigns)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return d, nil
}

// KeptDatasetCustomers is the number of customers in the dataset kept in
// database name on the server of d's database URL: the size a scenario
// run over it has.
func KeptDatasetCustomers(ctx context.Context, d Deps, name string) (int, error) {
	dsn, err := withDatabase(d.Config.DatabaseURL, name)
	if err != nil {
		return 0, err
	}
	conn, err := store.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("dataset %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM customers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("dataset %s: %w", name, err)
	}
	return n, nil
}

// dropForLoad drops the keys, foreign keys and indexes of the dataset's
// tables (and the foreign keys pointing at them) and returns the statements
// that rebuild them, keys first and foreign keys last, so the rebuild also
// checks every reference the generated rows make.
func (g *generator) dropForLoad(ctx context.Context) ([]string, error) {
	rows, err := g.conn.Query(ctx, `
		SELECT conname, conrelid::regclass::text, contype::text, pg_get_constraintdef(oid)
		FROM pg_constraint
		WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY ($1::regclass[]) OR confrelid = ANY ($1::regclass[]))
		ORDER BY contype = 'f' DESC, conname`, datasetTables)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	type constraint struct{ Name, Table, Kind, Def string }
	cons, err := pgx.CollectRows(rows, pgx.RowToStructByPos[constraint])
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	rows, err = g.conn.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY ($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)
		ORDER BY i.indexname`, datasetTables)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	type index struct{ Name, Def string }
	idx, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	var keys, fks []string
	for _, c := range cons {
		if _, err := g.exec(ctx, "ALTER TABLE "+c.Table+" DROP CONSTRAINT "+pgx.Identifier{c.Name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop %s: %w", c.Name, err)
		}
		add := "ALTER TABLE " + c.Table + " ADD CONSTRAINT " + pgx.Identifier{c.Name}.Sanitize() + " " + c.Def
		if c.Kind == "f" {
			fks = append(fks, add)
		} else {
			keys = append(keys, add)
		}
	}
	var indexes []string
	for _, ix := range idx {
		if _, err := g.exec(ctx, "DROP INDEX "+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", ix.Name, err)
		}
		indexes = append(indexes, ix.Def)
	}
	return append(append(keys, indexes...), fks...), nil
}

// events writes signups, purchases and deliveries, then page views up to
// the requested number of events.
func (g *generator) events(ctx context.Context) error {
	n, err := g.exec(ctx, datasetHistoryEvents)
	if err != nil {
		return err
	}
	views := int64(g.opt.Sizes.Events) - n
	if views < 0 {
		return fmt.Errorf("events: %d are fewer than the %d signups, purchases and deliveries of %d customers; ask for more",
			g.opt.Sizes.Events, n, g.opt.Sizes.Customers)
	}
	if _, err := g.exec(ctx, datasetPageViews, views); err != nil {
		return err
	}
	return g.analyse(ctx, "events")
}

// messages writes the journeys' messages, then fills the rest of the
// ledger with the campaigns' sends (their entries, holdouts included,
// first).
func (g *generator) messages(ctx context.Context) error {
	sz := g.opt.Sizes
	journeys, err := g.exec(ctx, fmt.Sprintf(datasetMessages, datasetJourneyMessages), sz.Messages)
	if err != nil {
		return fmt.Errorf("journey messages: %w", err)
	}
	rest := int64(sz.Messages) - journeys
	if rest <= 0 {
		return fmt.Errorf("messages: %d leave no room for campaigns after the journeys' %d; ask for more", sz.Messages, journeys)
	}
	p := g.campaignPlan(rest)
	if _, err := g.exec(ctx, datasetEntries, p.names, p.launches, p.treated, p.strides, p.ab, p.occurrences, sz.Customers); err != nil {
		return fmt.Errorf("campaign entries: %w", err)
	}
	if err := g.analyse(ctx, "campaign_entries"); err != nil {
		return err
	}
	if _, err := g.exec(ctx, fmt.Sprintf(datasetMessages, datasetCampaignMessages), rest); err != nil {
		return fmt.Errorf("campaign messages: %w", err)
	}
	return g.analyse(ctx, "messages")
}

// datasetCampaign is one generated campaign.
type datasetCampaign struct {
	name     string
	launch   time.Time
	variants bool
}

// campaigns applies one campaign a month over the last year, through the
// product's own parser and store (as `tidings campaigns apply` stores
// them), every third an A/B test of the subject line; the newest is
// paused.
func (g *generator) campaigns(ctx context.Context) error {
	return g.phase("campaigns", func() error {
		now := g.opt.Now
		// On the 15th of each month, the newest at least two days ago.
		newest := time.Date(now.Year(), now.Month(), 15, 9, 0, 0, 0, time.UTC)
		if newest.After(now.Add(-48 * time.Hour)) {
			newest = newest.AddDate(0, -1, 0)
		}
		for i := datasetMonthsOfMessages - 1; i >= 0; i-- {
			launch := newest.AddDate(0, -i, 0)
			c := datasetCampaign{name: "ds-newsletter-" + launch.Format("2006-01"), launch: launch, variants: i%3 == 0}
			src := campaignYAML(c)
			spec, err := campaign.Parse([]byte(src), c.name+".yaml")
			if err != nil {
				return fmt.Errorf("campaign %s: %w", c.name, err)
			}
			raw, err := json.Marshal(spec)
			if err != nil {
				return err
			}
			if _, _, err := g.st.ApplyCampaign(ctx, spec.Description, spec.Trigger.Kind,
				store.CampaignVersion{Campaign: spec.Name, Source: src, Spec: raw}); err != nil {
				return err
			}
			g.campaignList = append(g.campaignList, c)
			g.d.Campaigns = append(g.d.Campaigns, c.name)
		}
		_, err := g.st.Pool().Exec(ctx, `
			UPDATE campaigns SET created_at = v.at - interval '3 days', updated_at = v.at - interval '3 days'
			FROM unnest($1::text[], $2::timestamptz[]) v(name, at) WHERE campaigns.name = v.name`,
			g.d.Campaigns, g.launches())
		if err != nil {
			return err
		}
		_, err = g.st.Pool().Exec(ctx, `UPDATE campaigns SET status = 'paused', paused_at = $2 WHERE name = $1`,
			g.d.Campaigns[len(g.d.Campaigns)-1], now.Add(-time.Hour))
		return err
	})
}

func (g *generator) launches() []time.Time {
	out := make([]time.Time, len(g.campaignList))
	for i, c := range g.campaignList {
		out[i] = c.launch
	}
	return out
}

// entryPlan is each campaign occurrence's entries, as parallel arrays.
type entryPlan struct {
	names            []string
	launches         []time.Time
	treated, strides []int64
	ab               []bool
	occurrences      []int
}

// campaignPlan shares rest sends among the campaigns (a second occurrence
// a month later when one would need more than 80% of the customers) and
// gives each occurrence a stride through the customers, coprime with their
// number, so its entries are distinct customers spread over the whole base.
func (g *generator) campaignPlan(rest int64) entryPlan {
	n, cs := int64(g.opt.Sizes.Customers), int64(len(g.campaignList))
	perCampaign := max(1, n*8/10*(datasetCampaignHoldoutEvery-1)/datasetCampaignHoldoutEvery)
	rounds := (rest + perCampaign*cs - 1) / (perCampaign * cs)
	k := cs * rounds
	var p entryPlan
	stride := int64(7_919)
	for i := range k {
		c := g.campaignList[i%cs]
		t := rest / k
		if i < rest%k {
			t++
		}
		if t == 0 {
			continue
		}
		for gcd(stride, n) != 1 {
			stride += 2
		}
		round := i / cs
		p.names, p.launches = append(p.names, c.name), append(p.launches, c.launch.AddDate(0, 0, int(round)))
		p.treated, p.strides, p.ab = append(p.treated, t), append(p.strides, stride), append(p.ab, c.variants)
		p.occurrences = append(p.occurrences, int(round)+1)
		stride += 2
	}
	return p
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// campaignYAML is a monthly newsletter's campaign file.
func campaignYAML(c datasetCampaign) string {
	var b strings.Builder
	fmt.Fprintf(&b, `name: %s
description: Newsletter of %s
audience:
  match:
    tags: newsletter
trigger:
  once: {at: "%s", local: true}
goal:
  event: purchase
  within: 7d
holdout: %d
steps:
  - send:
      id: announce
      template: spring_sale
      vars: {discount_percent: 15, ends_at: "%s"}
`, c.name, c.launch.Format("January 2006"), c.launch.Format("2006-01-02 15:04"), 100/datasetCampaignHoldoutEvery,
		c.launch.AddDate(0, 0, 10).Format(time.RFC3339))
	if c.variants {
		b.WriteString("      variants:\n        - {name: calm, percent: 50, vars: {subject_style: calm}}\n" +
			"        - {name: urgent, percent: 50, vars: {subject_style: urgent}}\n")
	}
	return b.String()
}

// KeepDataset creates the database name on the server of d's database URL,
// migrates it and generates a dataset into it, and leaves it there: one
// build of a million customers serves any number of queries, EXPLAINs and
// `tidings report` runs against it (point TIDINGS_DATABASE_URL at it).
// It refuses a database that exists.
func KeepDataset(ctx context.Context, d Deps, name string, opt DatasetOptions) (*Dataset, string, error) {
	if err := d.check(); err != nil {
		return nil, "", err
	}
	if !datasetName.MatchString(name) {
		return nil, "", fmt.Errorf("database name %q: use lower-case letters, digits and _ (at most 63)", name)
	}
	dsn, err := withDatabase(d.Config.DatabaseURL, name)
	if err != nil {
		return nil, "", err
	}
	conn, err := store.Connect(ctx, maintenanceURL(d.Config.DatabaseURL))
	if err != nil {
		return nil, "", fmt.Errorf("connect to PostgreSQL to create %s (set TIDINGS_DATABASE_URL): %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, "", fmt.Errorf("create database %s: %w", name, err)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return nil, "", fmt.Errorf("migrate %s: %w", name, err)
	}
	if opt.Log == nil {
		opt.Log = d.Log
	}
	ds, err := GenerateDataset(ctx, st, opt)
	if err != nil {
		st.Close()
		dropDatabases(maintenanceURL(d.Config.DatabaseURL), name)
		return nil, "", err
	}
	return ds, dsn, nil
}

var datasetName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
