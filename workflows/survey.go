package workflows

import (
	"maps"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tidingsdev/tidings/activities"
	"github.com/tidingsdev/tidings/internal/delivery"
)

// Survey is the journey's name; SurveyWorkflow its registered workflow.
const (
	Survey         = "survey"
	SurveyWorkflow = "Survey"
)

// Events the survey journey hears.
const (
	EventSurveyAnswered = "survey_answered"
	// EventSurveyCommented is the comment left on the answer page after
	// the score.
	EventSurveyCommented = "survey_commented"
)

// surveyJourney is the descriptor register.go lists.
func surveyJourney() Journey {
	return Journey{
		Name:    Survey,
		Summary: "NPS after a delivery, CSAT after a ticket; detractors alert care",
		Run:     &Workflow{Name: SurveyWorkflow, Func: SurveyJourney},
		Starts: func(v Values) []string {
			return slices.Sorted(maps.Keys(v.EventMap("triggers")))
		},
		Steers: On(EventSurveyAnswered, EventSurveyCommented),
		Once:   func(v Values) time.Duration { return v.Duration("window") },
		LateBy: func(v Values) time.Duration { return v.Duration("late_limit") },
		Input: func(customerID string, trigger Event, v Values) any {
			return SurveyInput{
				CustomerID: customerID, Trigger: trigger, Survey: v.EventMap("triggers")[trigger.Type],
				Delay: v.Duration("delay"), AnswerWait: v.Duration("answer_wait"), ReminderWait: v.Duration("reminder_wait"),
				Window: v.Duration("window"), CommentWait: v.Duration("comment_wait"),
			}
		},
		Params: []Param{
			EventMapParam("triggers", DefaultSurveyTriggers(), []string{SurveyNPS, SurveyCSAT},
				"the events that start a survey follow-up, each with the survey it asks (also TIDINGS_SURVEY_TRIGGERS)"),
			DurationParam("delay", DefaultSurveyDelay, time.Second, "how long after the trigger the survey goes out"),
			DurationParam("answer_wait", DefaultAnswerWait, time.Second, "how long to wait for an answer before the reminder"),
			DurationParam("reminder_wait", DefaultReminderWait, time.Second, "how long after the reminder before giving up"),
			DurationParam("window", DefaultSurveyWindow, time.Hour, "at most one survey per customer in this long"),
			DurationParam("comment_wait", DefaultCommentWait, time.Second, "how long a detractor's care alert waits for the comment"),
			DurationParam("late_limit", DefaultSurveyLateLimit, time.Hour, "a delivery or ticket older than this when it arrives (an imported history) gets no survey"),
		},
		Templates: []string{"survey_request", "survey_reminder", "survey_thanks", "survey_thanks_review", "detractor_alert"},
	}
}

// DefaultSurveyTriggers: an NPS after a delivery, a CSAT after a ticket.
func DefaultSurveyTriggers() map[string]string {
	return map[string]string{EventOrderDelivered: SurveyNPS, EventTicketClosed: SurveyCSAT}
}

// SurveyInput starts a survey follow-up after a delivery or a closed ticket.
type SurveyInput struct {
	CustomerID string `json:"customer_id"`
	Trigger    Event  `json:"trigger"`
	// Survey is "nps" or "csat"; default nps after a delivery, csat after a
	// closed ticket.
	Survey string `json:"survey,omitempty"`
	// Delay before the survey is sent; default 24 hours.
	Delay time.Duration `json:"delay,omitempty"`
	// AnswerWait is how long to wait before the reminder (default 3 days);
	// ReminderWait how long after it before giving up (default 4 days).
	AnswerWait   time.Duration `json:"answer_wait,omitempty"`
	ReminderWait time.Duration `json:"reminder_wait,omitempty"`
	// Window allows at most one survey per customer per window; default 30 days.
	Window time.Duration `json:"window,omitempty"`
	// CommentWait is how long a detractor's care alert waits for the
	// comment the customer may still be typing on the answer page; default
	// 10 minutes.
	CommentWait time.Duration `json:"comment_wait,omitempty"`
}

// Survey kinds.
const (
	SurveyNPS  = "nps"  // 0–10: how likely to recommend us
	SurveyCSAT = "csat" // 1–5: how satisfied with this order or ticket
)

