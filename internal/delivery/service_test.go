package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/smtpsink"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/testdb"
	"github.com/tidingsdev/tidings/internal/token"
)

func welcome(customerID, key string) delivery.Request {
	return delivery.Request{
		CustomerID: customerID, Journey: "welcome", Step: "welcome", Channel: delivery.Email,
		Template: "welcome", Topic: delivery.TopicMarketing, IdempotencyKey: key,
	}
}

func TestEmailArrivesInTheCustomersLanguage(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "cn-1", "zh-CN", "Asia/Shanghai", "fang@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 10, 0, 0, 0, mustZone(t, "Asia/Shanghai")))

	res, err := h.svc.Send(ctx, welcome(id, "welcome/"+id+"/1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != delivery.Sent || res.Duplicate || res.MessageID != delivery.MessageID("welcome/"+id+"/1") {
		t.Fatalf("result %+v", res)
	}
	msgs := h.sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "fang@example.com" {
		t.Fatalf("sink got %d messages: %+v", len(msgs), msgs)
	}
	hdr, err := msgs[0].Header()
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	if err != nil || subject != "欢迎加入Harbour & Pine，很高兴认识您" {
		t.Errorf("subject %q decodes to %q (%v)", hdr.Get("Subject"), subject, err)
	}
	if hdr.Get("X-Tidings-Message-Id") != res.MessageID {
		t.Errorf("X-Tidings-Message-ID %q, want %q", hdr.Get("X-Tidings-Message-Id"), res.MessageID)
	}
	lu := hdr.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<"+publicURL+"/u/") || !strings.Contains(lu, "<mailto:unsubscribe@harbourpine.example") ||
		hdr.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q / Post %q", lu, hdr.Get("List-Unsubscribe-Post"))
	}
	tok := strings.TrimPrefix(lu[:strings.Index(lu, ">")], "<"+publicURL+"/u/")
	claims, err := h.signer.Verify(tok, token.Unsubscribe, h.clock.Now())
	if err != nil || claims.CustomerID != id || claims.Channel != delivery.Email || claims.Topic != delivery.TopicMarketing {
		t.Errorf("unsubscribe token %+v, %v", claims, err)
	}

	row, err := h.store.MessageByID(ctx, res.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != store.StatusSent || row.Locale != "zh-CN" || row.Recipient != "fang@example.com" ||
		row.Attempts != 1 || "<"+row.ProviderMessageID+">" != hdr.Get("Message-Id") {
		t.Errorf("ledger row %+v, Message-ID header %q", row, hdr.Get("Message-Id"))
	}
}

func TestSameKeyTwiceDeliversOnce(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "tw-1", "zh-TW", "Asia/Taipei", "yijun@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Taipei")))
	req := welcome(id, "welcome/"+id+"/1")

	first, err := h.svc.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.svc.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.Status != delivery.Sent || second.MessageID != first.MessageID {
		t.Errorf("second send %+v, want a duplicate of %+v", second, first)
	}
	if n := h.sink.Count(); n != 1 {
		t.Errorf("the customer received %d emails, want 1", n)
	}
}

func TestTemporaryFailureThenSuccessDeliversOnce(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "ny-1", "en", "America/New_York", "ann@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "America/New_York")))
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Code: 451, Enhanced: "4.7.1", Message: "greylisted", Times: 1})
	req := welcome(id, "welcome/"+id+"/1")

	_, err := h.svc.Send(ctx, req)
	if err == nil {
		t.Fatal("a 451 reported success")
	}
	if typ, ok := delivery.IsPermanent(err); ok {
		t.Fatalf("a 451 is permanent (%s): %v", typ, err)
	}
	row, err := testdb.MessageByKey(ctx, h.store, req.IdempotencyKey)
	if err != nil || row.Status != store.StatusQueued || !strings.Contains(row.Reason, "451") {
		t.Fatalf("after a 451 the ledger row is %+v (%v), want queued with the reason", row, err)
	}

	res, err := h.svc.Send(ctx, req) // Temporal's retry
	if err != nil || res.Status != delivery.Sent || res.Duplicate {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if n := h.sink.Count(); n != 1 {
		t.Errorf("the customer received %d emails, want 1", n)
	}
	row, _ = testdb.MessageByKey(ctx, h.store, req.IdempotencyKey)
	if row.Status != store.StatusSent || row.Attempts != 2 || row.ID != res.MessageID {
		t.Errorf("ledger row %+v, want sent after 2 attempts", row)
	}
}

