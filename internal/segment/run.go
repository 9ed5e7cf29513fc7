package segment

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidingsdev/tidings/internal/names"
)

// DB is what this package needs of a connection; *pgxpool.Pool, *pgx.Conn
// and pgx.Tx all satisfy it.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Option adjusts how a segment is evaluated.
type Option func(*options)

type options struct{ now time.Time }

// At evaluates relative conditions (within 30d, ages, lifecycle stages) as of
// t rather than the current time: dry runs, reports and tests pin the clock.
func At(t time.Time) Option { return func(o *options) { o.now = t } }

func evalOptions(opts []Option) options {
	o := options{now: time.Now()}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// Count returns how many customers the segment holds.
func Count(ctx context.Context, db DB, def *Definition, opts ...Option) (int64, error) {
	o := evalOptions(opts)
	where, args, err := def.Compile(o.now)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.QueryRow(ctx, "SELECT count(*) FROM "+From+" WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count segment %s: %w", def.Name, err)
	}
	return n, nil
}

// Contains reports whether one customer is in the segment now; campaign
// branches use it to decide a step for a single customer.
func Contains(ctx context.Context, db DB, def *Definition, customerID string, opts ...Option) (bool, error) {
	o := evalOptions(opts)
	where, args, err := def.CompileAfter(o.now, []any{customerID})
	if err != nil {
		return false, err
	}
	var in bool
	err = db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+From+" WHERE c.id = $1::uuid AND "+where+")", args...).Scan(&in)
	if err != nil {
		return false, fmt.Errorf("check customer %s in segment %s: %w", customerID, def.Name, err)
	}
	return in, nil
}

// Page returns up to limit member IDs after the ID after (empty for the first
// page), in ID order. A campaign send pages its audience with it and keeps
// the last ID as its cursor, so a resumed send continues where it stopped.
func Page(ctx context.Context, db DB, def *Definition, after string, limit int, opts ...Option) ([]string, error) {
	o := evalOptions(opts)
	pre, cursor := []any{limit}, "TRUE"
	if after != "" {
		pre, cursor = append(pre, after), "c.id > $2::uuid"
	}
	where, args, err := def.CompileAfter(o.now, pre)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `
		SELECT c.id::text FROM `+From+`
		WHERE `+cursor+` AND `+where+`
		ORDER BY c.id LIMIT $1`, args...)
	if err != nil {
		return nil, fmt.Errorf("page segment %s after %q: %w", def.Name, after, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("page segment %s after %q: %w", def.Name, after, err)
	}
	return ids, nil
}

// Member is one customer of a segment as a preview shows it: who they are,
// where and when they are, and the fields segments most often filter on.
type Member struct {
	ID         string `db:"id" json:"id"`
	ExternalID string `db:"external_id" json:"external_id"`
	// Name is the full name (names.Full), from FirstName and LastName.
	Name           string     `db:"-" json:"name"`
	FirstName      string     `db:"first_name" json:"-"`
	LastName       string     `db:"last_name" json:"-"`
	Locale         string     `db:"locale" json:"locale"`
	TimeZone       string     `db:"time_zone" json:"time_zone"`
	Country        string     `db:"country" json:"country"`
	OrdersCount    int        `db:"orders_count" json:"orders_count"`
	TotalSpent     float64    `db:"total_spent" json:"total_spent"`
	LastPurchaseAt *time.Time `db:"last_purchase_at" json:"last_purchase_at,omitempty"`
	Recency        *int       `db:"recency" json:"rfm_recency,omitempty"`
	Frequency      *int       `db:"frequency" json:"rfm_frequency,omitempty"`
	Monetary       *int       `db:"monetary" json:"rfm_monetary,omitempty"`
	ValueTier      *string    `db:"value_tier" json:"value_tier,omitempty"`
	Lifecycle      string     `db:"lifecycle" json:"lifecycle"`
	Bucket         int        `db:"bucket" json:"bucket"`
}

// Sample returns up to n members. Customer IDs are random UUIDs, so the
// first n in ID order are an unbiased, repeatable sample.
func Sample(ctx context.Context, db DB, def *Definition, n int, opts ...Option) ([]Member, error) {
	o := evalOptions(opts)
	where, args, err := def.CompileAfter(o.now, []any{n})
	if err != nil {
		return nil, err
	}
	c := &compiler{now: o.now, args: args, cutoffs: map[time.Time]string{}}
	stage := c.lifecycleCase()
	rows, err := db.Query(ctx, `
		SELECT c.id::text AS id, c.external_id, c.first_name, c.last_name,
			c.locale, c.time_zone, c.country, c.orders_count, c.total_spent::float8 AS total_spent,
			c.last_purchase_at, cs.recency::int AS recency, cs.frequency::int AS frequency,
			cs.monetary::int AS monetary, cs.value_tier, `+stage+` AS lifecycle, c.bucket::int AS bucket
		FROM `+From+`
		WHERE `+where+`
		ORDER BY c.id LIMIT $1`, c.args...)
	if err != nil {
		return nil, fmt.Errorf("sample segment %s: %w", def.Name, err)
	}
	members, err := pgx.CollectRows(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return nil, fmt.Errorf("sample segment %s: %w", def.Name, err)
	}
	for i := range members {
		members[i].Name = names.Full(members[i].FirstName, members[i].LastName)
	}
	return members, nil
}
