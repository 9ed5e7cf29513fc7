package mgmt

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// CouponStore keeps the codes messages handed out; *store.Store implements it.
type CouponStore interface {
	Coupon(ctx context.Context, code string) (store.Coupon, error)
	RedeemCoupon(ctx context.Context, r store.Redemption) (store.Coupon, bool, error)
	ImportCoupons(ctx context.Context, pool string, cs []store.Coupon) (int, error)
	PoolSize(ctx context.Context, pool string) (total, unused int, err error)
}

// CouponCheck is what a shop learns of a code at the till: whether it may
// be honoured, what it is worth, until when, and for whom.
type CouponCheck struct {
	Code   string `json:"code"`
	Status string `json:"status"`
	// Value is what a pool's code is worth as the shop imported it;
	// DiscountPercent the discount a journey promised with its own codes.
	Value           string     `json:"value,omitempty"`
	DiscountPercent int        `json:"discount_percent,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	CustomerID      string     `json:"customer_id"`
	// MessageID is the ledger row of the message that carried the code,
	// Journey and Step where it came from ("campaign/NAME" for campaigns,
	// whose name is also in Campaign).
	MessageID  string     `json:"message_id"`
	Journey    string     `json:"journey"`
	Campaign   string     `json:"campaign,omitempty"`
	Step       string     `json:"step,omitempty"`
	Pool       string     `json:"pool,omitempty"`
	IssuedAt   *time.Time `json:"issued_at"`
	RedeemedAt *time.Time `json:"redeemed_at,omitempty"`
	OrderID    string     `json:"order_id,omitempty"`
}

func (s *Service) check(c store.Coupon) CouponCheck {
	campaign, _ := strings.CutPrefix(c.Journey, "campaign/")
	if campaign == c.Journey {
		campaign = ""
	}
	return CouponCheck{
		Code: c.Code, Status: c.Status(s.opt.Now()), Value: c.Value, DiscountPercent: c.DiscountPercent,
		ExpiresAt: c.ExpiresAt, CustomerID: c.CustomerID, MessageID: c.MessageID, Journey: c.Journey,
		Campaign: campaign, Step: c.Step, Pool: c.Pool, IssuedAt: c.IssuedAt, RedeemedAt: c.RedeemedAt, OrderID: c.OrderID,
	}
}

// CouponCode reads a code as customers type it (spaces around, any case)
// and refuses text no code can be, naming the field "code": codes are 3 to
// 64 letters, digits, '-' and '_'.
func CouponCode(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if n := len(c); n < 3 || n > 64 {
		return "", fieldError("code", "a coupon code has 3 to 64 characters, got %d", utf8.RuneCountInString(c))
	}
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", fieldError("code", "%q is not a coupon code: only letters A-Z, digits, '-' and '_'", code)
		}
	}
	return c, nil
}

// Coupon checks a code: valid, expired or redeemed, with its value, expiry
// and customer. A code no message carried wraps store.ErrNotFound (the
// shop's "unknown").
func (s *Service) Coupon(ctx context.Context, code string) (CouponCheck, error) {
	code, err := CouponCode(code)
	if err != nil {
		return CouponCheck{}, err
	}
	c, err := s.store.Coupon(ctx, code)
	if err != nil {
		return CouponCheck{}, unknownCoupon(code, err)
	}
	if c.IssuedAt == nil {
		return CouponCheck{}, unknownCoupon(code, store.ErrNotFound)
	}
	return s.check(c), nil
}

func unknownCoupon(code string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("coupon %s is unknown: no message Tidings sent carried it: %w", code, store.ErrNotFound)
	}
	return err
}

// Redeem is a shop honouring a code for an order.
type Redeem struct {
	Code    string
	OrderID string
	// Revenue and Currency, when the shop sends them, become the
	// conversion's revenue.
	Revenue  float64
	Currency string
}

// RedeemCoupon marks a code used for an order and records a conversion
// credited to the message that carried it, audited as coupon.redeem. It is
// idempotent per order: the same order again returns the redemption with
// false. Another order on a redeemed code wraps store.ErrCouponRedeemed,
// an expired code store.ErrCouponExpired, an unknown one store.ErrNotFound.
func (s *Service) RedeemCoupon(ctx context.Context, p access.Principal, r Redeem) (CouponCheck, bool, error) {
	var errs validate.Errors
	code, err := CouponCode(r.Code)
	if es, ok := validate.AsErrors(err); ok {
		errs = append(errs, es...)
	}
	r.OrderID = strings.TrimSpace(r.OrderID)
	switch {
	case r.OrderID == "":
		errs.Add("order_id", "required: the shop's order the code is redeemed for")
	case len(r.OrderID) > 200:
		errs.Add("order_id", "at most 200 bytes, got %d", len(r.OrderID))
	default:
		errs = append(errs, validate.Malformed("order_id", r.OrderID)...)
	}
	if r.Revenue < 0 {
		errs.Add("revenue", "must not be negative, got %v", r.Revenue)
	}
	r.Currency = strings.ToUpper(strings.TrimSpace(r.Currency))
	if r.Currency != "" && (len(r.Currency) != 3 || strings.Trim(r.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		errs.Add("currency", "an ISO 4217 code such as EUR, got %q", r.Currency)
	}
	if err := errs.Err(); err != nil {
		return CouponCheck{}, false, err
	}
	if _, err := s.Coupon(ctx, code); err != nil {
		return CouponCheck{}, false, err
	}
	if err := s.audit(ctx, p, "coupon.redeem", code, map[string]any{"order_id": r.OrderID}); err != nil {
		return CouponCheck{}, false, err
	}
	c, redeemed, err := s.store.RedeemCoupon(ctx, store.Redemption{
		Code: code, OrderID: r.OrderID, Revenue: r.Revenue, Currency: r.Currency, At: s.opt.Now(),
	})
	if err != nil {
		return CouponCheck{}, false, unknownCoupon(code, err)
	}
	return s.check(c), redeemed, nil
}

// MaxPoolImport bounds the rows of one pool import.
const MaxPoolImport = 100_000

// CouponImport is what importing codes into a pool did, row by row.
type CouponImport struct {
	Pool string `json:"pool"`
	// Rows were read; Imported are new in the pool; Known were stored
	// already (imported before, or issued) and left as they were.
	Rows     int          `json:"rows"`
	Imported int          `json:"imported"`
	Known    int          `json:"known"`
	Rejected []RowProblem `json:"rejected"`
	// Total and Unused are the pool's codes after the import, and how many
	// of them no message has drawn yet.
	Total  int `json:"total"`
	Unused int `json:"unused"`
}

// RowProblem is one rejected row of an imported file.
type RowProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p RowProblem) String() string { return fmt.Sprintf("%d: %s: %s", p.Line, p.Field, p.Message) }

// PoolName checks a pool's name: lower-case letters, digits, '-' and '_',
// up to 64, as campaigns name it in vars (coupon_pool: summer-sale).
func PoolName(pool string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(pool))
	if err := spec.CheckPool(p); err != nil {
		return "", fieldError("pool", "%v", err)
	}
	return p, nil
}

// ImportCoupons adds a shop's own codes to a pool from CSV: a header naming
// code (required), value and expires_at (RFC 3339, or a date: valid
// through that day, UTC), or a plain list of codes one per line. Every row
// is checked on its own; rejected rows are reported with their line and
// the good ones imported regardless, in one statement. Audited as
// coupon.import. A file that cannot be read at all is a field error on
// "file"; nothing is imported then.
func (s *Service) ImportCoupons(ctx context.Context, p access.Principal, pool string, in io.Reader) (CouponImport, error) {
	pool, err := PoolName(pool)
	if err != nil {
		return CouponImport{}, err
	}
	rows, rejected, err := readCouponRows(in)
	if err != nil {
		return CouponImport{}, err
	}
	out := CouponImport{Pool: pool, Rows: len(rows) + len(rejected), Rejected: rejected}
	if out.Rejected == nil {
		out.Rejected = []RowProblem{}
	}
	if err := s.audit(ctx, p, "coupon.import", pool, map[string]any{"rows": out.Rows, "rejected": len(rejected)}); err != nil {
		return CouponImport{}, err
	}
	if len(rows) > 0 {
		if out.Imported, err = s.store.ImportCoupons(ctx, pool, rows); err != nil {
			return CouponImport{}, err
		}
	}
	out.Known = len(rows) - out.Imported
	if out.Total, out.Unused, err = s.store.PoolSize(ctx, pool); err != nil {
		return CouponImport{}, err
	}
	return out, nil
}

// PoolSize counts a pool's codes and how many no message has drawn yet.
func (s *Service) PoolSize(ctx context.Context, pool string) (CouponImport, error) {
	pool, err := PoolName(pool)
	if err != nil {
		return CouponImport{}, err
	}
	total, unused, err := s.store.PoolSize(ctx, pool)
	if err != nil {
		return CouponImport{}, err
	}
	if total == 0 {
		return CouponImport{}, fmt.Errorf("coupon pool %q has no codes: %w", pool, store.ErrNotFound)
	}
	return CouponImport{Pool: pool, Total: total, Unused: unused, Rejected: []RowProblem{}}, nil
}

// readCouponRows parses an import file into good rows and rejected ones.
func readCouponRows(in io.Reader) ([]store.Coupon, []RowProblem, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = false
	cols := map[string]int{"code": 0}
	var (
		rows     []store.Coupon
		rejected []RowProblem
		seen     = map[string]int{}
	)
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, fieldError("file", "line %d is not CSV: %v", line, err)
		}
		if first && (len(rec) > 1 || strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "code")) {
			cols = map[string]int{}
			for i, h := range rec {
				cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
			}
			if _, ok := cols["code"]; !ok {
				return nil, nil, fieldError("file", "the header has no code column (got %s); name the columns code[,value,expires_at]", strings.Join(rec, ", "))
			}
			continue
		}
		if len(rows)+len(rejected) >= MaxPoolImport {
			return nil, nil, fieldError("file", "more than %d rows; split the file", MaxPoolImport)
		}
		cell := func(name string) string {
			if i, ok := cols[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		c, field, err := couponRow(cell("code"), cell("value"), cell("expires_at"))
		if err == nil {
			if prev, dup := seen[c.Code]; dup {
				field, err = "code", fmt.Errorf("%s repeats line %d", c.Code, prev)
			}
		}
		if err != nil {
			rejected = append(rejected, RowProblem{Line: line, Field: field, Message: err.Error()})
			continue
		}
		seen[c.Code] = line
		rows = append(rows, c)
	}
	if len(rows)+len(rejected) == 0 {
		return nil, nil, fieldError("file", "no codes: expected a header code[,value,expires_at] and a code per line")
	}
	return rows, rejected, nil
}

// couponRow checks one row, naming the field at fault.
func couponRow(code, value, expires string) (store.Coupon, string, error) {
	code, err := CouponCode(code)
	if err != nil {
		es, _ := validate.AsErrors(err)
		return store.Coupon{}, "code", errors.New(es[0].Message)
	}
	if len(value) > 100 {
		return store.Coupon{}, "value", fmt.Errorf("at most 100 bytes, got %d", len(value))
	}
	if es := validate.Malformed("value", value); len(es) > 0 {
		return store.Coupon{}, "value", errors.New(es[0].Message)
	}
	c := store.Coupon{Code: code, Value: value}
	if expires != "" {
		at, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			day, derr := time.Parse(time.DateOnly, expires)
			if derr != nil {
				return store.Coupon{}, "expires_at", fmt.Errorf("%q is neither RFC 3339 (2026-12-31T23:59:59Z) nor a date (2026-12-31)", expires)
			}
			at = day.AddDate(0, 0, 1) // valid through the day
		}
		c.ExpiresAt = &at
	}
	return c, "", nil
}
