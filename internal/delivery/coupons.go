package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// Template variables the send path reads to hand out coupons.
const (
	// VarCoupon is the code a message carries ({{coupon .Vars.coupon}}).
	VarCoupon = "coupon"
	// VarCouponPool names an imported pool: the send path draws an unused
	// code from it for the message and sets VarCoupon.
	VarCouponPool = "coupon_pool"
	// VarDiscount is the discount in percent the code is worth.
	VarDiscount = "discount_percent"
)

// DefaultCouponValidity is how long a code Tidings derives stays valid.
const DefaultCouponValidity = 30 * 24 * time.Hour

// CouponCode derives the code for a message's business key:
// PREFIX-XXXXXXXXXX from an HMAC of the key, unique per key in practice,
// the same however often it is derived, and unguessable without the secret.
func CouponCode(secret []byte, prefix, key string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("coupon\x00" + key)) // domain-separated from link signing
	code := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))[:10]
	if prefix == "" {
		return code
	}
	return strings.ToUpper(prefix) + "-" + code
}

// derivedFor reports whether code is the one CouponCode gives for key. Only
// such codes are stored as the message's own: a code written into a
// campaign by hand ("SPRING-10") is shared by everyone who got it.
func (s *Service) derivedFor(code, key string) bool {
	if len(s.opt.CouponSecret) == 0 {
		return false
	}
	prefix := ""
	if i := strings.LastIndexByte(code, '-'); i >= 0 {
		prefix = code[:i]
	}
	return hmac.Equal([]byte(CouponCode(s.opt.CouponSecret, prefix, key)), []byte(code))
}

// percent reads the discount from template data that may have come
// through JSON (float64) or straight from Go (int).
func percent(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	case int64:
		return int(n)
	}
	return 0
}

// drawCoupons gives every item whose data names a coupon pool a code of
// its own, before it is rendered: the same code on every retry of the
// message. Items whose key was settled before draw nothing. It returns the
// items that go on to be rendered and those that failed for good because
// their pool has no unused code; items that hit temporary trouble get their
// error and are dropped.
func (w *wave) drawCoupons(ctx context.Context, items []*item) (ready, failed []*item) {
	var pooled []*item
	for _, it := range items {
		if pool, _ := it.req.Data[VarCouponPool].(string); pool != "" {
			pooled = append(pooled, it)
		} else {
			ready = append(ready, it)
		}
	}
	if len(pooled) == 0 {
		return ready, nil
	}
	keys := make([]string, len(pooled))
	for k, it := range pooled {
		keys[k] = it.req.IdempotencyKey
	}
	settled, err := w.svc.store.MessagesByKey(ctx, keys)
	if err != nil {
		w.fail(pooled, err)
		return ready, nil
	}
	for _, it := range pooled {
		if m, ok := settled[it.req.IdempotencyKey]; ok && m.Status != store.StatusQueued {
			ready = append(ready, it) // a duplicate: reserving it reports the first outcome
			continue
		}
		pool := it.req.Data[VarCouponPool].(string)
		c, err := w.svc.store.DrawCoupon(ctx, store.CouponDraw{
			Pool: pool, MessageID: it.row.ID, CustomerID: it.row.CustomerID,
			Journey: it.req.Journey, Step: it.req.Step, At: w.now,
		})
		switch {
		case errors.Is(err, store.ErrPoolExhausted):
			it.row.Status, it.row.Reason = store.StatusFailed, err.Error()
			it.err = &PermanentError{Type: TypeCouponPoolExhausted, Err: err}
			failed = append(failed, it)
		case err != nil:
			w.errs[it.i] = err
		default:
			data := maps.Clone(it.req.Data)
			data[VarCoupon] = c.Code
			it.req.Data = data
			ready = append(ready, it)
		}
	}
	return ready, failed
}

// issueCoupons stores the codes Tidings derived for the messages about to go
// out, with the ledger row that carries each, before any is handed over: a
// shop can check a code as soon as a customer can hold it.
func (w *wave) issueCoupons(ctx context.Context, items []*item) error {
	var cs []store.Coupon
	for _, it := range items {
		code, _ := it.req.Data[VarCoupon].(string)
		if code == "" || it.req.ToAddress != "" || !w.svc.derivedFor(code, it.req.IdempotencyKey) {
			continue
		}
		issued, expires := w.now, w.now.Add(w.svc.opt.CouponValidity)
		cs = append(cs, store.Coupon{
			Code: code, DiscountPercent: min(max(percent(it.req.Data[VarDiscount]), 0), 100),
			CustomerID: it.row.CustomerID, MessageID: it.row.ID, Journey: it.req.Journey, Step: it.req.Step,
			IssuedAt: &issued, ExpiresAt: &expires,
		})
	}
	if err := w.svc.store.IssueCoupons(ctx, cs); err != nil {
		return fmt.Errorf("issue coupons: %w", err)
	}
	return nil
}

// SampleCouponData is data as a template will see it once the send path has
// drawn the pool's code: a check or preview renders with a stand-in code
// (POOL-SAMPLE) where a real send would draw one. Data without a pool is
// returned as is.
func SampleCouponData(data map[string]any) map[string]any {
	pool, _ := data[VarCouponPool].(string)
	if pool == "" {
		return data
	}
	out := maps.Clone(data)
	out[VarCoupon] = strings.ToUpper(pool) + "-SAMPLE"
	return out
}
