package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/mgmt"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/templates"
)

// shop is the API beside the real send path and the birthday sweep's
// activity, over PostgreSQL and an in-process SMTP server; the API's clock
// is the shop's till, which a test may move.
type shop struct {
	*testAPI
	svc   *delivery.Service
	acts  *activities.Activities
	sink  *smtpsink.Sink
	clock *testClock
}

const couponSecret = "coupon-test-secret"

func newShop(t *testing.T) *shop {
	t.Helper()
	clk := &testClock{t: time.Now()}
	sh := &shop{clock: clk}
	sh.testAPI = newAPI(t, false, func(o *Options) { o.Now = clk.Now })
	sink, mailer, set := startMail(t)
	sh.sink = sink
	var err error
	sh.svc, err = delivery.New(sh.store, set, mailer, nil, delivery.Options{
		DefaultLocale: "en", PublicURL: sh.http.URL,
		Company: templates.Company{Name: "Harbour & Pine", PostalAddress: "1 Harbour Road, Hong Kong"},
		Signer:  token.NewSigner("test-secret-at-least-16"), CouponSecret: []byte(couponSecret),
	})
	if err != nil {
		t.Fatal(err)
	}
	sh.acts = activities.New(sh.store, sh.svc, nil, activities.Settings{CouponSecret: []byte(couponSecret)})
	return sh
}

