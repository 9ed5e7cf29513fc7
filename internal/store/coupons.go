package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Coupon errors callers match with errors.Is.
var (
	// ErrCouponRedeemed: the code was redeemed already, for another order.
	ErrCouponRedeemed = errors.New("coupon already redeemed")
	// ErrCouponExpired: the code's validity ended before the redemption.
	ErrCouponExpired = errors.New("coupon expired")
	// ErrPoolExhausted: every code of a pool was issued (or it has none), so
	// a message that was to carry one cannot be sent.
	ErrPoolExhausted = errors.New("coupon pool exhausted")
)

// Coupon states, as GET /v1/coupons/{code} reports them.
const (
	CouponValid    = "valid"
	CouponExpired  = "expired"
	CouponRedeemed = "redeemed"
	CouponUnknown  = "unknown"
)

// Coupon is one code a message handed out (or, in a pool, may hand out).
type Coupon struct {
	Code string `db:"code" json:"code"`
	// Pool is the imported pool the code came from; "" for codes Tidings
	// derived for the message.
	Pool            string     `db:"pool" json:"pool,omitempty"`
	Value           string     `db:"value" json:"value,omitempty"`
	DiscountPercent int        `db:"discount_percent" json:"discount_percent,omitempty"`
	ExpiresAt       *time.Time `db:"expires_at" json:"expires_at,omitempty"`
	CustomerID      string     `db:"customer_id" json:"customer_id,omitempty"`
	// MessageID is the ledger row of the message that carried the code.
	MessageID  string     `db:"message_id" json:"message_id,omitempty"`
	Journey    string     `db:"journey" json:"journey,omitempty"`
	Step       string     `db:"step" json:"step,omitempty"`
	IssuedAt   *time.Time `db:"issued_at" json:"issued_at,omitempty"`
	RedeemedAt *time.Time `db:"redeemed_at" json:"redeemed_at,omitempty"`
	OrderID    string     `db:"order_id" json:"order_id,omitempty"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
}

// Status is the code's state at now: an imported code no message has
// carried yet is unknown, since no customer holds it.
func (c Coupon) Status(now time.Time) string {
	switch {
	case c.IssuedAt == nil:
		return CouponUnknown
	case c.RedeemedAt != nil:
		return CouponRedeemed
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return CouponExpired
	}
	return CouponValid
}

const couponColumns = `code, pool, value, discount_percent, expires_at,
	coalesce(customer_id::text, '') AS customer_id, coalesce(message_id::text, '') AS message_id,
	journey, step, issued_at, redeemed_at, order_id, created_at`

// IssueCoupons stores the codes messages are about to carry. A code that is
// stored already keeps its first issue (a retried send, or the SMS that
// repeats an email's code), so issuing is idempotent.
func (s *Store) IssueCoupons(ctx context.Context, cs []Coupon) error {
	if len(cs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, c := range cs {
		b.Queue(`
			INSERT INTO coupons (code, discount_percent, expires_at, customer_id, message_id, journey, step, issued_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (code) DO NOTHING`,
			c.Code, c.DiscountPercent, c.ExpiresAt, c.CustomerID, c.MessageID, c.Journey, c.Step, c.IssuedAt)
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("issue %d coupons: %w", len(cs), err)
	}
	return nil
}

// CouponDraw asks for one unused code of Pool for a message.
type CouponDraw struct {
	Pool       string
	MessageID  string
	CustomerID string
	Journey    string
	Step       string
	At         time.Time
}

// DrawCoupon gives the message an unused code of its pool, or the code it
// drew before (a retried send). Concurrent draws skip each other's locked
// rows, so no two messages get the same code and none waits for another.
// A pool with no unused code is ErrPoolExhausted, naming the pool.
func (s *Store) DrawCoupon(ctx context.Context, d CouponDraw) (Coupon, error) {
	cs, err := list[Coupon](ctx, s.pool, fmt.Sprintf("draw a coupon of pool %q", d.Pool), `
		WITH mine AS (
			SELECT `+couponColumns+` FROM coupons WHERE pool = $1 AND message_id = $2
		), picked AS (
			SELECT code FROM coupons
			WHERE pool = $1 AND message_id IS NULL AND NOT EXISTS (SELECT 1 FROM mine)
			ORDER BY created_at, code
			LIMIT 1
			FOR UPDATE SKIP LOCKED
		), drawn AS (
			UPDATE coupons SET message_id = $2, customer_id = $3, journey = $4, step = $5, issued_at = $6
			WHERE code = (SELECT code FROM picked)
			RETURNING `+couponColumns+`
		)
		SELECT * FROM mine UNION ALL SELECT * FROM drawn`,
		d.Pool, d.MessageID, d.CustomerID, d.Journey, d.Step, d.At)
	if err != nil {
		return Coupon{}, err
	}
	if len(cs) > 0 {
		return cs[0], nil
	}
	total, _, err := s.PoolSize(ctx, d.Pool)
	if err != nil {
		return Coupon{}, err
	}
	if total == 0 {
		return Coupon{}, fmt.Errorf("%w: pool %q has no codes; import some with `tidings coupons import %s FILE.csv`", ErrPoolExhausted, d.Pool, d.Pool)
	}
	return Coupon{}, fmt.Errorf("%w: all %d codes of pool %q are issued; import more", ErrPoolExhausted, total, d.Pool)
}

// PoolSize counts a pool's codes and how many of them are still unused.
func (s *Store) PoolSize(ctx context.Context, pool string) (total, unused int, err error) {
	err = s.pool.QueryRow(ctx, `
		SELECT count(*)::int, count(*) FILTER (WHERE message_id IS NULL)::int FROM coupons WHERE pool = $1`, pool).Scan(&total, &unused)
	if err != nil {
		return 0, 0, fmt.Errorf("count pool %q: %w", pool, err)
	}
	return total, unused, nil
}

// ImportCoupons adds a shop's codes to a pool in one statement and returns
// how many were new; a code already known (in any pool, or issued) is left
// as it is.
func (s *Store) ImportCoupons(ctx context.Context, pool string, cs []Coupon) (int, error) {
	codes, values, expiries := make([]string, len(cs)), make([]string, len(cs)), make([]*time.Time, len(cs))
	for i, c := range cs {
		codes[i], values[i], expiries[i] = c.Code, c.Value, c.ExpiresAt
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO coupons (code, pool, value, expires_at, created_at)
		SELECT code, $1, value, expires_at, clock_timestamp()
		FROM unnest($2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY AS t(code, value, expires_at, n)
		ORDER BY n
		ON CONFLICT (code) DO NOTHING`, pool, codes, values, expiries)
	if err != nil {
		return 0, fmt.Errorf("import %d codes into pool %q: %w", len(cs), pool, err)
	}
	return int(tag.RowsAffected()), nil
}

