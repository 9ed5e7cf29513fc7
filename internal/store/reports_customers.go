package store

import (
	"context"
	"time"
)

// RetentionCell counts the customers of a first-purchase cohort (a month,
// 2026-03) who purchased in the month Offset months after it; Offset 0 is
// the cohort's size.
type RetentionCell struct {
	Cohort    string `db:"cohort"`
	Offset    int    `db:"month_offset"`
	Customers int    `db:"customers"`
}

// RetentionCells counts, for every customer whose first purchase fell in
// [since, until), the months (UTC) in which they purchased before until,
// by cohort and months since the cohort. The first purchase is the
// customer's first_purchase_at, so imported history counts; later
// purchases are purchase events. The cohorts and months the refresh kept
// (retention_months) are read from there.
func (s *Store) RetentionCells(ctx context.Context, since, until time.Time) (cells []RetentionCell, err error) {
	err = s.readKept(ctx, keptRetention, func(tx querier, through *time.Time) error {
		from, to := monthSpan(since, until, through)
		cells, err = list[RetentionCell](ctx, tx, "retention", retentionCells, since, until, from, to,
			from.Format(time.DateOnly), to.Format(time.DateOnly))
		return err
	})
	return cells, err
}

// keepRetentionMonths is the refresh's retention_months: each cohort's size
// and the customers of it who purchased in each later month, for the
// complete months before $1.
const keepRetentionMonths = `
INSERT INTO retention_months (cohort, month, customers)
WITH cut AS (
    SELECT date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS t
), cohort AS (
    SELECT id AS customer_id, date_trunc('month', first_purchase_at AT TIME ZONE 'UTC')::date AS month
    FROM customers WHERE first_purchase_at < (SELECT t FROM cut)
), bought AS (
    SELECT DISTINCT customer_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date AS month
    FROM events WHERE type = 'purchase' AND occurred_at < (SELECT t FROM cut)
)
SELECT month, month, count(*) FROM cohort GROUP BY 1
UNION ALL
SELECT c.month, b.month, count(*)
FROM cohort c JOIN bought b ON b.customer_id = c.customer_id AND b.month > c.month
GROUP BY 1, 2`

// retentionCells adds the kept cohorts and months [$3, $4) to what is
// counted live: the cohorts outside them (live_cohort, with all their
// purchases in the period), and the kept cohorts' purchases from $4 on.
const retentionCells = `
WITH live_cohort AS (
    SELECT id AS customer_id, date_trunc('month', first_purchase_at AT TIME ZONE 'UTC') AS month
    FROM customers
    WHERE first_purchase_at >= $1 AND first_purchase_at < $3 OR first_purchase_at >= $4 AND first_purchase_at < $2
), bought AS (
    SELECT DISTINCT c.customer_id, c.month AS cohort, date_trunc('month', e.occurred_at AT TIME ZONE 'UTC') AS month
    FROM live_cohort c
    JOIN events e ON e.customer_id = c.customer_id AND e.type = 'purchase' AND e.occurred_at >= $1 AND e.occurred_at < $2
    UNION
    SELECT e.customer_id, date_trunc('month', c.first_purchase_at AT TIME ZONE 'UTC'),
        date_trunc('month', e.occurred_at AT TIME ZONE 'UTC')
    FROM events e JOIN customers c ON c.id = e.customer_id
    WHERE e.type = 'purchase' AND e.occurred_at >= $4 AND e.occurred_at < $2
      AND c.first_purchase_at >= $3 AND c.first_purchase_at < $4
), cells AS (
    SELECT cohort::timestamp AS cohort, month::timestamp AS month, customers
    FROM retention_months WHERE cohort >= $5::date AND cohort < $6::date AND month < $6::date
    UNION ALL
    SELECT month, month, count(*) FROM live_cohort GROUP BY 1
    UNION ALL
    SELECT cohort, month, count(*) FROM bought WHERE month > cohort GROUP BY 1, 2
)
SELECT to_char(cohort, 'YYYY-MM') AS cohort,
    ((extract(year FROM month) - extract(year FROM cohort)) * 12
        + extract(month FROM month) - extract(month FROM cohort))::int AS month_offset,
    sum(customers)::int AS customers
FROM cells
GROUP BY 1, 2
ORDER BY 1, 2`

