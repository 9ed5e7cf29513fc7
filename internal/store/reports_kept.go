package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The reports whose daily tallies the refresh keeps (report_tallies.report).
const (
	keptSurveys   = "surveys"
	keptDelivery  = "delivery"
	keptRetention = "retention"
	keptChurn     = "churn"
)

// KeptTallies says how many daily tally rows a refresh wrote per report.
type KeptTallies struct {
	SurveyRows    int64 `json:"survey_rows"`
	DeliveryRows  int64 `json:"delivery_rows"`
	RetentionRows int64 `json:"retention_rows"`
	ChurnRows     int64 `json:"churn_rows"`
	// AcquisitionRows are days × sources, ValueRows groups of buyers.
	AcquisitionRows int64 `json:"acquisition_rows"`
	ValueRows       int64 `json:"value_rows"`
}

// KeepReportTallies rewrites the daily tallies of the NPS, CSAT and
// deliverability reports from everything before at, so those reports sum
// kept days and count live only what came after at (and the parts of days
// their period cuts), and the retention and churn counts of the complete
// months before at (and churn's of at's month so far); and the
// acquisition report's days and the customer value report's groups as of
// at. Each report's rows and its time are replaced in one transaction, so
// a report reads either the old tallies or the new ones.
func (s *Store) KeepReportTallies(ctx context.Context, at time.Time) (KeptTallies, error) {
	var k KeptTallies
	var err error
	if k.SurveyRows, err = s.keepTallies(ctx, keptSurveys, "survey_days", keepSurveyDays, at); err != nil {
		return KeptTallies{}, err
	}
	if k.DeliveryRows, err = s.keepTallies(ctx, keptDelivery, "delivery_days", keepDeliveryDays, at); err != nil {
		return KeptTallies{}, err
	}
	if k.RetentionRows, err = s.keepTallies(ctx, keptRetention, "retention_months", keepRetentionMonths, at); err != nil {
		return KeptTallies{}, err
	}
	starts, ends := keptChurnMonths(at)
	if k.ChurnRows, err = s.keepTallies(ctx, keptChurn, "churn_months", keepChurnMonths, at, starts, ends, ChurnKeptDays); err != nil {
		return KeptTallies{}, err
	}
	if k.AcquisitionRows, err = s.keepTallies(ctx, keptAcquisition, "acquisition_days", keepAcquisitionDays, at); err != nil {
		return KeptTallies{}, err
	}
	if k.ValueRows, err = s.keepWith(ctx, keptValue, "value_tallies", at, keepValueTallies); err != nil {
		return KeptTallies{}, err
	}
	return k, nil
}

func (s *Store) keepTallies(ctx context.Context, report, table, insert string, at time.Time, args ...any) (int64, error) {
	return s.keepWith(ctx, report, table, at, func(ctx context.Context, tx pgx.Tx, at time.Time) (int64, error) {
		tag, err := tx.Exec(ctx, insert, append([]any{at}, args...)...)
		return tag.RowsAffected(), err
	})
}

// keepWith replaces table's rows by those write inserts as of at, and
// report's time, in one transaction.
func (s *Store) keepWith(ctx context.Context, report, table string, at time.Time, write func(ctx context.Context, tx pgx.Tx, at time.Time) (int64, error)) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Never past the database's clock: a row written after the refresh
		// but stamped before a future at would be neither kept nor live.
		if err := tx.QueryRow(ctx, `SELECT least($1::timestamptz, now())`, at).Scan(&at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+table); err != nil {
			return err
		}
		var err error
		if n, err = write(ctx, tx, at); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO report_tallies (report, through) VALUES ($1, $2)
			ON CONFLICT (report) DO UPDATE SET through = excluded.through`, report, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("keep %s tallies: %w", report, err)
	}
	return n, nil
}

// keptSpan is how a report over [since, until) divides between the kept
// daily tallies and what it counts live: kept days [days0, days1) (the last
// one ends at the refresh's time when the refresh ran that day), live
// [since, live1) and [live2, until). Without kept days everything is live.
type keptSpan struct {
	since, live1, live2, until time.Time
	days0, days1               string
}

// spanOf divides [since, until) for tallies kept through through (nil: no
// refresh has kept any).
func spanOf(since, until time.Time, through *time.Time) keptSpan {
	none := keptSpan{since: since, live1: until, live2: until, until: until, days0: "1970-01-01", days1: "1970-01-01"}
	if through == nil {
		return none
	}
	d0 := ceilDay(since)
	d1, live2 := floorDay(until), floorDay(until)
	if through.Before(d1) {
		d1, live2 = ceilDay(*through), *through
	}
	if !live2.After(d0) {
		return none
	}
	return keptSpan{since: since, live1: d0, live2: live2, until: until,
		days0: d0.Format(time.DateOnly), days1: d1.Format(time.DateOnly)}
}

// monthSpan divides [since, until) for monthly counts kept through
// through: kept are the cohorts or periods of the months [from, to), and
// every month from to on is counted live, as is the part of since's month
// when since is not its first day. Without kept months from = to = until.
func monthSpan(since, until time.Time, through *time.Time) (from, to time.Time) {
	if through == nil {
		return until, until
	}
	from, to = monthOf(since), monthOf(until)
	if from.Before(since) {
		from = from.AddDate(0, 1, 0)
	}
	if through.Before(until) {
		to = monthOf(*through)
	}
	if !to.After(from) {
		return until, until
	}
	return from, to
}

func floorDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func ceilDay(t time.Time) time.Time {
	d := floorDay(t)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// live is the condition that expr falls in a span's live parts, with the
// span's four times as parameters $first to $first+3 (keptArgs).
func live(expr string, first int) string {
	return fmt.Sprintf("(%[1]s >= $%[2]d AND %[1]s < $%[3]d OR %[1]s >= $%[4]d AND %[1]s < $%[5]d)",
		expr, first, first+1, first+2, first+3)
}

// keptArgs are a span's parameters: the live parts' four times, then the
// kept days' bounds.
func (sp keptSpan) args() []any {
	return []any{sp.since, sp.live1, sp.live2, sp.until, sp.days0, sp.days1}
}

// readKept reads a report's kept tallies and its live rows in one snapshot,
// so a refresh committing meanwhile cannot make a day count twice or not
// at all.
func (s *Store) readKept(ctx context.Context, report string, fn func(q querier, through *time.Time) error) error {
	return s.readReport(ctx, func(tx pgx.Tx) error {
		var through *time.Time
		err := tx.QueryRow(ctx, `SELECT through FROM report_tallies WHERE report = $1`, report).Scan(&through)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read %s tallies' time: %w", report, err)
		}
		return fn(tx, through)
	})
}

// readReport runs a report's queries in a read-only snapshot without JIT
// compilation: the planner's estimates for a report's grouped joins run
// far above the rows they meet, and compiling for them cost more than the
// query itself (3 of the retention triangle's 3.6 s over 100,000
// customers).
func (s *Store) readReport(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		return fn(tx)
	})
}
