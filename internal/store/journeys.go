package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// JourneyRun is one claimed run of a per-customer journey.
type JourneyRun struct {
	Journey    string     `db:"journey" json:"journey"`
	RunID      string     `db:"run_id" json:"run_id"`
	CustomerID string     `db:"customer_id" json:"customer_id"`
	Trigger    string     `db:"trigger" json:"trigger,omitempty"`
	StartedAt  time.Time  `db:"started_at" json:"started_at"`
	EndedAt    *time.Time `db:"ended_at" json:"ended_at,omitempty"`
	Outcome    string     `db:"outcome" json:"outcome,omitempty"`
}

// ClaimJourneyRun records that run r starts, unless another run of the same
// journey for the same customer started within window before r.StartedAt
// (window <= 0: ever). It reports whether r may go on. Claiming the same run
// again returns true, so a retried activity is harmless. Concurrent claims for
// one customer are serialised by an advisory lock, so two events arriving at
// once still start one journey.
func (s *Store) ClaimJourneyRun(ctx context.Context, r JourneyRun, window time.Duration) (bool, error) {
	var claimed bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"journey/"+r.Journey+"/"+r.CustomerID); err != nil {
			return err
		}
		var mine, blocked bool
		err := tx.QueryRow(ctx, `
			SELECT
				EXISTS (SELECT 1 FROM journey_runs WHERE journey = $1 AND run_id = $2),
				EXISTS (SELECT 1 FROM journey_runs
				        WHERE journey = $1 AND customer_id = $3 AND run_id <> $2
				          AND ($5::float8 <= 0 OR started_at > $4::timestamptz - make_interval(secs => $5::float8)))`,
			r.Journey, r.RunID, r.CustomerID, r.StartedAt, window.Seconds()).Scan(&mine, &blocked)
		if err != nil {
			return err
		}
		if mine {
			claimed = true
			return nil
		}
		if blocked {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO journey_runs (journey, run_id, customer_id, trigger, started_at)
			VALUES ($1, $2, $3, $4, $5)`,
			r.Journey, r.RunID, r.CustomerID, r.Trigger, r.StartedAt)
		claimed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim %s run %s of %s: %w", r.Journey, r.RunID, r.CustomerID, err)
	}
	return claimed, nil
}

// FinishJourneyRun records how a run ended. Finishing twice keeps the first
// outcome.
func (s *Store) FinishJourneyRun(ctx context.Context, journey, runID, outcome string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE journey_runs SET ended_at = $3, outcome = $4
		WHERE journey = $1 AND run_id = $2 AND ended_at IS NULL`,
		journey, runID, at, outcome)
	if err != nil {
		return fmt.Errorf("finish %s run %s: %w", journey, runID, err)
	}
	return nil
}

// OpenJourneys returns which of the given journeys the customer is in: a
// run claimed and not yet finished. The router asks before it signals, so
// an event for a customer in none of them costs no call to Temporal.
func (s *Store) OpenJourneys(ctx context.Context, customerID string, journeys []string) ([]string, error) {
	return listValues[string](ctx, s.pool, fmt.Sprintf("open journeys of %s", customerID), `
		SELECT DISTINCT journey FROM journey_runs
		WHERE journey = ANY ($2) AND customer_id = $1 AND ended_at IS NULL`, customerID, journeys)
}

