package api

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidingsdev/tidings/internal/router/routertest"
	"github.com/tidingsdev/tidings/internal/store"
	"github.com/tidingsdev/tidings/internal/token"
	"github.com/tidingsdev/tidings/workflows"
)

// surveyMessage reserves the ledger row of a survey message to a customer
// and returns its answer link.
func (a *testAPI) surveyMessage(customerID, survey string) (msgID, link string) {
	a.t.Helper()
	msg, _, err := a.store.ReserveMessage(a.t.Context(), store.Message{IdempotencyKey: "survey/" + customerID + "/" + uuid.NewString(),
		CustomerID: customerID, Journey: "survey", Step: "ask", Channel: "email", Template: "survey_request", Topic: "surveys"})
	if err != nil {
		a.t.Fatal(err)
	}
	return msg.ID, a.link("s", token.Claims{Purpose: token.Survey, CustomerID: customerID, MessageID: msg.ID, Survey: survey}, time.Now().Add(time.Hour))
}

var (
	radioRE   = regexp.MustCompile(`<input type="radio" name="score" value="(\d+)" required( checked)?>`)
	confirmRE = regexp.MustCompile(`name="confirm" value="([^"]+)"`)
)

// scale returns the scores a survey page offers and the one preselected
// ("" for none).
func scale(body string) (offered []string, checked string) {
	for _, m := range radioRE.FindAllStringSubmatch(body, -1) {
		offered = append(offered, m[1])
		if m[2] != "" {
			checked = m[1]
		}
	}
	return offered, checked
}

