package store

import (
	"context"
	"fmt"
	"time"
)

// SurveyBands are the score bands of a survey kind, as the survey journey
// sorts answers: a score up to DetractorMax is a detractor's, one from
// PromoterMin a promoter's, the rest passive; SatisfiedMin starts the
// answers CSAT counts as satisfied (4 and 5 of 5).
type SurveyBands struct {
	DetractorMax, PromoterMin, SatisfiedMin int
}

// SurveyBandsOf returns the bands of a kind: NPS 0–6 / 7–8 / 9–10, CSAT
// 1–2 / 3–4 / 5 with 4–5 satisfied; ok is false for an unknown kind.
func SurveyBandsOf(kind string) (SurveyBands, bool) {
	switch kind {
	case NPS:
		return SurveyBands{DetractorMax: 6, PromoterMin: 9, SatisfiedMin: 9}, true
	case CSAT:
		return SurveyBands{DetractorMax: 2, PromoterMin: 5, SatisfiedMin: 4}, true
	}
	return SurveyBands{}, false
}

// SurveyQuery selects the answers and invitations of one survey kind in
// [Since, Until).
type SurveyQuery struct {
	Survey       string
	Since, Until time.Time
	// Triggers are the event types whose survey follow-up asks this kind:
	// an invitation nobody answered has no kind of its own, so the run's
	// trigger decides it.
	Triggers []string
}

// SurveyTally is the counts of one group of a survey report: Dimension is
// total, week, month, trigger, locale or tier and Label its value (an ISO
// week such as 2026-W14, a month such as 2026-04, an event type, a locale,
// high/mid/low or unscored). Invitations count in the period they were sent,
// answers in the period they were given.
type SurveyTally struct {
	Dimension  string `db:"dimension"`
	Label      string `db:"label"`
	Invited    int    `db:"invited"`
	Answered   int    `db:"answered"`
	Responses  int    `db:"responses"`
	Promoters  int    `db:"promoters"`
	Detractors int    `db:"detractors"`
	Satisfied  int    `db:"satisfied"`
	ScoreSum   int64  `db:"score_sum"`
}

// surveyFacts is one row per invitation and answer whose time passes the
// conditions (inviteAt on an invitation's time, answerAt on an answer's,
// each a function of the time's expression), with what the survey reports
// group by. An invitation is a sent "survey" step of the survey journey;
// survey is the kind of the answer it got by its run's survey or reminder
// message (survey_responses is unique per message), empty when none. The run
// (journey_runs, by the run ID inside the idempotency key) says the trigger.
func surveyFacts(inviteAt, answerAt func(expr string) string) string {
	return `
    SELECT u.invite, u.survey, u.trigger, u.at, u.score,
        coalesce(c.locale, '') AS locale, coalesce(cs.value_tier, 'unscored') AS tier
    FROM (
        SELECT true AS invite, coalesce(a.survey, '') AS survey, coalesce(r.trigger, '') AS trigger,
            m.customer_id, coalesce(m.sent_at, m.created_at) AS at, NULL::int AS score
        FROM messages m
        LEFT JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
        LEFT JOIN LATERAL (
            SELECT sr.survey FROM messages m2 JOIN survey_responses sr ON sr.message_id = m2.id
            WHERE m2.idempotency_key IN (m.idempotency_key, left(m.idempotency_key, -length('survey')) || 'reminder')
            LIMIT 1
        ) a ON true
        WHERE m.journey = 'survey' AND m.status = 'sent' AND m.step = 'survey'
          AND ` + inviteAt("coalesce(m.sent_at, m.created_at)") + `
        UNION ALL
        SELECT false, sr.survey, coalesce(r.trigger, ''), sr.customer_id, sr.answered_at, sr.score
        FROM survey_responses sr
        LEFT JOIN messages m ON m.id = sr.message_id AND m.journey = 'survey'
        LEFT JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
        WHERE ` + answerAt("sr.answered_at") + `
    ) u
    LEFT JOIN customers c ON c.id = u.customer_id
    LEFT JOIN customer_scores cs ON cs.customer_id = u.customer_id`
}

// keepSurveyDays is the refresh's survey_days: every invitation and answer
// before $1, counted per UTC day and group.
var keepSurveyDays = `
INSERT INTO survey_days (day, invite, survey, trigger, locale, tier, score, n)
SELECT (f.at AT TIME ZONE 'UTC')::date, f.invite, f.survey, f.trigger, f.locale, f.tier, f.score, count(*)
FROM (` + surveyFacts(before1, before1) + `) f
GROUP BY 1, 2, 3, 4, 5, 6, 7`

func before1(expr string) string { return expr + " < $1" }