// Survey defaults (SurveyInput's zero values).
const (
	DefaultSurveyDelay  = 24 * time.Hour
	DefaultAnswerWait   = 3 * 24 * time.Hour
	DefaultReminderWait = 4 * 24 * time.Hour
	DefaultSurveyWindow = 30 * 24 * time.Hour
	DefaultCommentWait  = 10 * time.Minute
	// DefaultSurveyLateLimit: asked about a delivery more than a week
	// later, a customer no longer remembers it well enough to score it.
	DefaultSurveyLateLimit = 7 * 24 * time.Hour
)

// SurveyResult is how a survey follow-up ended.
type SurveyResult struct {
	Outcome string   `json:"outcome"`
	Survey  string   `json:"survey"`
	Score   *int     `json:"score,omitempty"`
	Sent    []string `json:"sent,omitempty"`
}

// survey is one customer's follow-up: wait a day, ask, remind once, and act
// on the answer.
type survey struct {
	*journey
	in   SurveyInput
	kind string
	// answer is the answer heard: its message, score and whether it
	// carries a comment, never the comment itself.
	answer *activities.SurveyEventResult
	// messageIDs are the ledger IDs of this run's survey and reminder: an
	// answer names the message its link came from.
	messageIDs []string
}

// SurveyJourney (registered as SurveyWorkflow) asks for a score after a
// delivery or a closed ticket. At most one runs per customer per 30 days,
// however many orders arrive; later triggers while it runs are ignored.
func SurveyJourney(ctx workflow.Context, in SurveyInput) (SurveyResult, error) {
	s := &survey{in: in}
	s.setup(ctx)
	outcome, err := s.run(ctx)
	outcome, err = s.end(ctx, outcome, err)
	res := SurveyResult{Outcome: outcome, Survey: s.kind, Sent: s.sent}
	if s.answer != nil {
		n := s.answer.Score
		res.Score = &n
	}
	return res, err
}

func (s *survey) setup(ctx workflow.Context) {
	s.kind = s.in.Survey
	if s.kind == "" {
		s.kind = SurveyNPS
		if s.in.Trigger.Type == EventTicketClosed {
			s.kind = SurveyCSAT
		}
	}
	s.journey = newJourney(ctx, Survey, s.in.CustomerID, s.in.Trigger, func(e Event) bool { return s.onEvent(ctx, e) })
	s.messageIDs = []string{delivery.MessageID(s.key("survey")), delivery.MessageID(s.key("reminder"))}
}

// onEvent ends the waiting at this run's answer: one whose message ID is
// our survey or reminder, or, without a message ID, one of our kind.
func (s *survey) onEvent(ctx workflow.Context, e Event) bool {
	if e.Type != EventSurveyAnswered {
		return false
	}
	f := s.facts(ctx, e)
	if !s.ours(f) {
		return false
	}
	s.answer = &f
	return true
}

// facts reads what the run acts on of an answer or a comment: from the
// stored event, since the signal carries only its ID; a signal recorded
// with its properties is read as it was.
func (s *survey) facts(ctx workflow.Context, e Event) activities.SurveyEventResult {
	if !storedFacts(ctx, e) {
		score, _ := activities.Number(e.Properties["score"])
		comment, _ := e.Properties["comment"].(string)
		f := activities.SurveyEventResult{Found: true, Score: int(score), Commented: comment != ""}
		f.MessageID, _ = e.Properties["message_id"].(string)
		f.Survey, _ = e.Properties["survey"].(string)
		return f
	}
	var f activities.SurveyEventResult
	err := storeCall(ctx, act.SurveyEvent, activities.SurveyEventInput{CustomerID: s.customerID, EventID: e.EventID}, &f)
	if err != nil {
		workflow.GetLogger(ctx).Warn("survey event unreadable", "customer_id", s.customerID, "event_id", e.EventID, "error", err)
	}
	return f
}

// ours reports whether an answer or comment belongs to this run.
func (s *survey) ours(f activities.SurveyEventResult) bool {
	if !f.Found {
		return false
	}
	if f.MessageID != "" {
		return slices.Contains(s.messageIDs, f.MessageID)
	}
	return f.Survey == "" || f.Survey == s.kind
}