// TestSurveyLinkWithoutAScoreOffersTheScale: the link in the text part and
// in SMS carries no score; it opens the question with the whole scale, in
// the customer's language.
func TestSurveyLinkWithoutAScoreOffersTheScale(t *testing.T) {
	a := newAPI(t, false)
	for _, tc := range []struct {
		locale, survey, question string
		scale                    []string
	}{
		{"en", store.NPS, "How likely are you to recommend us to a friend or colleague?", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
		{"zh-CN", store.NPS, "您有多大可能把我们推荐给朋友或同事？", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
		{"zh-TW", store.CSAT, "您對最近的體驗滿意嗎？", []string{"1", "2", "3", "4", "5"}},
	} {
		id := a.customer("C-"+tc.locale, map[string]any{"email": "x@example.com", "locale": tc.locale})
		_, link := a.surveyMessage(id, tc.survey)
		status, body := a.get(link)
		offered, checked := scale(body)
		if status != 200 || !strings.Contains(body, tc.question) || !slices.Equal(offered, tc.scale) || checked != "" || !confirmRE.MatchString(body) {
			t.Errorf("%s %s survey link without a score: %d, offers %v (checked %q); want 200, %q and %v, none checked:\n%s",
				tc.locale, tc.survey, status, offered, checked, tc.question, tc.scale, body)
		}
		if status, body := a.get(link + "?score=11"); status != 400 || !strings.Contains(body, `value="`+tc.scale[len(tc.scale)-1]+`"`) {
			t.Errorf("%s: score 11: %d, want 400 with the scale to choose from", tc.locale, status)
		}
	}
}

// TestLinkScannersAnswerNoSurvey: a mail security gateway fetches every link
// of a message, score links included. Its GETs show the page with the score
// preselected and record nothing; the answer counts when the customer sends
// the form, reaches the journey once, and later GETs do not change it.
func TestLinkScannersAnswerNoSurvey(t *testing.T) {
	a := newAPI(t, true)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com", "locale": "zh-CN"})
	if status, body := a.do("POST", "/v1/events", map[string]any{"event_id": "order-9-delivered", "customer": id, "type": "order_delivered"}); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	wid := workflows.JourneyID(workflows.Survey, id)
	routertest.Heard(t, a.temporal, wid, 1)
	msgID, link := a.surveyMessage(id, store.NPS)

	var confirm string
	for _, score := range []string{"2", "0", "2"} { // the scanner tries every link, some twice
		status, body := a.get(link+"?score="+score, "User-Agent", "Mozilla/5.0 (compatible; SafeLinks)")
		if _, checked := scale(body); status != 200 || checked != score {
			t.Fatalf("GET ?score=%s: %d, preselected %q; want 200 with %s preselected:\n%s", score, status, checked, score, body)
		}
		confirm = confirmRE.FindStringSubmatch(body)[1]
	}
	if rs, _ := a.store.SurveyResponses(t.Context(), id); len(rs) != 0 {
		t.Fatalf("GETs recorded answers: %+v", rs)
	}
	// A form posted without the page's token (a scanner replaying the
	// form, a page from elsewhere) records nothing either.
	if status, body := a.form(link, "score=2"); status != 400 || !strings.Contains(body, "请确认您的评分") {
		t.Errorf("POST without the form token: %d, want 400 and the page to confirm on:\n%s", status, body)
	}
	if status, _ := a.form(link, url.Values{"score": {"2"}, "confirm": {a.signer.Sign(token.Claims{Purpose: token.SurveyAnswer, CustomerID: id, MessageID: uuid.NewString(), Survey: store.NPS}, time.Now().Add(time.Hour))}}.Encode()); status != 400 {
		t.Errorf("POST with another message's form token: %d, want 400", status)
	}
	if rs, _ := a.store.SurveyResponses(t.Context(), id); len(rs) != 0 {
		t.Fatalf("POSTs without the form token recorded answers: %+v", rs)
	}
	if got := routertest.Heard(t, a.temporal, wid, 1); !slices.Equal(got, []string{"order-9-delivered"}) {
		t.Fatalf("before any confirmed answer the survey journey heard %v", got)
	}

	status, body := a.form(link, url.Values{"score": {"2"}, "comment": {"The parcel arrived crushed"}, "confirm": {confirm}}.Encode())
	if status != 200 || !strings.Contains(body, "感谢您的反馈") || !strings.Contains(body, "您的评分：2（满分 10）") {
		t.Fatalf("confirmed answer: %d\n%s", status, body)
	}
	rs, _ := a.store.SurveyResponses(t.Context(), id)
	if len(rs) != 1 || rs[0].Score != 2 || rs[0].Comment != "The parcel arrived crushed" {
		t.Fatalf("responses = %+v; want one answer, 2 with the comment", rs)
	}
	want := []string{"order-9-delivered", "survey_answered:" + msgID, "survey_commented:" + msgID}
	if got := routertest.Heard(t, a.temporal, wid, 3); !slices.Equal(got, want) {
		t.Errorf("survey journey heard %v, want %v", got, want)
	}

	// The scanner comes back (or the customer clicks 10 by mistake): the
	// page shows the answer given and changes nothing.
	status, body = a.get(link + "?score=10")
	if _, checked := scale(body); status != 200 || checked != "10" || !strings.Contains(body, "我们已收到您的评分：2（满分 10）") {
		t.Errorf("GET after answering: %d, preselected %q; want the recorded 2 shown:\n%s", status, checked, body)
	}
	if rs, _ := a.store.SurveyResponses(t.Context(), id); len(rs) != 1 || rs[0].Score != 2 {
		t.Errorf("a GET after the answer changed it: %+v", rs)
	}
	time.Sleep(200 * time.Millisecond)
	if got := routertest.Heard(t, a.temporal, wid, 3); len(got) != 3 {
		t.Errorf("a GET after the answer reached the journey: %v", got)
	}
}

// TestSurveyLinkForAMessageNotInTheLedger: a genuine signature over a message
// the ledger does not hold (a restored backup, a link from another
// installation) is a 404 page, never a 500, and records nothing.
func TestSurveyLinkForAMessageNotInTheLedger(t *testing.T) {
	a := newAPI(t, false)
	id := a.customer("C-1", map[string]any{"email": "ann@example.com", "locale": "zh-TW"})
	other := a.customer("C-2", map[string]any{"email": "bo@example.com"})
	_, othersLink := a.surveyMessage(other, store.NPS)
	othersMsg := strings.TrimPrefix(othersLink, "/s/")
	claims, _ := a.signer.Verify(othersMsg, token.Survey, time.Now())
	for name, link := range map[string]string{
		"unknown message":            a.link("s", token.Claims{Purpose: token.Survey, CustomerID: id, MessageID: uuid.NewString(), Survey: store.NPS}, time.Now().Add(time.Hour)),
		"another customer's message": a.link("s", token.Claims{Purpose: token.Survey, CustomerID: id, MessageID: claims.MessageID, Survey: store.NPS}, time.Now().Add(time.Hour)),
	} {
		if status, body := a.get(link + "?score=3"); status != 404 || !strings.Contains(body, "找不到這個問卷連結所屬的訊息") {
			t.Errorf("%s: GET %d, want a 404 page:\n%s", name, status, body)
		}
		if status, body := a.form(link, "score=3&comment=hi"); status != 404 || !strings.Contains(body, `<html lang="zh-Hant-TW">`) {
			t.Errorf("%s: POST %d, want a 404 page:\n%s", name, status, body)
		}
	}
	if rs, _ := a.store.SurveyResponses(t.Context(), id); len(rs) != 0 {
		t.Errorf("answers recorded: %+v", rs)
	}
}