// RefusedStarts returns which of the given journeys would refuse a new run
// of the customer now: a run started within the journey's window (0:
// ever), as ClaimJourneyRun counts it, and none still open (an open run
// hears the event instead). The router asks before it starts a journey, so
// a repeat purchase within the cross-sell's 30 days costs no call to
// Temporal.
func (s *Store) RefusedStarts(ctx context.Context, customerID string, windows map[string]time.Duration, now time.Time) ([]string, error) {
	journeys := make([]string, 0, len(windows))
	secs := make([]float64, 0, len(windows))
	for j, w := range windows {
		journeys, secs = append(journeys, j), append(secs, w.Seconds())
	}
	rows, err := s.pool.Query(ctx, `
		SELECT w.journey FROM unnest($2::text[], $3::float8[]) AS w(journey, secs)
		WHERE EXISTS (SELECT 1 FROM journey_runs r
		              WHERE r.journey = w.journey AND r.customer_id = $1
		                AND (w.secs <= 0 OR r.started_at > $4::timestamptz - make_interval(secs => w.secs)))
		  AND NOT EXISTS (SELECT 1 FROM journey_runs r
		                  WHERE r.journey = w.journey AND r.customer_id = $1 AND r.ended_at IS NULL)`,
		customerID, journeys, secs, now)
	if err != nil {
		return nil, fmt.Errorf("refused starts of %s: %w", customerID, err)
	}
	refused, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("refused starts of %s: %w", customerID, err)
	}
	return refused, nil
}

// journeyRunColumns selects a JourneyRun.
const journeyRunColumns = `journey, run_id, customer_id::text AS customer_id, trigger, started_at, ended_at, outcome`

// JourneyRuns lists a customer's runs of a journey, newest first.
func (s *Store) JourneyRuns(ctx context.Context, journey, customerID string) ([]JourneyRun, error) {
	return list[JourneyRun](ctx, s.pool, fmt.Sprintf("list %s runs of %s", journey, customerID), `
		SELECT `+journeyRunColumns+`
		FROM journey_runs
		WHERE journey = $1 AND customer_id = $2
		ORDER BY started_at DESC`, journey, customerID)
}

// Conversion is a journey reaching its goal, credited to the step before it.
type Conversion struct {
	Journey     string    `db:"journey" json:"journey"`
	RunID       string    `db:"run_id" json:"run_id"`
	CustomerID  string    `db:"customer_id" json:"customer_id"`
	Step        string    `db:"step" json:"step"`
	EventID     string    `db:"event_id" json:"event_id,omitempty"`
	Revenue     float64   `db:"revenue" json:"revenue"`
	Currency    string    `db:"currency" json:"currency,omitempty"`
	ConvertedAt time.Time `db:"converted_at" json:"converted_at"`
}

// insertConversion records a conversion once per (journey, run).
const insertConversion = `
	INSERT INTO conversions (journey, run_id, customer_id, step, event_id, revenue, currency, converted_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (journey, run_id) DO NOTHING`

// RecordConversion stores a run's conversion; a run converts once, so
// recording it again changes nothing.
func (s *Store) RecordConversion(ctx context.Context, c Conversion) error {
	_, err := s.pool.Exec(ctx, insertConversion,
		c.Journey, c.RunID, c.CustomerID, c.Step, c.EventID, c.Revenue, c.Currency, c.ConvertedAt)
	if err != nil {
		return fmt.Errorf("record %s conversion of %s: %w", c.Journey, c.CustomerID, err)
	}
	return nil
}

// conversionColumns selects a Conversion.
const conversionColumns = `journey, run_id, customer_id::text AS customer_id, step, event_id,
	revenue::float8 AS revenue, currency, converted_at`

// BirthdayCursor is the keyset position of a date sweep (birthdays, purchase
// anniversaries), in the order of its month-day index.
type BirthdayCursor struct {
	MonthDay int    `json:"month_day"`
	ID       string `json:"id"`
}

// BirthdayCandidate is a customer to greet now, with the local year the
// greeting belongs to and how many years the occasion marks (an age, or
// years since the first purchase).
type BirthdayCandidate struct {
	ID        string `db:"id"`
	MonthDay  int    `db:"month_day"`
	LocalYear int    `db:"local_year"`
	Years     int    `db:"years"`
}

// BirthdayQuery asks for the next page of customers whose occasion it is in
// their own time zone at At, whose local clock has reached SendMinute (minutes
// after local midnight: 540 is 09:00), and who have no final ledger row under
// KeyPrefix+id+"/"+local year yet. A row still queued (deferred, or a crash
// mid-send) does not count, so the send path gets to finish it.
type BirthdayQuery struct {
	At         time.Time
	SendMinute int
	KeyPrefix  string
	After      BirthdayCursor
	Limit      int
}

