package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
)

func delivered() SurveyInput {
	return SurveyInput{CustomerID: "c1", Trigger: Event{EventID: "d1", Type: EventOrderDelivered}}
}

// answerAfter answers the survey d after the start, naming the message the
// link came from.
func (h *harness) answerAfter(d time.Duration, step string, score int, comment string) {
	h.env.RegisterDelayedCallback(func() {
		s, err := h.sentStep(step)
		if err != nil {
			h.t.Errorf("answering %s before it was sent", step)
			return
		}
		h.signal(Event{EventID: "ans", Type: EventSurveyAnswered, OccurredAt: h.env.Now(),
			Properties: map[string]any{"score": float64(score), "comment": comment, "survey": s.Data["survey"],
				"message_id": delivery.MessageID(s.IdempotencyKey)}})
	}, d)
}

func TestSurveyWithoutAnswerRemindsOnceThenEnds(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.start("2026-04-01 14:00")
	h.env.ExecuteWorkflow(SurveyJourney, delivered())
	var res SurveyResult
	h.result(&res)
	want := []string{"survey email @ Thu 2026-04-02 14:00", "reminder email @ Sun 2026-04-05 14:00"}
	if got := h.timeline(); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if got := h.local(h.env.Now()); got != "Thu 2026-04-09 14:00" {
		t.Errorf("ended %s, want 4 days after the reminder", got)
	}
	if res.Outcome != OutcomeNoResponse || h.outcome() != OutcomeNoResponse || res.Survey != SurveyNPS {
		t.Errorf("result %+v, want an NPS survey with no response", res)
	}
	if s, _ := h.sentStep("survey"); s.Topic != delivery.TopicSurveys || s.Data["survey"] != SurveyNPS {
		t.Errorf("survey request %+v, want topic surveys and survey=nps", s.Request)
	}
}

func TestSurveyAfterATicketIsCSAT(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-04-01 14:00")
	h.answerAfter(2*day, "survey", 4, "")
	h.env.ExecuteWorkflow(SurveyJourney, SurveyInput{CustomerID: "c1", Trigger: Event{Type: EventTicketClosed}})
	var res SurveyResult
	h.result(&res)
	if res.Survey != SurveyCSAT || res.Outcome != OutcomePassive {
		t.Errorf("result %+v, want a CSAT answered 4 (passive)", res)
	}
	if got := h.timeline(); !slices.Equal(got, []string{"survey email @ Thu 2026-04-02 14:00", "thanks email @ Fri 2026-04-03 14:00"}) {
		t.Errorf("sent %q, want the survey and a thank-you", got)
	}
	if th, _ := h.sentStep("thanks"); th.Template != "survey_thanks" {
		t.Errorf("thank-you template %s, want survey_thanks", th.Template)
	}
}

func TestSurveyDetractorAlertsTheCareTeam(t *testing.T) {
	h := newHarness(t, "America/New_York")
	h.start("2026-04-01 14:00")
	h.answerAfter(day+2*time.Hour, "survey", 3, "arrived broken")
	h.env.ExecuteWorkflow(SurveyJourney, delivered())
	var res SurveyResult
	h.result(&res)
	if res.Outcome != OutcomeDetractor || res.Score == nil || *res.Score != 3 || h.outcome() != OutcomeDetractor {
		t.Errorf("result %+v, want detractor with score 3", res)
	}
	if len(h.alerts) != 1 || h.alerts[0].Score != 3 || h.alerts[0].Comment != "arrived broken" || h.alerts[0].Survey != SurveyNPS {
		t.Errorf("alerts %+v, want one with score 3 and the comment", h.alerts)
	}
	if _, err := h.sentStep("reminder"); err == nil {
		t.Error("a reminder went out after the answer")
	}
	if _, err := h.sentStep("thanks"); err != nil {
		t.Error("the detractor was not thanked")
	}
}

// TestDetractorAlertWaitsForTheComment answers by the score link alone, as
// the email's buttons do, then leaves a comment on the page a few minutes
// later: the care alert carries it. Without a comment the alert goes out
// when CommentWait is over.
func TestDetractorAlertWaitsForTheComment(t *testing.T) {
	for _, tc := range []struct {
		name      string
		commentIn time.Duration // after the score; 0: never
		want      string
		alertAt   time.Duration // after the score
	}{
		{"comment after three minutes", 3 * time.Minute, "box was crushed", 3 * time.Minute},
		{"no comment", 0, "", DefaultCommentWait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "Europe/London")
			begin := h.start("2026-04-01 14:00")
			answered := day + time.Hour
			h.answerAfter(answered, "survey", 4, "")
			if tc.commentIn > 0 {
				h.env.RegisterDelayedCallback(func() {
					s, _ := h.sentStep("survey")
					h.signal(Event{EventID: "c", Type: EventSurveyCommented, OccurredAt: h.env.Now(),
						Properties: map[string]any{"comment": tc.want, "message_id": delivery.MessageID(s.IdempotencyKey)}})
				}, answered+tc.commentIn)
			}
			h.env.ExecuteWorkflow(SurveyJourney, delivered())
			var res SurveyResult
			h.result(&res)
			if len(h.alerts) != 1 || h.alerts[0].Comment != tc.want {
				t.Fatalf("alerts %+v, want one with comment %q", h.alerts, tc.want)
			}
			if got, want := h.alertedAt[0].Sub(begin), answered+tc.alertAt; got != want {
				t.Errorf("alert %v after the start, want %v", got, want)
			}
		})
	}
}

