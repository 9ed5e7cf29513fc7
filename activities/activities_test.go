package activities

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tidingsdev/tidings/activities/activitiestest"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
)

type fixture struct {
	t      *testing.T
	store  *store.Store
	sender *activitiestest.LedgerSender
	acts   *Activities
	env    *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T, settings Settings) *fixture {
	s, _ := testdb.New(t)
	sender := &activitiestest.LedgerSender{Store: s}
	if settings.CouponSecret == nil {
		settings.CouponSecret = []byte("test-coupon-secret")
	}
	acts := New(s, sender, nil, settings)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{t: t, store: s, sender: sender, acts: acts, env: env}
}

func (f *fixture) customer(ext, zone, birthday, phone string) string {
	f.t.Helper()
	in := store.CustomerInput{ExternalID: ext, TimeZone: testdb.String(zone), Email: testdb.String(strings.ToLower(ext) + "@example.com")}
	if birthday != "" {
		in.Birthday = testdb.String(birthday)
	}
	if phone != "" {
		in.Phone = testdb.String(phone)
	}
	c, _, err := f.store.UpsertCustomer(f.t.Context(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

// run executes an activity and decodes its result into out.
func (f *fixture) run(out any, fn any, in any) error {
	f.t.Helper()
	v, err := f.env.ExecuteActivity(fn, in)
	if err != nil {
		return err
	}
	if out != nil {
		return v.Get(out)
	}
	return nil
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBirthdayBatchGreetsOncePerYearWithAStableCoupon(t *testing.T) {
	f := newFixture(t, Settings{})
	sh := f.customer("SH", "Asia/Shanghai", "1990-06-15", "")
	ny := f.customer("NY", "America/New_York", "1990-06-15", "")
	in := BirthdayBatchInput{At: at(t, "2026-06-15T02:00:00Z"), SendMinute: 540, DiscountPercent: 15, BatchSize: 100}

	var res BirthdayBatchResult
	if err := f.run(&res, f.acts.BirthdayBatch, in); err != nil {
		t.Fatal(err)
	}
	if !res.Done || res.Counts.Sent != 1 || len(f.sender.Sent()) != 1 || f.sender.Sent()[0].CustomerID != sh {
		t.Fatalf("result %+v, sent %+v; want only Shanghai greeted at 10:00 local (New York is still on the 14th)", res, f.sender.Sent())
	}
	g := f.sender.Sent()[0]
	if g.IdempotencyKey != "birthday/"+sh+"/2026" || g.Template != "birthday" || g.Topic != delivery.TopicMarketing {
		t.Errorf("greeting %+v, want key birthday/<customer>/2026 and the birthday template", g)
	}
	coupon, _ := g.Data["coupon"].(string)
	if !strings.HasPrefix(coupon, "BDAY-") || len(coupon) != len("BDAY-")+10 {
		t.Errorf("coupon %q, want BDAY- and 10 characters", coupon)
	}

	// The next hourly sweep greets nobody twice; later that day New York's turn comes.
	in.At = in.At.Add(time.Hour)
	if err := f.run(&res, f.acts.BirthdayBatch, in); err != nil {
		t.Fatal(err)
	}
	if res.Counts.Sent != 0 || len(f.sender.Sent()) != 1 {
		t.Errorf("second sweep sent %+v, want nothing", res.Counts)
	}
	in.At = at(t, "2026-06-15T14:00:00Z")
	if err := f.run(&res, f.acts.BirthdayBatch, in); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.Sent()) != 2 || f.sender.Sent()[1].CustomerID != ny {
		t.Fatalf("sent %+v, want New York greeted at 10:00 its time", f.sender.Sent())
	}
	if other := f.sender.Sent()[1].Data["coupon"]; other == coupon {
		t.Errorf("two customers got the same coupon %v", coupon)
	}
	next, _ := f.acts.IssueCoupon(t.Context(), CouponInput{Key: "birthday/" + sh + "/2027", Prefix: "BDAY"})
	again, _ := f.acts.IssueCoupon(t.Context(), CouponInput{Key: "birthday/" + sh + "/2026", Prefix: "BDAY"})
	if next.Code == coupon || again.Code != coupon {
		t.Errorf("coupons 2026 %s (again %s), 2027 %s: want stable per year and different across years", coupon, again.Code, next.Code)
	}
}

func TestBirthdayBatchResumesFromItsHeartbeat(t *testing.T) {
	f := newFixture(t, Settings{})
	for _, ext := range []string{"A", "B", "C"} {
		f.customer(ext, "UTC", "1990-06-15", "")
	}
	page, err := f.store.BirthdayPage(t.Context(), store.BirthdayQuery{At: at(t, "2026-06-15T10:00:00Z"), SendMinute: 540, KeyPrefix: "birthday/", Limit: 10})
	if err != nil || len(page) != 3 {
		t.Fatalf("page %v, %v", page, err)
	}
	// A previous attempt got through the first customer before its worker died.
	f.env.SetHeartbeatDetails(progress[store.BirthdayCursor]{Cursor: store.BirthdayCursor{MonthDay: page[0].MonthDay, ID: page[0].ID}, Counts: Counts{Sent: 1}})
	var res BirthdayBatchResult
	if err := f.run(&res, f.acts.BirthdayBatch, BirthdayBatchInput{At: at(t, "2026-06-15T10:00:00Z"), SendMinute: 540, BatchSize: 10}); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.Sent()) != 2 || f.sender.Sent()[0].CustomerID != page[1].ID || res.Counts.Sent != 3 {
		t.Errorf("sent %d (first %s), counts %+v; want the two after the heartbeat and 3 in total", len(f.sender.Sent()), f.sender.Sent()[0].CustomerID, res.Counts)
	}
}

func TestBatchCountsPermanentFailuresAndRetriesTemporaryOnes(t *testing.T) {
	f := newFixture(t, Settings{})
	bad := f.customer("BAD", "UTC", "", "")
	f.customer("GOOD", "UTC", "", "")
	f.sender.Refuse = bad
	var res CareBatchResult
	if err := f.run(&res, f.acts.CareBatch, CareBatchInput{RunKey: "r1", Template: "care", Topic: "care", Channel: "email", BatchSize: 10}); err != nil {
		t.Fatal(err)
	}
	if res.Counts.Sent != 1 || res.Counts.Failed != 1 {
		t.Errorf("counts %+v, want one sent and one refused", res.Counts)
	}
	f.sender.Broken = true
	err := f.run(nil, f.acts.CareBatch, CareBatchInput{RunKey: "r2", Template: "care", Topic: "care", Channel: "email", BatchSize: 10})
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Errorf("temporary SMTP trouble gave %v, want a retryable error", err)
	}
}

func TestCareBatchSendsATagOncePerRun(t *testing.T) {
	f := newFixture(t, Settings{})
	vip := f.customer("VIP", "UTC", "", "")
	f.customer("PLAIN", "UTC", "", "")
	if err := f.store.AddCustomerTag(t.Context(), vip, "vip"); err != nil {
		t.Fatal(err)
	}
	in := CareBatchInput{RunKey: "care/monthly-2026-07", Template: "care", Topic: "care", Channel: "email", Tag: "vip", BatchSize: 10}
	for range 2 {
		var res CareBatchResult
		if err := f.run(&res, f.acts.CareBatch, in); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.sender.Sent()) != 1 || f.sender.Sent()[0].CustomerID != vip || f.sender.Sent()[0].IdempotencyKey != "care/care/monthly-2026-07/"+vip {
		t.Errorf("sent %+v, want the VIP once under the run's key", f.sender.Sent())
	}
}

func TestCareBatchSendsSeveralPagesPerCallAndResumesAtItsCursor(t *testing.T) {
	f := newFixture(t, Settings{})
	for i := range 2*CarePagesPerCall + 1 {
		f.customer(fmt.Sprintf("C%02d", i), "UTC", "", "")
	}
	in := CareBatchInput{RunKey: "pages", Template: "care", Topic: "care", Channel: "email", BatchSize: 2}
	var first CareBatchResult
	if err := f.run(&first, f.acts.CareBatch, in); err != nil {
		t.Fatal(err)
	}
	if want := 2 * CarePagesPerCall; first.Done || first.Counts.Sent != want || len(f.sender.Sent()) != want {
		t.Fatalf("first call: %+v with %d sent; want %d pages of 2 sent and more to come", first, len(f.sender.Sent()), CarePagesPerCall)
	}
	in.Cursor = first.Cursor
	var second CareBatchResult
	if err := f.run(&second, f.acts.CareBatch, in); err != nil {
		t.Fatal(err)
	}
	if !second.Done || second.Counts.Sent != 1 || len(f.sender.Sent()) != 2*CarePagesPerCall+1 {
		t.Errorf("second call: %+v with %d sent in all; want the last customer and done", second, len(f.sender.Sent()))
	}
}

func TestCareBatchSendsToASavedSegment(t *testing.T) {
	f := newFixture(t, Settings{})
	tw := f.customer("TW", "Asia/Taipei", "", "")
	if _, err := f.store.UpsertCustomers(t.Context(), []store.CustomerInput{{ExternalID: "TW", Locale: testdb.String("zh-TW")}}); err != nil {
		t.Fatal(err)
	}
	f.customer("EN", "UTC", "", "")
	if _, _, err := f.store.SaveSegment(t.Context(), store.Segment{Name: "taiwan", Format: "yaml", Definition: "match:\n  locale: zh-TW\n"}); err != nil {
		t.Fatal(err)
	}
	in := CareBatchInput{RunKey: "lunar-new-year", Template: "care", Topic: "care", Channel: "email", Segment: "taiwan", BatchSize: 10}
	for range 2 {
		var res CareBatchResult
		if err := f.run(&res, f.acts.CareBatch, in); err != nil {
			t.Fatal(err)
		}
	}
	if sent := f.sender.Sent(); len(sent) != 1 || sent[0].CustomerID != tw {
		t.Errorf("sent %+v, want the zh-TW customer once", sent)
	}
	in.Segment = "no-such-segment"
	err := f.run(nil, f.acts.CareBatch, in)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || !strings.Contains(err.Error(), "no-such-segment") {
		t.Errorf("unknown segment gave %v, want a non-retryable error naming it", err)
	}
}

func TestSendMessageClassifiesErrors(t *testing.T) {
	f := newFixture(t, Settings{})
	c := f.customer("C", "UTC", "", "")
	f.sender.Refuse = c
	err := f.run(nil, f.acts.SendMessage, delivery.Request{CustomerID: c, Template: "welcome", IdempotencyKey: "k1", Channel: "email", Topic: "transactional"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != delivery.TypeRejected {
		t.Errorf("permanent refusal gave %v, want non-retryable %s", err, delivery.TypeRejected)
	}
	f.sender.Refuse, f.sender.Throttle = "", 7*time.Second
	err = f.run(nil, f.acts.SendMessage, delivery.Request{CustomerID: c, Template: "nudge", IdempotencyKey: "k2", Channel: "sms", Topic: "marketing"})
	if !errors.As(err, &appErr) || appErr.NonRetryable() || appErr.NextRetryDelay() != 7*time.Second {
		t.Errorf("a provider's 429 with Retry-After: 7 gave %v, want a retryable error retried after 7s", err)
	}
	f.sender.Throttle = 0
	err = f.run(nil, f.acts.SendMessage, delivery.Request{CustomerID: c})
	if !errors.As(err, &appErr) || appErr.Type() != ErrInvalidInput || !strings.Contains(err.Error(), "template") {
		t.Errorf("incomplete request gave %v, want %s naming the missing fields", err, ErrInvalidInput)
	}
}

func TestLoadProfileReportsSMSConsentOnlyWithAPhone(t *testing.T) {
	f := newFixture(t, Settings{})
	withPhone := f.customer("P", "Asia/Shanghai", "", "+8613800138000")
	noPhone := f.customer("N", "America/New_York", "", "")
	for _, id := range []string{withPhone, noPhone} {
		if _, err := f.store.SetConsent(t.Context(), store.ConsentChange{CustomerID: id, Channel: "sms", Topic: "marketing", Status: store.Granted}); err != nil {
			t.Fatal(err)
		}
	}
	var p ProfileResult
	if err := f.run(&p, f.acts.LoadProfile, ProfileInput{CustomerID: withPhone, SMSTopic: "marketing"}); err != nil {
		t.Fatal(err)
	}
	if !p.SMSConsent || p.TimeZone != "Asia/Shanghai" {
		t.Errorf("profile %+v, want SMS allowed in Asia/Shanghai", p)
	}
	if err := f.run(&p, f.acts.LoadProfile, ProfileInput{CustomerID: noPhone, SMSTopic: "marketing"}); err != nil {
		t.Fatal(err)
	}
	if p.SMSConsent {
		t.Error("SMS allowed for a customer without a phone number")
	}
	err := f.run(&p, f.acts.LoadProfile, ProfileInput{CustomerID: "00000000-0000-0000-0000-000000000009"})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrCustomerNotFound {
		t.Errorf("missing customer gave %v, want %s", err, ErrCustomerNotFound)
	}
}

func TestAlertCareTeamEmailsAndPostsTheWebhook(t *testing.T) {
	var got map[string]any
	var key string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key = r.Header.Get("Idempotency-Key")
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	f := newFixture(t, Settings{CareTeamEmail: "care@shop.example", CareWebhookURL: srv.URL})
	c := f.customer("C-42", "UTC", "", "")
	if _, err := f.store.RecordEvent(t.Context(), store.EventInput{EventID: "order-1", CustomerID: c, Type: "purchase",
		Properties: map[string]any{"amount": 80, "currency": "EUR"}, OccurredAt: at(t, "2026-04-01T10:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	in := AlertInput{CustomerID: c, Journey: "survey", RunID: "run-1", Survey: "nps", Score: 2, Comment: "late and broken"}
	var res AlertResult
	if err := f.run(&res, f.acts.AlertCareTeam, in); err != nil {
		t.Fatal(err)
	}
	if len(f.sender.Sent()) != 1 {
		t.Fatalf("sent %+v, want one alert email", f.sender.Sent())
	}
	mail := f.sender.Sent()[0]
	if mail.ToAddress != "care@shop.example" || !mail.Transactional || mail.Template != "detractor_alert" || mail.Data["customer_ref"] != "C-42" {
		t.Errorf("alert email %+v, want detractor_alert to the care team about C-42", mail)
	}
	orders, _ := got["recent_orders"].([]any)
	if !res.Webhook || got["score"] != 2.0 || got["comment"] != "late and broken" || len(orders) != 1 || key == "" {
		t.Errorf("webhook got %v (key %q), want score, comment and the recent order", got, key)
	}

	status = http.StatusNotFound
	err := f.run(&res, f.acts.AlertCareTeam, in)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrWebhookRejected {
		t.Errorf("webhook 404 gave %v, want %s", err, ErrWebhookRejected)
	}
	if len(f.sender.Sent()) != 1 {
		t.Errorf("the retried alert emailed again: %d emails", len(f.sender.Sent()))
	}
	status = http.StatusServiceUnavailable
	err = f.run(&res, f.acts.AlertCareTeam, in)
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Errorf("webhook 503 gave %v, want a retryable error", err)
	}
}

func TestClaimAndConversionActivities(t *testing.T) {
	f := newFixture(t, Settings{})
	c := f.customer("C", "UTC", "", "")
	var claim ClaimResult
	in := ClaimInput{Journey: "winback", RunID: "r1", CustomerID: c, At: at(t, "2026-01-01T00:00:00Z"), Window: 180 * 24 * time.Hour}
	if err := f.run(&claim, f.acts.ClaimJourney, in); err != nil || !claim.Claimed {
		t.Fatalf("first claim %+v, %v", claim, err)
	}
	in.RunID, in.At = "r2", in.At.Add(90*24*time.Hour)
	if err := f.run(&claim, f.acts.ClaimJourney, in); err != nil || claim.Claimed {
		t.Errorf("claim 90 days later %+v, %v; want refused", claim, err)
	}
	if err := f.run(nil, f.acts.RecordConversion, ConversionInput{Journey: "winback", RunID: "r1", CustomerID: c, Step: "offer",
		Revenue: 19.9, ConvertedAt: in.At}); err != nil {
		t.Fatal(err)
	}
	if err := f.run(nil, f.acts.TagCustomer, TagInput{CustomerID: c, Tag: "lapsed"}); err != nil {
		t.Fatal(err)
	}
	convs, _ := testdb.Conversions(t.Context(), f.store, "winback")
	cust, _ := f.store.Customer(t.Context(), c)
	if len(convs) != 1 || convs[0].Step != "offer" || len(cust.Tags) != 1 {
		t.Errorf("conversions %+v, tags %v", convs, cust.Tags)
	}
}