// surveyTallies groups a survey's invitations and answers every way a
// report shows them in one pass: the kept days of survey_days, and the
// rest of the period counted live. An invitation nobody answered is of the
// kind its trigger asks ($2).
var surveyTallies = `
WITH u AS (
    SELECT invite, survey, trigger, at, score, 1 AS n, locale, tier FROM (` +
	surveyFacts(func(e string) string { return live(e, 6) }, func(e string) string { return "sr.survey = $1 AND " + live(e, 6) }) + `
    ) f
    UNION ALL
    SELECT invite, survey, trigger, day::timestamp AT TIME ZONE 'UTC', score, n, locale, tier
    FROM survey_days WHERE day >= $10::date AND day < $11::date
), grouped AS (
    SELECT invite, survey <> '' AS answered, score, n, trigger, locale, tier,
        to_char(date_trunc('week', at AT TIME ZONE 'UTC'), 'IYYY-"W"IW') AS week,
        to_char(at AT TIME ZONE 'UTC', 'YYYY-MM') AS month
    FROM u
    WHERE CASE WHEN invite THEN coalesce(nullif(survey, ''), CASE WHEN trigger = ANY($2) THEN $1 END) = $1
        ELSE survey = $1 END
)
SELECT CASE WHEN grouping(week) = 0 THEN 'week' WHEN grouping(month) = 0 THEN 'month'
        WHEN grouping(trigger) = 0 THEN 'trigger' WHEN grouping(locale) = 0 THEN 'locale'
        WHEN grouping(tier) = 0 THEN 'tier' ELSE 'total' END AS dimension,
    coalesce(week, month, trigger, locale, tier, '') AS label,
    coalesce(sum(n) FILTER (WHERE invite), 0)::int AS invited,
    coalesce(sum(n) FILTER (WHERE invite AND answered), 0)::int AS answered,
    coalesce(sum(n) FILTER (WHERE NOT invite), 0)::int AS responses,
    coalesce(sum(n) FILTER (WHERE NOT invite AND score >= $3), 0)::int AS promoters,
    coalesce(sum(n) FILTER (WHERE NOT invite AND score <= $4), 0)::int AS detractors,
    coalesce(sum(n) FILTER (WHERE NOT invite AND score >= $5), 0)::int AS satisfied,
    coalesce(sum(score * n), 0)::bigint AS score_sum
FROM grouped
GROUP BY GROUPING SETS ((), (week), (month), (trigger), (locale), (tier))
ORDER BY 1, 2`

// SurveyTallies counts a survey's invitations and answers in total and by
// week, month, trigger, locale and value tier (weeks and months in UTC).
// Groups without rows are absent.
func (s *Store) SurveyTallies(ctx context.Context, q SurveyQuery) ([]SurveyTally, error) {
	b, ok := SurveyBandsOf(q.Survey)
	if !ok {
		return nil, fmt.Errorf("survey report: unknown survey %q", q.Survey)
	}
	triggers := q.Triggers
	if triggers == nil {
		triggers = []string{}
	}
	var out []SurveyTally
	err := s.readKept(ctx, keptSurveys, func(tx querier, through *time.Time) error {
		sp := spanOf(q.Since, q.Until, through)
		var err error
		out, err = list[SurveyTally](ctx, tx, q.Survey+" report", surveyTallies,
			append([]any{q.Survey, triggers, b.PromoterMin, b.DetractorMax, b.SatisfiedMin}, sp.args()...)...)
		return err
	})
	return out, err
}

// DetractorComment is a detractor's answer that came with a comment.
type DetractorComment struct {
	CustomerID string    `db:"customer_id" json:"customer_id"`
	ExternalID string    `db:"external_id" json:"external_id"`
	Score      int       `db:"score" json:"score"`
	Comment    string    `db:"comment" json:"comment"`
	Trigger    string    `db:"trigger" json:"trigger"`
	AnsweredAt time.Time `db:"answered_at" json:"answered_at"`
}

// DetractorComments lists up to limit commented detractor answers of the
// period, newest first.
func (s *Store) DetractorComments(ctx context.Context, q SurveyQuery, limit int) ([]DetractorComment, error) {
	b, ok := SurveyBandsOf(q.Survey)
	if !ok {
		return nil, fmt.Errorf("detractor comments: unknown survey %q", q.Survey)
	}
	return list[DetractorComment](ctx, s.pool, fmt.Sprintf("%s detractor comments", q.Survey), `
		SELECT sr.customer_id::text AS customer_id, c.external_id, sr.score, sr.comment,
			coalesce(r.trigger, '') AS trigger, sr.answered_at
		FROM survey_responses sr
		JOIN customers c ON c.id = sr.customer_id
		LEFT JOIN messages m ON m.id = sr.message_id AND m.journey = 'survey'
		LEFT JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
		WHERE sr.survey = $1 AND sr.answered_at >= $2 AND sr.answered_at < $3
		  AND sr.score <= $4 AND sr.comment <> ''
		ORDER BY sr.answered_at DESC, sr.id DESC
		LIMIT $5`, q.Survey, q.Since, q.Until, b.DetractorMax, limit)
}