// datePageSQL pages the customers whose month-day column md is their local
// date at $1; since is the year the occasion began, which must lie in an
// earlier local year. It uses the column's (md, id) index twice over:
// md = ANY narrows to the two or three month-days that are "today"
// somewhere on Earth, and the row comparison continues the keyset in index
// order. Only those rows are then checked against each customer's own local
// date. Feb 29 occasions fall on Feb 28 in common years.
func datePageSQL(md, since string) string {
	return `
SELECT id, month_day, local_year, local_year - since_year AS years FROM (
	SELECT c.id::text AS id, c.` + md + ` AS month_day, l.ts,
		extract(year FROM l.ts)::int AS local_year,
		(extract(month FROM l.ts) * 100 + extract(day FROM l.ts))::int AS local_md,
		` + since + ` AS since_year
	FROM customers c
	CROSS JOIN LATERAL (SELECT $1::timestamptz AT TIME ZONE c.time_zone AS ts) l
	WHERE c.` + md + ` = ANY ($2::smallint[])
	  AND (c.` + md + `, c.id) > ($3::smallint, $4::uuid)
	ORDER BY c.` + md + `, c.id
) t
WHERE extract(hour FROM ts) * 60 + extract(minute FROM ts) >= $5
  AND (month_day = local_md
       OR (month_day = 229 AND local_md = 228
           AND NOT (local_year % 4 = 0 AND (local_year % 100 <> 0 OR local_year % 400 = 0))))
  AND local_year > since_year
  AND NOT EXISTS (SELECT 1 FROM messages m
                  WHERE m.idempotency_key = $6 || t.id || '/' || t.local_year AND m.status <> 'queued')
ORDER BY month_day, id
LIMIT $7`
}

// BirthdayPageSQL and AnniversaryPageSQL are exported so their plans can be
// checked with EXPLAIN.
var (
	BirthdayPageSQL    = datePageSQL("birthday_md", "extract(year FROM c.birthday)::int")
	AnniversaryPageSQL = datePageSQL("first_purchase_md", "extract(year FROM c.first_purchase_at AT TIME ZONE c.time_zone)::int")
)

// BirthdayPage returns the next page of customers to greet, in index order;
// the last candidate's MonthDay and ID are the cursor of the next page, and a
// page shorter than Limit is the last.
func (s *Store) BirthdayPage(ctx context.Context, q BirthdayQuery) ([]BirthdayCandidate, error) {
	return s.datePage(ctx, "birthdays", BirthdayPageSQL, q)
}

// AnniversaryPage is BirthdayPage for the anniversary of the first purchase,
// in the customer's time zone.
func (s *Store) AnniversaryPage(ctx context.Context, q BirthdayQuery) ([]BirthdayCandidate, error) {
	return s.datePage(ctx, "purchase anniversaries", AnniversaryPageSQL, q)
}

func (s *Store) datePage(ctx context.Context, what, query string, q BirthdayQuery) ([]BirthdayCandidate, error) {
	after := q.After
	if after.ID == "" {
		after.ID = firstID
	}
	return list[BirthdayCandidate](ctx, s.pool, fmt.Sprintf("page %s at %s", what, q.At.Format(time.RFC3339)), query,
		q.At, BirthdayMonthDays(q.At), after.MonthDay, after.ID, q.SendMinute, q.KeyPrefix, q.Limit)
}