func TestHardBounceFailsAndSuppresses(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "ldn-1", "en", "Europe/London", "gone@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Europe/London")))
	h.sink.Inject(smtpsink.Fault{Stage: smtpsink.Rcpt, Recipient: "gone@example.com", Code: 550, Enhanced: "5.1.1", Message: "no such mailbox"})
	req := welcome(id, "welcome/"+id+"/1")

	res, err := h.svc.Send(ctx, req)
	var pe *delivery.PermanentError
	if !errors.As(err, &pe) || pe.Type != delivery.TypeRejected || res.Status != delivery.Failed {
		t.Fatalf("550 gave %+v, %v; want Failed and a *PermanentError of type %s", res, err, delivery.TypeRejected)
	}
	sp, err := h.store.Suppression(ctx, delivery.Email, "GONE@example.com")
	if err != nil || sp.Reason != store.HardBounce || !strings.Contains(sp.Detail, "5.1.1") {
		t.Fatalf("suppression %+v, %v", sp, err)
	}
	row, _ := testdb.MessageByKey(ctx, h.store, req.IdempotencyKey)
	if row.Status != store.StatusFailed || !strings.Contains(row.Reason, "550") {
		t.Errorf("ledger row %+v", row)
	}

	// A retry of the same key does not try again; a new message is skipped.
	again, err := h.svc.Send(ctx, req)
	if err != nil || !again.Duplicate || again.Status != delivery.Failed {
		t.Errorf("retry of a failed key: %+v, %v", again, err)
	}
	next, err := h.svc.Send(ctx, delivery.Request{CustomerID: id, Journey: "receipt", Step: "r", Channel: delivery.Email,
		Template: "welcome", Topic: delivery.TopicTransactional, IdempotencyKey: "receipt/" + id})
	if err != nil || next.Status != delivery.Skipped || next.Reason != "suppressed:hard_bounce" {
		t.Errorf("send to a bounced address: %+v, %v", next, err)
	}
	if n := h.sink.Count(); n != 0 {
		t.Errorf("sink accepted %d messages", n)
	}
}

// detractorAlert is the care team's alert about customer id, as the survey
// journey sends it.
func detractorAlert(id, ref string) delivery.Request {
	return delivery.Request{
		CustomerID: id, Journey: "nps", Step: "alert", Channel: delivery.Email, Template: "detractor_alert",
		Topic: delivery.TopicCare, IdempotencyKey: "nps/" + id + "/alert", ToAddress: "care@harbourpine.example",
		Data: map[string]any{"survey": "nps", "score": 2, "comment": "late again", "customer_ref": ref, "recent_orders": []any{}},
	}
}

func TestCareTeamAlertGoesToTheFixedAddress(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "cn-2", "zh-CN", "Asia/Shanghai", "fang@example.com", "")
	h.consent(t, id, delivery.Email, delivery.TopicAll, store.Denied) // the customer hears nothing; the team still does
	h.clock.Set(time.Date(2026, 6, 1, 23, 30, 0, 0, mustZone(t, "Asia/Shanghai")))
	res, err := h.svc.Send(ctx, detractorAlert(id, "cn-2"))
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("alert: %+v, %v", res, err)
	}
	msgs := h.sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "care@harbourpine.example" {
		t.Fatalf("sink got %+v", msgs)
	}
	hdr, _ := msgs[0].Header()
	if hdr.Get("List-Unsubscribe") != "" || strings.Contains(string(msgs[0].Data), publicURL+"/u/") {
		t.Errorf("an internal alert carries the customer's unsubscribe link")
	}
	row, _ := h.store.MessageByID(ctx, res.MessageID)
	if row.CustomerID != id || row.Recipient != "care@harbourpine.example" || row.Locale != "en" {
		t.Errorf("ledger row %+v", row)
	}
}

func TestSurveyLinkNamesTheMessage(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "ny-2", "en", "America/New_York", "ann@example.com", "")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "America/New_York")))
	res, err := h.svc.Send(ctx, delivery.Request{
		CustomerID: id, Journey: "nps", Step: "ask", Channel: delivery.Email, Template: "survey_request",
		Topic: delivery.TopicSurveys, IdempotencyKey: "nps/" + id + "/ask", Data: map[string]any{"survey": "nps"},
	})
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("%+v, %v", res, err)
	}
	body := string(h.sink.Messages()[0].Data)
	body = strings.ReplaceAll(body, "=\r\n", "") // undo quoted-printable soft breaks
	i := strings.Index(body, publicURL+"/s/")
	if i < 0 {
		t.Fatalf("no survey link in %s", body)
	}
	tok := body[i+len(publicURL+"/s/"):]
	tok = tok[:strings.IndexAny(tok, "?\"'<> \r\n")]
	claims, err := h.signer.Verify(tok, token.Survey, h.clock.Now())
	if err != nil || claims.MessageID != res.MessageID || claims.Survey != "nps" || claims.CustomerID != id {
		t.Errorf("survey token %+v, %v; want message %s", claims, err, res.MessageID)
	}
}