// Coupon finds a code (ErrNotFound when it was never stored).
func (s *Store) Coupon(ctx context.Context, code string) (Coupon, error) {
	c, err := rowOf[Coupon](ctx, s.pool, `SELECT `+couponColumns+` FROM coupons WHERE code = $1`, code)
	if errors.Is(err, ErrNotFound) {
		return Coupon{}, fmt.Errorf("coupon %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return Coupon{}, fmt.Errorf("find coupon %s: %w", code, err)
	}
	return c, nil
}

// Redemption is a shop honouring a code for an order.
type Redemption struct {
	Code    string
	OrderID string
	// Revenue and Currency are the order's, credited to the conversion.
	Revenue  float64
	Currency string
	At       time.Time
}

// RedeemCoupon marks the code used for the order and, in the same
// transaction, records a conversion credited to the journey and step of the
// message that carried it (run "coupon:CODE", so it counts once). The same
// order again changes nothing and returns false; another order is
// ErrCouponRedeemed, an expired code ErrCouponExpired, a code no message
// carried ErrNotFound.
func (s *Store) RedeemCoupon(ctx context.Context, r Redemption) (Coupon, bool, error) {
	var (
		c   Coupon
		now bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = rowOf[Coupon](ctx, tx, `SELECT `+couponColumns+` FROM coupons WHERE code = $1 FOR UPDATE`, r.Code)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("coupon %s: %w", r.Code, ErrNotFound)
		}
		if err != nil {
			return err
		}
		switch c.Status(r.At) {
		case CouponUnknown:
			return fmt.Errorf("coupon %s was not issued to anyone: %w", r.Code, ErrNotFound)
		case CouponRedeemed:
			if c.OrderID == r.OrderID {
				return nil
			}
			return fmt.Errorf("%w: %s was redeemed for order %q at %s", ErrCouponRedeemed, r.Code, c.OrderID, c.RedeemedAt.UTC().Format(time.RFC3339))
		case CouponExpired:
			return fmt.Errorf("%w: %s expired at %s", ErrCouponExpired, r.Code, c.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if _, err := tx.Exec(ctx, `UPDATE coupons SET redeemed_at = $2, order_id = $3 WHERE code = $1`, r.Code, r.At, r.OrderID); err != nil {
			return err
		}
		if c.CustomerID != "" && c.Journey != "" {
			if _, err := tx.Exec(ctx, insertConversion, c.Journey, "coupon:"+c.Code, c.CustomerID, c.Step,
				"order:"+r.OrderID, r.Revenue, r.Currency, r.At); err != nil {
				return err
			}
		}
		at := r.At
		c.RedeemedAt, c.OrderID, now = &at, r.OrderID, true
		return nil
	})
	if err != nil {
		return Coupon{}, false, fmt.Errorf("redeem coupon %s: %w", r.Code, err)
	}
	return c, now, nil
}

// tallyRedemptions adds to each arm of a campaign's report the coupons its
// messages carried that were redeemed, counted for the arm of the
// customer's entry as the messages are.
func (s *Store) tallyRedemptions(ctx context.Context, campaign string, arm func(variant string, rollout bool) *CampaignArm) error {
	type tally struct {
		Variant string `db:"variant"`
		Rollout bool   `db:"rollout"`
		N       int    `db:"n"`
	}
	ts, err := list[tally](ctx, s.pool, "report campaign "+campaign+" redemptions", `
		SELECT COALESCE(e.variant, CASE WHEN position(':' IN c.step) > 0 THEN split_part(c.step, ':', 2) ELSE '' END) AS variant,
			COALESCE(e.rollout, false) AS rollout, count(*)::int AS n
		FROM coupons c LEFT JOIN LATERAL (`+entryArm+`) e ON true
		WHERE c.journey = $1 AND c.redeemed_at IS NOT NULL
		GROUP BY 1, 2`, "campaign/"+campaign, campaign)
	if err != nil {
		return err
	}
	for _, t := range ts {
		arm(t.Variant, t.Rollout).Redeemed += t.N
	}
	return nil
}
