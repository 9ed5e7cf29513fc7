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
	"github.com/tidingsdev/tidings/internal/testdb"
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
	return sh.sweepPool(t, "")
}

// sweepPool is sweep with the journey's coupon_pool parameter set to pool.
func (sh *shop) sweepPool(t *testing.T, pool string) activities.BirthdayBatchResult {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(sh.acts)
	v, err := env.ExecuteActivity(sh.acts.BirthdayBatch, activities.BirthdayBatchInput{
		At: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), SendMinute: 540, DiscountPercent: 15, BatchSize: 100, CouponPool: pool,
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
	convs, err := testdb.Conversions(ctx, sh.store, "birthday")
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
	if convs, _ := testdb.Conversions(ctx, sh.store, "birthday"); len(convs) != 1 {
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

// poolSend sends a campaign's offer to a customer through the send path,
// its vars naming a coupon pool.
func (sh *shop) poolSend(t *testing.T, customerID, pool string) (delivery.Result, error) {
	t.Helper()
	return sh.svc.Send(t.Context(), delivery.Request{
		CustomerID: customerID, Journey: "campaign/summer", Step: "offer", Channel: delivery.Email,
		Template: "winback_offer", Topic: delivery.TopicMarketing, IdempotencyKey: "campaign/summer/1/" + customerID + "/offer/1",
		Data: map[string]any{"coupon_pool": pool, "discount_percent": 10},
	})
}

func TestImportedPoolCodesAreDrawnOncePerMessageUntilExhausted(t *testing.T) {
	sh := newShop(t)
	ctx := t.Context()

	// The shop imports its codes over HTTP; a bad row is reported by line,
	// the good ones are imported.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sh.http.URL+"/v1/coupon-pools/summer/codes",
		strings.NewReader("code,value,expires_at\nSUMMER-0001,10 EUR,2030-12-31\nnot a code!,5 EUR,\nsummer-0002,10 EUR,\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sh.keyFor("marketer"))
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var imp mgmt.CouponImport
	if err := json.NewDecoder(resp.Body).Decode(&imp); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || imp.Imported != 2 || len(imp.Rejected) != 1 || imp.Rejected[0].Line != 3 ||
		imp.Rejected[0].Field != "code" || imp.Unused != 2 {
		t.Fatalf("import: %d %+v, want 2 imported and line 3 rejected naming code", resp.StatusCode, imp)
	}

	ann := sh.birthdayCustomer(t, "C-ann")
	bo := sh.birthdayCustomer(t, "C-bo")
	cy := sh.birthdayCustomer(t, "C-cy")
	codes := map[string]string{}
	for _, c := range []string{ann, bo} {
		res, err := sh.poolSend(t, c, "summer")
		if err != nil || res.Status != delivery.Sent {
			t.Fatalf("send to %s: %+v, %v", c, res, err)
		}
		msgs := sh.sink.Messages()
		code := regexp.MustCompile(`SUMMER-000[12]`).FindString(parseMail(t, msgs[len(msgs)-1].Data).Text)
		if code == "" || codes[code] != "" {
			t.Fatalf("email to %s shows code %q (drawn before for %q)", c, code, codes[code])
		}
		codes[code] = c
		if status, got, body := sh.coupon(t, code); status != http.StatusOK || got.Status != store.CouponValid ||
			got.CustomerID != c || got.Pool != "summer" || got.Campaign != "summer" || got.MessageID != res.MessageID {
			t.Errorf("GET %s: %d %s, want valid, the customer's, from pool summer, campaign summer", code, status, body)
		}
	}
	// A retry of a sent message sends nothing and draws nothing.
	if res, err := sh.poolSend(t, ann, "summer"); err != nil || !res.Duplicate {
		t.Errorf("retry: %+v, %v; want a duplicate", res, err)
	}
	// The pool is spent: the next message fails, naming the pool, and no
	// email goes out without its code.
	before := sh.sink.Count()
	res, err := sh.poolSend(t, cy, "summer")
	if typ, ok := delivery.IsPermanent(err); !ok || typ != delivery.TypeCouponPoolExhausted || !strings.Contains(err.Error(), `"summer"`) {
		t.Fatalf("send from a spent pool: %+v, %v; want a permanent %s naming the pool", res, err, delivery.TypeCouponPoolExhausted)
	}
	if sh.sink.Count() != before {
		t.Error("an email went out without a code")
	}
	m, err := sh.store.MessageByID(ctx, delivery.MessageID("campaign/summer/1/"+cy+"/offer/1"))
	if err != nil || m.Status != store.StatusFailed || !strings.Contains(m.Reason, "summer") {
		t.Errorf("ledger row %+v, %v; want failed with the pool named", m, err)
	}
	if status, body := sh.get("/v1/coupon-pools/summer", "Authorization", "Bearer "+sh.key); status != http.StatusOK ||
		!strings.Contains(body, `"unused": 0`) || !strings.Contains(body, `"total": 2`) {
		t.Errorf("GET pool: %d %s", status, body)
	}
}

// Only a code derived for the message's own key is stored as that
// message's: the win-back offer's is, a later message repeating it (as
// the last-chance SMS does) keeps the first issue, and a code typed into a
// campaign for everyone is not anyone's.
func TestOnlyCodesMadeForTheMessageAreStored(t *testing.T) {
	sh := newShop(t)
	ann := sh.birthdayCustomer(t, "C-ann")
	key := "winback/" + ann + "/run-1/offer"
	code := delivery.CouponCode([]byte(couponSecret), "BACK", key)
	bo := sh.birthdayCustomer(t, "C-bo")
	send := func(customer, key string, vars map[string]any) {
		t.Helper()
		res, err := sh.svc.Send(t.Context(), delivery.Request{CustomerID: customer, Journey: "winback", Step: "offer", Channel: delivery.Email,
			Template: "winback_offer", Topic: delivery.TopicMarketing, IdempotencyKey: key, Data: vars})
		if err != nil || res.Status != delivery.Sent {
			t.Fatalf("send %s: %+v, %v", key, res, err)
		}
	}
	send(ann, key, map[string]any{"coupon": code, "discount_percent": 20})
	send(ann, "winback/"+ann+"/run-1/offer-again", map[string]any{"coupon": code, "discount_percent": 20})
	send(bo, "campaign/spring/1/"+bo+"/offer/1", map[string]any{"coupon": "SPRING-10", "discount_percent": 10})

	status, c, body := sh.coupon(t, code)
	if status != http.StatusOK || c.MessageID != delivery.MessageID(key) || c.DiscountPercent != 20 || c.Journey != "winback" {
		t.Errorf("win-back code: %d %s, want it issued by the first message that carried it", status, body)
	}
	if status, _, body := sh.coupon(t, "SPRING-10"); status != http.StatusNotFound {
		t.Errorf("a campaign's shared code: %d %s, want unknown", status, body)
	}
}

// TestBirthdaySweepDrawsTheCodesOfItsPool: with the birthday journey's
// coupon_pool set, each greeting carries a code of the shop's pool, shown
// in the email and stored against the message; when the pool runs dry the
// greeting is not sent without a code but fails, its ledger row naming the
// pool, and the sweep goes on and counts it.
func TestBirthdaySweepDrawsTheCodesOfItsPool(t *testing.T) {
	sh := newShop(t)
	ctx := t.Context()
	if _, err := sh.store.ImportCoupons(ctx, "birthday-gifts", []store.Coupon{{Code: "GIFT-0001", Value: "5 GBP"}}); err != nil {
		t.Fatal(err)
	}
	customers := []string{sh.birthdayCustomer(t, "C-ann"), sh.birthdayCustomer(t, "C-bo")}
	res := sh.sweepPool(t, "birthday-gifts")
	if res.Counts.Sent != 1 || res.Counts.Failed != 1 || sh.sink.Count() != 1 {
		t.Fatalf("sweep %+v, %d emails; want one greeting sent with the pool's code and one failed", res.Counts, sh.sink.Count())
	}
	mail := parseMail(t, sh.sink.Messages()[0].Data).Text
	if !strings.Contains(mail, "GIFT-0001") || couponInMail.MatchString(mail) {
		t.Errorf("the greeting shows no GIFT-0001 (or a derived code):\n%s", mail)
	}
	c, err := sh.store.Coupon(ctx, "GIFT-0001")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Message{}
	for _, id := range customers {
		m, err := sh.store.MessageByID(ctx, delivery.MessageID("birthday/"+id+"/2026"))
		if err != nil {
			t.Fatal(err)
		}
		got[m.Status] = m
	}
	sent, failed := got[store.StatusSent], got[store.StatusFailed]
	if c.MessageID != sent.ID || c.CustomerID != sent.CustomerID || c.Journey != "birthday" {
		t.Errorf("GIFT-0001 stored as %+v, want it against the greeting %s that carried it", c, sent.ID)
	}
	if failed.ID == "" || !strings.Contains(failed.Reason, `"birthday-gifts"`) {
		t.Errorf("the second greeting %+v, want failed with the spent pool named", failed)
	}
}
