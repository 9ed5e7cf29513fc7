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

// surveyTallies groups a survey's invitations and answers every way a
// report shows them in one pass. An invitation is a sent "survey" step of
// the survey journey; it is answered when its run's survey or reminder
// message got an answer (survey_responses is unique per message). The run
// (journey_runs, by the run ID inside the idempotency key) says the trigger.
const surveyTallies = `
WITH invites AS (
    SELECT m.customer_id, coalesce(r.trigger, '') AS trigger, coalesce(m.sent_at, m.created_at) AS at,
        a.survey IS NOT NULL AS answered, a.survey
    FROM messages m
    LEFT JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
    LEFT JOIN LATERAL (
        SELECT sr.survey FROM messages m2 JOIN survey_responses sr ON sr.message_id = m2.id
        WHERE m2.idempotency_key IN (m.idempotency_key, left(m.idempotency_key, -length('survey')) || 'reminder')
        LIMIT 1
    ) a ON true
    WHERE m.journey = 'survey' AND m.status = 'sent' AND m.step = 'survey'
      AND coalesce(m.sent_at, m.created_at) >= $2 AND coalesce(m.sent_at, m.created_at) < $3
), answers AS (
    SELECT sr.customer_id, coalesce(r.trigger, '') AS trigger, sr.answered_at AS at, sr.score
    FROM survey_responses sr
    LEFT JOIN messages m ON m.id = sr.message_id AND m.journey = 'survey'
    LEFT JOIN journey_runs r ON r.journey = 'survey' AND r.run_id = split_part(m.idempotency_key, '/', 3)
    WHERE sr.survey = $1 AND sr.answered_at >= $2 AND sr.answered_at < $3
), grouped AS (
    SELECT u.invite, u.answered, u.score, u.trigger,
        to_char(date_trunc('week', u.at AT TIME ZONE 'UTC'), 'IYYY-"W"IW') AS week,
        to_char(u.at AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
        coalesce(c.locale, '') AS locale, coalesce(cs.value_tier, 'unscored') AS tier
    FROM (
        SELECT true AS invite, customer_id, trigger, at, answered, NULL::int AS score
        FROM invites WHERE coalesce(survey, CASE WHEN trigger = ANY($4) THEN $1 END) = $1
        UNION ALL
        SELECT false, customer_id, trigger, at, false, score FROM answers
    ) u
    LEFT JOIN customers c ON c.id = u.customer_id
    LEFT JOIN customer_scores cs ON cs.customer_id = u.customer_id
)
SELECT CASE WHEN grouping(week) = 0 THEN 'week' WHEN grouping(month) = 0 THEN 'month'
        WHEN grouping(trigger) = 0 THEN 'trigger' WHEN grouping(locale) = 0 THEN 'locale'
        WHEN grouping(tier) = 0 THEN 'tier' ELSE 'total' END AS dimension,
    coalesce(week, month, trigger, locale, tier, '') AS label,
    count(*) FILTER (WHERE invite)::int AS invited,
    count(*) FILTER (WHERE invite AND answered)::int AS answered,
    count(*) FILTER (WHERE NOT invite)::int AS responses,
    count(*) FILTER (WHERE NOT invite AND score >= $5)::int AS promoters,
    count(*) FILTER (WHERE NOT invite AND score <= $6)::int AS detractors,
    count(*) FILTER (WHERE NOT invite AND score >= $7)::int AS satisfied,
    coalesce(sum(score), 0)::bigint AS score_sum
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
	return list[SurveyTally](ctx, s.pool, q.Survey+" report", surveyTallies, q.Survey, q.Since, q.Until, triggers,
		b.PromoterMin, b.DetractorMax, b.SatisfiedMin)
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
