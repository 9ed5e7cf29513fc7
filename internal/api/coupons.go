package api

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/validate"
)

// couponCode reads the {code} of the path; text no code can be is a 400
// naming "code", before anything is looked up.
func couponCode(r *http.Request) (string, error) {
	code, err := mgmt.CouponCode(r.PathValue("code"))
	if es, ok := validate.AsErrors(err); ok {
		return "", malformed("", es)
	}
	return code, err
}

// couponError maps what the coupon functions refuse: unknown 404, a code
// redeemed for another order or expired 409, naming the field at fault.
func couponError(err error) error {
	switch {
	case errors.Is(err, store.ErrCouponRedeemed):
		return errorf(http.StatusConflict, codeConflict, "order_id", "%v", err)
	case errors.Is(err, store.ErrCouponExpired):
		return errorf(http.StatusConflict, codeConflict, "code", "%v", err)
	}
	return outcome(err, "code")
}

// getCoupon is GET /v1/coupons/{code}: valid, expired or redeemed, with
// value, expiry and customer; a code no message carried is a 404.
func (s *Server) getCoupon(w http.ResponseWriter, r *http.Request) error {
	code, err := couponCode(r)
	if err != nil {
		return err
	}
	c, err := s.mgmt.Coupon(r.Context(), code)
	return respond(w, c, couponError(err))
}

// redeemBody is the body of POST /v1/coupons/{code}/redeem.
type redeemBody struct {
	OrderID  string  `json:"order_id"`
	Revenue  float64 `json:"revenue,omitempty"`
	Currency string  `json:"currency,omitempty"`
}

type redeemResult struct {
	mgmt.CouponCheck
	// Created is false when this order had redeemed the code before.
	Created bool `json:"created"`
}

// redeemCoupon is POST /v1/coupons/{code}/redeem: 201 when the order
// redeems the code now, 200 when it had already (nothing changes), 409 when
// another order did or the code expired.
func (s *Server) redeemCoupon(w http.ResponseWriter, r *http.Request) error {
	code, err := couponCode(r)
	if err != nil {
		return err
	}
	var body redeemBody
	if err := decode(r, &body); err != nil {
		return err
	}
	c, created, err := s.mgmt.RedeemCoupon(r.Context(), principal(r), mgmt.Redeem{
		Code: code, OrderID: body.OrderID, Revenue: body.Revenue, Currency: body.Currency,
	})
	if err != nil {
		return couponError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return answer(w, status, redeemResult{CouponCheck: c, Created: created})
}

// csvTypes are the media types a pool's codes may be sent as.
var csvTypes = map[string]bool{"text/csv": true, "text/plain": true, "application/csv": true}

// importCoupons is POST /v1/coupon-pools/{pool}/codes: the shop's own codes
// as CSV (code[,value,expires_at]); good rows are imported whatever the
// others, and each rejected row is reported with its line.
func (s *Server) importCoupons(w http.ResponseWriter, r *http.Request) error {
	body, err := rawBody(r, csvTypes, "send the codes as text/csv")
	if err != nil {
		return err
	}
	res, err := s.mgmt.ImportCoupons(r.Context(), principal(r), r.PathValue("pool"), bytes.NewReader(body))
	return respond(w, res, outcome(err, "pool"))
}

// getPool is GET /v1/coupon-pools/{pool}: how many codes it has and how
// many no message has drawn yet.
func (s *Server) getPool(w http.ResponseWriter, r *http.Request) error {
	res, err := s.mgmt.PoolSize(r.Context(), r.PathValue("pool"))
	return respond(w, res, outcome(err, "pool"))
}