// ChurnCount is one period of the churn report. A customer is active at a
// moment when they purchased in the days before it; ActiveAtStart were
// active at the period's start, Churned of those are not at its end, and
// Gained were active at the end but not at the start (new or returning).
type ChurnCount struct {
	Start         time.Time `db:"start" json:"start"`
	End           time.Time `db:"end" json:"end"`
	ActiveAtStart int       `db:"active_at_start" json:"active_at_start"`
	Churned       int       `db:"churned" json:"churned"`
	ActiveAtEnd   int       `db:"active_at_end" json:"active_at_end"`
	Gained        int       `db:"gained" json:"gained"`
}

// ChurnKeptDays is the window whose monthly churn counts the refresh keeps:
// the churn report's default. Other windows are counted live.
const ChurnKeptDays = 90

// churnKeptMonths is how many complete months before a refresh it keeps
// the churn counts of: the default period's and one more.
const churnKeptMonths = 13

// ChurnCounts counts, for each period [starts[i], ends[i]), the customers
// active (a purchase event within days before the moment) at its start and
// at its end. Periods without customers are returned with zero counts. A
// calendar month the refresh kept (churn_months, for ChurnKeptDays) is
// read from there; so is the refresh's month up to its moment, which a
// period of that month ending later corrects by only the customers whose
// activity can have changed since (churnSince).
func (s *Store) ChurnCounts(ctx context.Context, starts, ends []time.Time, days int) (counts []ChurnCount, err error) {
	err = s.readKept(ctx, keptChurn, func(tx querier, through *time.Time) error {
		kept := map[int64]ChurnCount{}
		if days == ChurnKeptDays && through != nil {
			rows, err := list[ChurnCount](ctx, tx, "kept churn", `
				SELECT month::timestamp AT TIME ZONE 'UTC' AS start,
					least((month + interval '1 month')::timestamp AT TIME ZONE 'UTC', $2) AS "end",
					active_at_start, churned, active_at_end, gained
				FROM churn_months WHERE days = $1`, days, *through)
			if err != nil {
				return err
			}
			for _, r := range rows {
				kept[r.Start.Unix()] = r
			}
		}
		// keptAt is the kept counts period i starts from, and whether they
		// end where it does.
		keptAt := func(i int) (k ChurnCount, ok, exact bool) {
			k, ok = kept[starts[i].Unix()]
			switch {
			case ok && k.End.Equal(ends[i]):
				return k, true, true
			case ok && k.End.Equal(*through) && ends[i].After(k.End) && !ends[i].After(monthOf(k.Start).AddDate(0, 1, 0)):
				return k, true, false
			}
			return ChurnCount{}, false, false
		}
		var liveStarts, liveEnds []time.Time
		for i := range starts {
			if _, ok, _ := keptAt(i); !ok {
				liveStarts, liveEnds = append(liveStarts, starts[i]), append(liveEnds, ends[i])
			}
		}
		var live []ChurnCount
		if len(liveStarts) > 0 {
			if live, err = list[ChurnCount](ctx, tx, "churn", churnCounts("$1", "$2", "$3"), liveStarts, liveEnds, days); err != nil {
				return err
			}
		}
		counts = make([]ChurnCount, 0, len(starts))
		for i := range starts {
			k, ok, exact := keptAt(i)
			switch {
			case !ok:
				k, live = live[0], live[1:]
			case !exact:
				d, err := get[ChurnCount](ctx, tx, "churn since the refresh", churnSince, k.Start, k.End, ends[i], days)
				if err != nil {
					return err
				}
				k.End, k.Churned, k.ActiveAtEnd, k.Gained = ends[i], k.Churned+d.Churned, k.ActiveAtEnd+d.ActiveAtEnd, k.Gained+d.Gained
			}
			counts = append(counts, k)
		}
		return nil
	})
	return counts, err
}