func TestSMSGoesThroughTheProvider(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "tw-2", "zh-TW", "Asia/Taipei", "", "+886912345678")
	h.consent(t, id, delivery.SMS, delivery.TopicMarketing, store.Granted)
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, mustZone(t, "Asia/Taipei")))
	res, err := h.svc.Send(ctx, delivery.Request{
		CustomerID: id, Journey: "birthday", Step: "greet", Channel: delivery.SMS, Template: "birthday",
		Topic: delivery.TopicMarketing, IdempotencyKey: "birthday/" + id + "/2026",
		Data: map[string]any{"coupon": "BDAY-7K2Q", "discount_percent": 20},
	})
	if err != nil || res.Status != delivery.Sent {
		t.Fatalf("%+v, %v", res, err)
	}
	sent := h.texts.Sent()
	if len(sent) != 1 || sent[0].To != "+886912345678" || !strings.Contains(sent[0].Body, "BDAY-7K2Q") {
		t.Fatalf("provider got %+v", sent)
	}
	row, _ := h.store.MessageByID(ctx, res.MessageID)
	if row.Status != store.StatusSent || row.ProviderMessageID != "SM1" || row.Segments < 1 {
		t.Errorf("ledger row %+v", row)
	}
}

func TestBadRequestsArePermanent(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	id := h.customer(t, "x-1", "en", "UTC", "x@example.com", "")
	cases := map[string]struct {
		req  delivery.Request
		typ  string
		text string
	}{
		"unknown topic":    {welcome(id, "k1"), delivery.TypeInvalidRequest, `topic "promo" is not one of care, marketing, surveys, transactional`},
		"missing key":      {welcome(id, ""), delivery.TypeInvalidRequest, "idempotency_key required"},
		"unknown customer": {welcome("6f1f4a52-8d0e-4c43-9f7e-3b1d2c9a7e10", "k3"), delivery.TypeCustomerNotFound, "not found"},
		"unknown template": {welcome(id, "k4"), delivery.TypeRenderFailed, "no_such_template"},
	}
	c := cases["unknown topic"]
	c.req.Topic = "promo"
	cases["unknown topic"] = c
	c = cases["unknown template"]
	c.req.Template = "no_such_template"
	cases["unknown template"] = c
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	for name, tc := range cases {
		_, err := h.svc.Send(ctx, tc.req)
		typ, ok := delivery.IsPermanent(err)
		if !ok || typ != tc.typ || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: got %v (type %q), want a %s error mentioning %q", name, err, typ, tc.typ, tc.text)
		}
	}
	if n := h.sink.Count(); n != 0 {
		t.Errorf("sink accepted %d messages", n)
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestSendBatchAnswersEachRequestAsSendWould(t *testing.T) {
	h := newHarness(t, func(o *delivery.Options) { o.ChunkSize, o.ParallelChunks = 3, 2 })
	ctx := context.Background()
	shanghai := mustZone(t, "Asia/Shanghai")
	h.clock.Set(time.Date(2026, 6, 1, 12, 0, 0, 0, shanghai))
	var reqs []delivery.Request
	for i := range 7 {
		id := h.customer(t, fmt.Sprint("batch-", i), "zh-CN", "Asia/Shanghai", fmt.Sprintf("b%d@example.com", i), "")
		reqs = append(reqs, welcome(id, "batch/"+id))
	}
	night := h.customer(t, "batch-night", "en", "America/New_York", "night@example.com", "") // 00:00 in New York
	optedOut := h.customer(t, "batch-out", "en", "Asia/Taipei", "out@example.com", "")
	h.consent(t, optedOut, delivery.Email, delivery.TopicMarketing, store.Denied)
	reqs = append(reqs,
		reqs[0], // the same key again in the same batch
		welcome(night, "batch/night"),
		welcome(optedOut, "batch/out"),
		welcome("6f1f4a52-8d0e-4c43-9f7e-3b1d2c9a7e10", "batch/ghost"),
		delivery.Request{CustomerID: reqs[1].CustomerID, Channel: "fax", Template: "welcome", Topic: delivery.TopicMarketing, IdempotencyKey: "batch/fax"},
	)

	results, errs := h.svc.SendBatch(ctx, reqs)
	for i := range 7 {
		if errs[i] != nil || results[i].Status != delivery.Sent || results[i].Duplicate {
			t.Errorf("request %d: %+v, %v", i, results[i], errs[i])
		}
	}
	if r := results[7]; errs[7] != nil || !r.Duplicate || r.Status != delivery.Sent || r.MessageID != results[0].MessageID {
		t.Errorf("repeated key: %+v, %v", r, errs[7])
	}
	if r := results[8]; errs[8] != nil || r.Status != delivery.Deferred || r.DeferUntil.In(mustZone(t, "America/New_York")).Format("15:04") != "09:00" {
		t.Errorf("night: %+v, %v", r, errs[8])
	}
	if r := results[9]; errs[9] != nil || r.Status != delivery.Skipped || r.Reason != delivery.ReasonOptedOut {
		t.Errorf("opted out: %+v, %v", r, errs[9])
	}
	if typ, _ := delivery.IsPermanent(errs[10]); typ != delivery.TypeCustomerNotFound {
		t.Errorf("unknown customer: %v", errs[10])
	}
	if typ, _ := delivery.IsPermanent(errs[11]); typ != delivery.TypeInvalidRequest {
		t.Errorf("bad channel: %v", errs[11])
	}
	if n := h.sink.Count(); n != 7 {
		t.Errorf("%d emails delivered, want 7", n)
	}
}