// birthdayCustomer is a London customer born on 15 June who allowed
// marketing email.
func (sh *shop) birthdayCustomer(t *testing.T, ext string) string {
	t.Helper()
	id := sh.customer(ext, map[string]any{"email": strings.ToLower(ext) + "@example.com", "first_name": "Ann",
		"time_zone": "Europe/London", "birthday": "1990-06-15"})
	if _, err := sh.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: id, Channel: "email", Topic: "marketing",
		Status: store.Granted, Source: "signup_form"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// sweep runs one page of the birthday sweep at 11:00 in London on 15 June
// 2026, as the worker runs the activity.
func (sh *shop) sweep(t *testing.T) activities.BirthdayBatchResult {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(sh.acts)
	v, err := env.ExecuteActivity(sh.acts.BirthdayBatch, activities.BirthdayBatchInput{
		At: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), SendMinute: 540, DiscountPercent: 15, BatchSize: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.BirthdayBatchResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

var couponInMail = regexp.MustCompile(`BDAY-[A-Z2-7]{10}`)

// mailedCoupon is the code the customer reads in the last email that arrived.
func (sh *shop) mailedCoupon(t *testing.T) string {
	t.Helper()
	msgs := sh.sink.Messages()
	if len(msgs) == 0 {
		t.Fatal("no email arrived")
	}
	code := couponInMail.FindString(parseMail(t, msgs[len(msgs)-1].Data).Text)
	if code == "" {
		t.Fatalf("the email shows no BDAY- coupon:\n%s", parseMail(t, msgs[len(msgs)-1].Data).Text)
	}
	return code
}

func (sh *shop) coupon(t *testing.T, code string) (int, mgmt.CouponCheck, []byte) {
	t.Helper()
	status, body := sh.do(http.MethodGet, "/v1/coupons/"+code, nil)
	var c mgmt.CouponCheck
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
	}
	return status, c, body
}

func TestBirthdayCouponIsStoredCheckedAndRedeemedOnce(t *testing.T) {
	sh := newShop(t)
	ctx := t.Context()
	ann := sh.birthdayCustomer(t, "C-ann")
	if res := sh.sweep(t); res.Counts.Sent != 1 {
		t.Fatalf("sweep %+v, want Ann greeted", res.Counts)
	}
	code := sh.mailedCoupon(t)

	// The till checks the code the customer shows, in whatever case she types it.
	status, c, body := sh.coupon(t, strings.ToLower(code))
	if status != http.StatusOK {
		t.Fatalf("GET coupon: %d %s", status, body)
	}
	msgID := delivery.MessageID("birthday/" + ann + "/2026")
	if c.Code != code || c.Status != store.CouponValid || c.CustomerID != ann || c.DiscountPercent != 15 ||
		c.MessageID != msgID || c.Journey != "birthday" || c.ExpiresAt == nil {
		t.Fatalf("coupon %s, want %s valid, 15%% off, for Ann, carried by %s, with an expiry", body, code, msgID)
	}
	if d := c.ExpiresAt.Sub(*c.IssuedAt); d != delivery.DefaultCouponValidity {
		t.Errorf("valid for %s, want %s", d, delivery.DefaultCouponValidity)
	}

	// A second sweep (a retry) sends nothing and issues nothing new.
	if res := sh.sweep(t); res.Counts.Sent != 0 {
		t.Fatalf("second sweep sent %+v", res.Counts)
	}
	var n int
	if err := sh.store.Pool().QueryRow(ctx, `SELECT count(*) FROM coupons`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d coupons stored (%v), want 1", n, err)
	}

	// Redeeming twice for the same order is one redemption and one conversion.
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		status, body := sh.do(http.MethodPost, "/v1/coupons/"+code+"/redeem", map[string]any{"order_id": "10042", "revenue": 59.9, "currency": "eur"})
		if status != want {
			t.Fatalf("redeem #%d: %d %s, want %d", i+1, status, body, want)
		}
	}
	convs, err := sh.store.Conversions(ctx, "birthday")
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || convs[0].CustomerID != ann || convs[0].Step != "greeting" || convs[0].Revenue != 59.9 || convs[0].Currency != "EUR" {
		t.Fatalf("conversions %+v, want one for Ann's greeting worth 59.90 EUR", convs)
	}
	if _, c, _ := sh.coupon(t, code); c.Status != store.CouponRedeemed || c.OrderID != "10042" {
		t.Errorf("after redemption: %+v, want redeemed for order 10042", c)
	}
	// Another order on the redeemed code is a conflict naming the order.
	status, body = sh.do(http.MethodPost, "/v1/coupons/"+code+"/redeem", map[string]any{"order_id": "10043"})
	if e := apiError(t, body); status != http.StatusConflict || e.Field != "order_id" || !strings.Contains(e.Message, "10042") {
		t.Errorf("redeem for another order: %d %s, want 409 naming order_id and the first order", status, body)
	}
	if convs, _ := sh.store.Conversions(ctx, "birthday"); len(convs) != 1 {
		t.Errorf("%d conversions after the refused redemption, want 1", len(convs))
	}
	entries, err := sh.store.AuditEntries(ctx, store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	redeems := 0
	for _, e := range entries {
		if e.Action == "coupon.redeem" && e.Target == code {
			redeems++
		}
	}
	if redeems == 0 {
		t.Errorf("no coupon.redeem in the audit log: %+v", entries)
	}
}

func TestExpiredUnknownAndMalformedCoupons(t *testing.T) {
	sh := newShop(t)
	sh.birthdayCustomer(t, "C-bo")
	sh.sweep(t)
	code := sh.mailedCoupon(t)

	// 31 days later the code is expired and cannot be redeemed.
	sh.clock.Set(time.Now().Add(delivery.DefaultCouponValidity + 24*time.Hour))
	if status, c, body := sh.coupon(t, code); status != http.StatusOK || c.Status != store.CouponExpired {
		t.Errorf("expired code: %d %s, want 200 expired", status, body)
	}
	status, body := sh.do(http.MethodPost, "/v1/coupons/"+code+"/redeem", map[string]any{"order_id": "7"})
	if e := apiError(t, body); status != http.StatusConflict || e.Field != "code" || !strings.Contains(e.Message, "expired") {
		t.Errorf("redeem expired: %d %s, want 409 saying it expired", status, body)
	}

	// A well-formed code no message carried (a forged one) is unknown.
	forged := "BDAY-" + strings.Repeat("A", 10)
	status, _, body = sh.coupon(t, forged)
	if e := apiError(t, body); status != http.StatusNotFound || e.Field != "code" || !strings.Contains(e.Message, "unknown") {
		t.Errorf("unknown code: %d %s, want 404 saying it is unknown", status, body)
	}
	status, body = sh.do(http.MethodPost, "/v1/coupons/"+forged+"/redeem", map[string]any{"order_id": "7"})
	if status != http.StatusNotFound {
		t.Errorf("redeem unknown: %d %s, want 404", status, body)
	}
	// Text no code can be is refused before any lookup, naming the field.
	for _, bad := range []string{"BDAY-%27%3B--", "AB", strings.Repeat("X", 65)} {
		status, body := sh.do(http.MethodGet, "/v1/coupons/"+bad, nil)
		if e := apiError(t, body); status != http.StatusBadRequest || e.Field != "code" {
			t.Errorf("GET /v1/coupons/%s: %d %s, want 400 naming code", bad, status, body)
		}
	}
	// A redemption needs an order.
	sh.clock.Set(time.Now())
	status, body = sh.do(http.MethodPost, "/v1/coupons/"+code+"/redeem", map[string]any{"order_id": " "})
	if e := apiError(t, body); status != http.StatusUnprocessableEntity || e.Field != "order_id" {
		t.Errorf("redeem without order: %d %s, want 422 naming order_id", status, body)
	}
	if _, c, _ := sh.coupon(t, code); c.Status != store.CouponValid {
		t.Errorf("the refused requests changed the code: %+v", c)
	}
}

// Erasure keeps the code redeemable: the shop's till does not need the
// person, only the code, and the conversion keeps the customer ID.
func TestErasedCustomersCouponStillRedeems(t *testing.T) {
	sh := newShop(t)
	ann := sh.birthdayCustomer(t, "C-erase")
	sh.sweep(t)
	code := sh.mailedCoupon(t)
	if err := sh.store.EraseCustomer(t.Context(), ann); err != nil {
		t.Fatal(err)
	}
	if status, c, body := sh.coupon(t, code); status != http.StatusOK || c.Status != store.CouponValid || c.CustomerID != ann {
		t.Fatalf("after erasure: %d %s, want the code valid for the same customer ID", status, body)
	}
	if status, body := sh.do(http.MethodPost, "/v1/coupons/"+code+"/redeem", map[string]any{"order_id": "A-1"}); status != http.StatusCreated {
		t.Fatalf("redeem after erasure: %d %s", status, body)
	}
	exp, err := sh.store.ExportCustomer(t.Context(), ann)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Coupons) != 1 || exp.Coupons[0].Code != code || exp.Coupons[0].OrderID != "A-1" {
		t.Errorf("export coupons %+v, want the redeemed code", exp.Coupons)
	}
}