// churnSince is how the counts of the period [$1, $2) for the window of $4
// days change when it ends at $3 instead: activity at the start is the
// same, and a customer's at the end can differ only when they purchased in
// [$2, $3) or in the days dropping out of the window, [$2 − $4, $3 − $4).
// Over those few customers, looked up by the index on a customer's events,
// it is their counts at $3 less their counts at $2 (start, churned and
// active_at_start are unused).
var churnSince = `
WITH changed AS (
	SELECT DISTINCT customer_id FROM events
	WHERE type = 'purchase' AND (
		occurred_at >= $2::timestamptz - make_interval(days => $4) AND occurred_at < $3::timestamptz - make_interval(days => $4)
		OR occurred_at >= $2 AND occurred_at < $3)
), per AS (
	SELECT ` + activeAt("$1") + ` AS s, ` + activeAt("$2") + ` AS t, ` + activeAt("$3") + ` AS u
	FROM changed c
)
SELECT $1::timestamptz AS start, $3::timestamptz AS "end", 0 AS active_at_start,
	(count(*) FILTER (WHERE s AND NOT u) - count(*) FILTER (WHERE s AND NOT t))::int AS churned,
	(count(*) FILTER (WHERE u) - count(*) FILTER (WHERE t))::int AS active_at_end,
	(count(*) FILTER (WHERE u AND NOT s) - count(*) FILTER (WHERE t AND NOT s))::int AS gained
FROM per`

// activeAt is whether the customer c.customer_id purchased in the $4 days
// before the moment at.
func activeAt(at string) string {
	return `EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.type = 'purchase'
		AND e.occurred_at >= ` + at + `::timestamptz - make_interval(days => $4) AND e.occurred_at < ` + at + `)`
}

// keptChurnMonths are the calendar months whose churn counts a refresh at
// at keeps: the churnKeptMonths complete ones before at's.
func keptChurnMonths(at time.Time) (starts, ends []time.Time) {
	m := monthOf(at)
	for i := churnKeptMonths; i >= 1; i-- {
		starts, ends = append(starts, m.AddDate(0, -i, 0)), append(ends, m.AddDate(0, 1-i, 0))
	}
	return starts, ends
}

// keepChurnMonths is the refresh's churn_months: the counts of the months
// starting at $2 and ending at $3 (all before $1) for the window $4, and of
// $1's month up to $1 (a ChurnCounts reader ends it at the refresh's time).
var keepChurnMonths = `
INSERT INTO churn_months (month, days, active_at_start, churned, active_at_end, gained)
SELECT (c.start AT TIME ZONE 'UTC')::date, $4, c.active_at_start, c.churned, c.active_at_end, c.gained
FROM (` + churnCounts(
	`array_append($2::timestamptz[], date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`,
	`array_append($3::timestamptz[], $1::timestamptz)`, "$4") + `) c
WHERE c."end" <= $1 AND c."end" > c.start`

// churnCounts counts the periods starting at the array parameter starts
// and ending at ends for a window of days, as ChurnCounts defines them.
func churnCounts(starts, ends, days string) string {
	return `
		WITH periods AS (
			SELECT s AS start, e AS "end" FROM unnest(` + starts + `::timestamptz[], ` + ends + `::timestamptz[]) AS p(s, e)
		), per AS (
			SELECT p.start, p."end", ev.customer_id,
				bool_or(ev.occurred_at < p.start) AS at_start,
				bool_or(ev.occurred_at >= p."end" - make_interval(days => ` + days + `)) AS at_end
			FROM periods p
			JOIN events ev ON ev.type = 'purchase'
				AND ev.occurred_at >= p.start - make_interval(days => ` + days + `) AND ev.occurred_at < p."end"
			GROUP BY 1, 2, 3
		)
		SELECT p.start, p."end",
			count(per.customer_id) FILTER (WHERE per.at_start)::int AS active_at_start,
			count(per.customer_id) FILTER (WHERE per.at_start AND NOT per.at_end)::int AS churned,
			count(per.customer_id) FILTER (WHERE per.at_end)::int AS active_at_end,
			count(per.customer_id) FILTER (WHERE per.at_end AND NOT per.at_start)::int AS gained
		FROM periods p LEFT JOIN per ON per.start = p.start
		GROUP BY 1, 2 ORDER BY 1`
}