func TestSurveyPromoterIsAskedForAReview(t *testing.T) {
	for _, url := range []string{"https://reviews.example/acme", ""} {
		h := newHarness(t, "UTC")
		h.reviewURL = url
		h.start("2026-04-01 14:00")
		h.answerAfter(5*day, "reminder", 10, "love it")
		h.env.ExecuteWorkflow(SurveyJourney, delivered())
		var res SurveyResult
		h.result(&res)
		th, err := h.sentStep("thanks")
		if err != nil || res.Outcome != OutcomePromoter || len(h.alerts) != 0 {
			t.Fatalf("result %+v, alerts %+v, thanks %v; want a promoter thanked without an alert", res, h.alerts, err)
		}
		switch {
		case url != "" && (th.Template != "survey_thanks_review" || th.Data["review_url"] != url):
			t.Errorf("promoter thanks %+v, want survey_thanks_review with %s", th.Request, url)
		case url == "" && th.Template != "survey_thanks":
			t.Errorf("promoter thanks without a review page used %s, want survey_thanks", th.Template)
		}
	}
}

func TestSurveyIgnoresAnswersToOtherMessages(t *testing.T) {
	h := newHarness(t, "UTC")
	h.start("2026-04-01 14:00")
	h.env.RegisterDelayedCallback(func() {
		h.signal(Event{Type: EventSurveyAnswered,
			Properties: map[string]any{"score": 0.0, "message_id": delivery.MessageID("some/other/message")}})
		h.signal(Event{Type: EventOrderDelivered}) // another order: no second survey
	}, 2*day)
	h.env.ExecuteWorkflow(SurveyJourney, delivered())
	var res SurveyResult
	h.result(&res)
	if res.Outcome != OutcomeNoResponse || len(h.alerts) != 0 || len(h.sends) != 2 {
		t.Errorf("result %+v, sent %q, alerts %d; want the foreign answer ignored", res, h.timeline(), len(h.alerts))
	}
}

func TestSurveyAtMostOncePerWindow(t *testing.T) {
	h := newHarness(t, "UTC")
	h.claimed = false
	h.start("2026-04-01 14:00")
	h.env.ExecuteWorkflow(SurveyJourney, delivered())
	var res SurveyResult
	h.result(&res)
	if res.Outcome != OutcomeAlreadyRun || len(h.sends) != 0 {
		t.Errorf("result %+v, sent %q; want nothing within 30 days of the last survey", res, h.timeline())
	}
}

func TestSurveyWaitsForTheSendingWindow(t *testing.T) {
	h := newHarness(t, "Asia/Shanghai")
	h.deferFor["survey"] = 11 * time.Hour // 22:00 → 09:00 next morning
	h.start("2026-04-01 22:00")
	h.env.ExecuteWorkflow(SurveyJourney, delivered())
	var res SurveyResult
	h.result(&res)
	if s, err := h.sentStep("survey"); err != nil || h.local(s.At) != "Fri 2026-04-03 09:00" {
		t.Errorf("survey sent %v (%v), want Fri 09:00 after the quiet hours", s.At, err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		kind  string
		score int
		want  string
	}{
		{SurveyNPS, 0, OutcomeDetractor}, {SurveyNPS, 6, OutcomeDetractor}, {SurveyNPS, 7, OutcomePassive},
		{SurveyNPS, 8, OutcomePassive}, {SurveyNPS, 9, OutcomePromoter}, {SurveyNPS, 10, OutcomePromoter},
		{SurveyCSAT, 1, OutcomeDetractor}, {SurveyCSAT, 2, OutcomeDetractor}, {SurveyCSAT, 3, OutcomePassive},
		{SurveyCSAT, 4, OutcomePassive}, {SurveyCSAT, 5, OutcomePromoter},
	}
	for _, c := range cases {
		if got := classify(c.kind, c.score); got != c.want {
			t.Errorf("classify(%s, %d) = %s, want %s", c.kind, c.score, got, c.want)
		}
	}
}
