package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Survey kinds and their score ranges.
const (
	NPS  = "nps"  // 0–10: how likely to recommend
	CSAT = "csat" // 1–5: how satisfied
)

// SurveyScoreRange returns the valid scores of a survey kind; ok is false for
// an unknown kind.
func SurveyScoreRange(kind string) (lo, hi int, ok bool) {
	switch kind {
	case NPS:
		return 0, 10, true
	case CSAT:
		return 1, 5, true
	}
	return 0, 0, false
}

// SurveyResponse is a customer's answer to one survey message.
type SurveyResponse struct {
	ID         int64     `db:"id" json:"-"`
	CustomerID string    `db:"customer_id" json:"-"`
	Survey     string    `db:"survey" json:"survey"`
	Score      int       `db:"score" json:"score"`
	Comment    string    `db:"comment" json:"comment,omitempty"`
	MessageID  string    `db:"message_id" json:"message_id"`
	AnsweredAt time.Time `db:"answered_at" json:"answered_at"`
}

const surveyColumns = `id, customer_id::text AS customer_id, survey, score, comment,
	coalesce(message_id::text, '') AS message_id, answered_at`

// RecordSurveyAnswer stores the score given for a survey message. The answer
// is unique per message: a second click updates the score instead of adding a
// response, so a customer changing their mind is counted once. created is
// true for the first answer.
func (s *Store) RecordSurveyAnswer(ctx context.Context, r SurveyResponse) (SurveyResponse, bool, error) {
	if _, _, ok := SurveyScoreRange(r.Survey); !ok {
		return SurveyResponse{}, false, fmt.Errorf("record survey answer: unknown survey %q", r.Survey)
	}
	var created bool
	var out SurveyResponse
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM survey_responses WHERE message_id = $1)`,
			r.MessageID).Scan(&created)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			INSERT INTO survey_responses (customer_id, survey, score, message_id)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (message_id) DO UPDATE SET score = excluded.score, answered_at = now()
			RETURNING `+surveyColumns, r.CustomerID, r.Survey, r.Score, r.MessageID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[SurveyResponse])
		return err
	})
	if err != nil {
		return SurveyResponse{}, false, fmt.Errorf("record %s answer to message %s: %w", r.Survey, r.MessageID, err)
	}
	return out, created, nil
}

// SetSurveyComment adds the optional free-text comment to an answer.
func (s *Store) SetSurveyComment(ctx context.Context, messageID, comment string) (SurveyResponse, error) {
	r, err := rowOf[SurveyResponse](ctx, s.pool, `
		UPDATE survey_responses SET comment = $2 WHERE message_id = $1
		RETURNING `+surveyColumns, messageID, comment)
	if errors.Is(err, ErrNotFound) {
		return SurveyResponse{}, fmt.Errorf("survey answer to message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return SurveyResponse{}, fmt.Errorf("comment on survey answer %s: %w", messageID, err)
	}
	return r, nil
}

// SurveyResponseTo returns the answer given to a survey message, or
// ErrNotFound while there is none.
func (s *Store) SurveyResponseTo(ctx context.Context, messageID string) (SurveyResponse, error) {
	r, err := rowOf[SurveyResponse](ctx, s.pool, `SELECT `+surveyColumns+` FROM survey_responses WHERE message_id = $1`, messageID)
	if errors.Is(err, ErrNotFound) {
		return SurveyResponse{}, fmt.Errorf("survey answer to message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return SurveyResponse{}, fmt.Errorf("survey answer to message %s: %w", messageID, err)
	}
	return r, nil
}

// SurveyResponses lists a customer's answers, oldest first.
func (s *Store) SurveyResponses(ctx context.Context, customerID string) ([]SurveyResponse, error) {
	return list[SurveyResponse](ctx, s.pool, fmt.Sprintf("survey answers of %s", customerID), `
		SELECT `+surveyColumns+` FROM survey_responses WHERE customer_id = $1 ORDER BY answered_at, id`, customerID)
}