// BirthdayMonthDays lists the month-days (month*100+day) that are a local
// date somewhere on Earth at instant at: the UTC date and the days either
// side (zones span UTC-12 to UTC+14). Feb 29 joins Feb 28 in non-leap years.
func BirthdayMonthDays(at time.Time) []int16 {
	at = at.UTC()
	var out []int16
	for _, d := range []int{-1, 0, 1} {
		day := at.AddDate(0, 0, d)
		out = append(out, int16(int(day.Month())*100+day.Day()))
		if day.Month() == time.February && day.Day() == 28 && !isLeap(day.Year()) {
			out = append(out, 229)
		}
	}
	return out
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// LapsedQuery asks for the next page of customers whose last purchase is
// before LastPurchaseBefore and who have run the journey neither since
// NoRunSince nor without ending.
type LapsedQuery struct {
	Journey            string
	LastPurchaseBefore time.Time
	NoRunSince         time.Time
	After              string
	Limit              int
}

// LapsedCustomers returns the IDs of the next page of lapsed customers in ID
// order (keyset pagination: pass the last ID back as After).
func (s *Store) LapsedCustomers(ctx context.Context, q LapsedQuery) ([]string, error) {
	return s.idPage(ctx, "lapsed customers", `
		SELECT c.id::text
		FROM customers c
		WHERE c.id > $1 AND c.last_purchase_at < $2
		  AND NOT EXISTS (SELECT 1 FROM journey_runs r
		                  WHERE r.journey = $3 AND r.customer_id = c.id
		                    AND (r.started_at >= $4 OR r.ended_at IS NULL))
		ORDER BY c.id
		LIMIT $5`, q.After, q.LastPurchaseBefore, q.Journey, q.NoRunSince, q.Limit)
}

// AudienceQuery asks for the next page of an audience: every customer, or
// those carrying Tag, leaving out those who already have a ledger row under
// KeyPrefix+id with a final status (sent, skipped or failed in an earlier pass
// of the same run); a row still queued was deferred and is due again.
type AudienceQuery struct {
	Tag       string
	KeyPrefix string
	After     string
	Limit     int
	// Since limits AudienceTally to rows created from then on.
	Since time.Time
}

// AudiencePage returns the next page of customer IDs in ID order.
func (s *Store) AudiencePage(ctx context.Context, q AudienceQuery) ([]string, error) {
	return s.idPage(ctx, "audience", `
		SELECT c.id::text
		FROM customers c
		WHERE c.id > $1
		  AND ($2 = '' OR c.tags @> ARRAY[$2])
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.idempotency_key = $3 || c.id AND m.status <> 'queued')
		ORDER BY c.id
		LIMIT $4`, q.After, q.Tag, q.KeyPrefix, q.Limit)
}

// AudienceTally counts the audience's ledger rows under KeyPrefix+id created
// since Since, by status: what a run has done, whichever attempt or pass did
// it. Each row is found through the unique key index, so it costs one lookup
// per customer.
func (s *Store) AudienceTally(ctx context.Context, q AudienceQuery) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT m.status, count(*)
		FROM customers c
		JOIN messages m ON m.idempotency_key = $2 || c.id
		WHERE ($1 = '' OR c.tags @> ARRAY[$1]) AND m.created_at >= $3
		GROUP BY m.status`, q.Tag, q.KeyPrefix, q.Since)
	if err != nil {
		return nil, fmt.Errorf("tally %s: %w", q.KeyPrefix, err)
	}
	out := map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tally %s: %w", q.KeyPrefix, err)
	}
	return out, nil
}

// firstID sorts before every customer ID: the keyset start.
const firstID = "00000000-0000-0000-0000-000000000000"

// idPage runs a keyset page query whose first argument is the last ID of the
// previous page ("" for the first page) and which selects IDs.
func (s *Store) idPage(ctx context.Context, what, query string, after string, args ...any) ([]string, error) {
	if after == "" {
		after = firstID
	}
	return listValues[string](ctx, s.pool, fmt.Sprintf("page %s after %s", what, after), query, append([]any{after}, args...)...)
}

// RunsInFlight counts, by journey, the runs claimed and not finished: the
// customers in each per-customer journey now.
func (s *Store) RunsInFlight(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT journey, count(*) FROM journey_runs WHERE ended_at IS NULL GROUP BY journey`)
	if err != nil {
		return nil, fmt.Errorf("count runs in flight: %w", err)
	}
	out := map[string]int{}
	var journey string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&journey, &n}, func() error {
		out[journey] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count runs in flight: %w", err)
	}
	return out, nil
}
