package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidingsdev/tidings/internal/access"
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