// awaitComment gives a detractor who answered by the score link time to
// finish the comment form, so the care team reads why; it returns once the
// comment came or CommentWait passed.
func (s *survey) awaitComment(ctx workflow.Context) {
	s.box.stopped = false
	s.box.stop = func(e Event) bool {
		if e.Type != EventSurveyCommented {
			return false
		}
		f := s.facts(ctx, e)
		return s.ours(f) && f.Commented
	}
	s.box.sleep(ctx, orDefault(s.in.CommentWait, DefaultCommentWait))
	s.box.ignoreAll()
}

func (s *survey) run(ctx workflow.Context) (string, error) {
	ok, err := s.claim(ctx, s.in.Trigger.Type, orDefault(s.in.Window, DefaultSurveyWindow))
	if err != nil || !ok {
		return OutcomeAlreadyRun, err
	}
	if _, err := s.profile(ctx, ""); err != nil {
		return "", err
	}
	steps := []func(workflow.Context) (bool, error){
		s.wait(orDefault(s.in.Delay, DefaultSurveyDelay)),
		s.ask("survey", "survey_request"),
		s.wait(orDefault(s.in.AnswerWait, DefaultAnswerWait)),
		s.ask("reminder", "survey_reminder"),
		s.wait(orDefault(s.in.ReminderWait, DefaultReminderWait)),
	}
	for _, step := range steps {
		goOn, err := step(ctx)
		if err != nil {
			return "", err
		}
		if !goOn {
			return s.answered(ctx)
		}
	}
	return OutcomeNoResponse, nil
}

func (s *survey) wait(d time.Duration) func(workflow.Context) (bool, error) {
	return func(ctx workflow.Context) (bool, error) { return s.box.sleep(ctx, d), nil }
}

// ask sends the survey or its reminder; the send path defers it into the
// customer's sending window and the one-click score links carry its
// message ID.
func (s *survey) ask(step, template string) func(workflow.Context) (bool, error) {
	return func(ctx workflow.Context) (bool, error) {
		return s.send(ctx, delivery.Request{Step: step, Channel: delivery.Email, Template: template,
			Topic: delivery.TopicSurveys, Data: map[string]any{"survey": s.kind}})
	}
}

// answered acts on the score: detractors raise a care alert, promoters are
// asked for a review, everyone is thanked.
func (s *survey) answered(ctx workflow.Context) (string, error) {
	s.box.ignoreAll()
	score := s.answer.Score
	outcome := classify(s.kind, score)
	if outcome == OutcomeDetractor && !s.answer.Commented &&
		workflow.GetVersion(ctx, "detractor-awaits-comment", workflow.DefaultVersion, 1) == 1 {
		s.awaitComment(ctx)
	}
	thanks := delivery.Request{Step: "thanks", Channel: delivery.Email, Template: "survey_thanks",
		Topic: delivery.TopicSurveys, Transactional: true, Data: map[string]any{"survey": s.kind}}
	switch outcome {
	case OutcomeDetractor:
		err := workflow.ExecuteActivity(withSend(ctx), act.AlertCareTeam, activities.AlertInput{
			CustomerID: s.customerID, Journey: s.name, RunID: s.runID, Survey: s.kind, Score: score, MessageID: s.answer.MessageID,
		}).Get(ctx, nil)
		if customerGone(err) {
			return "", err
		}
		if err != nil {
			workflow.GetLogger(ctx).Error("care team not alerted", "customer_id", s.customerID, "error", err)
		}
	case OutcomePromoter:
		var link activities.ReviewLinkResult
		if err := workflow.ExecuteActivity(withStore(ctx), act.ReviewLink, activities.ReviewLinkInput{CustomerID: s.customerID}).Get(ctx, &link); err != nil {
			return "", err
		}
		if link.URL != "" {
			thanks.Template = "survey_thanks_review"
			thanks.Data["review_url"] = link.URL
		}
	}
	if _, err := s.send(ctx, thanks); err != nil {
		return "", err
	}
	return outcome, nil
}

// classify sorts a score: NPS 0–6 detractor, 9–10 promoter; CSAT 1–2
// detractor, 5 promoter; the rest passive.
func classify(kind string, score int) string {
	detractorMax, promoterMin := 6, 9
	if kind == SurveyCSAT {
		detractorMax, promoterMin = 2, 5
	}
	switch {
	case score <= detractorMax:
		return OutcomeDetractor
	case score >= promoterMin:
		return OutcomePromoter
	}
	return OutcomePassive
}
