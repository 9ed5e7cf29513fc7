package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/store"
)

// AlertInput is a detractor's answer, for the care team.
type AlertInput struct {
	CustomerID string `json:"customer_id"`
	Journey    string `json:"journey"`
	RunID      string `json:"run_id"`
	Survey     string `json:"survey"`
	Score      int    `json:"score"`
	// MessageID is the survey message answered: the alert reads the
	// customer's comment on it from PostgreSQL.
	MessageID string `json:"message_id,omitempty"`
	// Comment is what runs recorded before comments stayed out of
	// workflows passed.
	Comment string `json:"comment,omitempty"`
}

// AlertResult says where the alert went.
type AlertResult struct {
	Email   delivery.Result `json:"email"`
	Webhook bool            `json:"webhook"`
}

// recentOrdersShown is how many of the customer's latest orders an alert lists.
const recentOrdersShown = 5

// AlertCareTeam tells the care team about an unhappy customer: an email to
// the configured address through the send path (transactional, keyed per
// run so a retry sends one email) and, when configured, a JSON webhook with
// the same facts and an Idempotency-Key header.
func (a *Activities) AlertCareTeam(ctx context.Context, in AlertInput) (AlertResult, error) {
	c, err := a.store.Customer(ctx, in.CustomerID)
	if err != nil {
		return AlertResult{}, storeErr(err)
	}
	events, err := a.store.CustomerEvents(ctx, in.CustomerID, store.PurchaseEvent, time.Time{}, recentOrdersShown)
	if err != nil {
		return AlertResult{}, err
	}
	comment, err := a.surveyComment(ctx, in)
	if err != nil {
		return AlertResult{}, err
	}
	orders := make([]map[string]any, 0, len(events))
	for _, e := range events {
		orders = append(orders, map[string]any{
			"id": e.EventID, "amount": e.Properties["amount"], "currency": e.Properties["currency"], "at": e.OccurredAt,
		})
	}
	data := map[string]any{
		"survey": in.Survey, "score": in.Score, "comment": comment,
		"customer_ref": c.ExternalID, "recent_orders": orders,
	}
	key := in.Journey + "/" + in.CustomerID + "/" + in.RunID + "/detractor_alert"
	var out AlertResult
	if a.settings.CareTeamEmail != "" {
		out.Email, err = a.SendMessage(ctx, delivery.Request{
			CustomerID: in.CustomerID, Journey: in.Journey, Step: "detractor_alert", Channel: delivery.Email,
			Template: "detractor_alert", Topic: "care", Data: data, IdempotencyKey: key,
			Transactional: true, ToAddress: a.settings.CareTeamEmail,
		})
		if err != nil {
			return AlertResult{}, err
		}
	}
	if a.settings.CareWebhookURL != "" {
		body := map[string]any{"type": "detractor", "customer_id": in.CustomerID}
		for k, v := range data {
			body[k] = v
		}
		if err := a.postWebhook(ctx, key, body); err != nil {
			return AlertResult{}, err
		}
		out.Webhook = true
	}
	return out, nil
}

// surveyComment is the comment the customer left on the message answered.
func (a *Activities) surveyComment(ctx context.Context, in AlertInput) (string, error) {
	if in.Comment != "" || in.MessageID == "" {
		return in.Comment, nil
	}
	rs, err := a.store.SurveyResponses(ctx, in.CustomerID)
	if err != nil {
		return "", err
	}
	for _, r := range rs {
		if r.MessageID == in.MessageID {
			return r.Comment, nil
		}
	}
	return "", nil
}

// SurveyEventInput names a survey answer or comment event a survey journey
// heard.
type SurveyEventInput struct {
	CustomerID string `json:"customer_id"`
	EventID    string `json:"event_id"`
}

// SurveyEventResult is what the journey acts on: which message was
// answered, the score, and whether there is a comment, whose text stays in
// PostgreSQL.
type SurveyEventResult struct {
	Found     bool   `json:"found"`
	MessageID string `json:"message_id,omitempty"`
	Survey    string `json:"survey,omitempty"`
	Score     int    `json:"score"`
	Commented bool   `json:"commented,omitempty"`
}

// SurveyEvent reads a survey_answered or survey_commented event from the
// store, as the API recorded it. An event not stored is not found.
func (a *Activities) SurveyEvent(ctx context.Context, in SurveyEventInput) (SurveyEventResult, error) {
	e, found, err := a.storedEvent(ctx, in.CustomerID, in.EventID)
	if err != nil || !found {
		return SurveyEventResult{}, err
	}
	out := SurveyEventResult{Found: true}
	out.MessageID, _ = e.Properties["message_id"].(string)
	out.Survey, _ = e.Properties["survey"].(string)
	score, _ := Number(e.Properties["score"])
	out.Score = int(score)
	comment, _ := e.Properties["comment"].(string)
	out.Commented = comment != ""
	return out, nil
}

// postWebhook POSTs body as JSON. 2xx is done; 408, 429 and 5xx are retried
// by the activity's policy; any other answer is a configuration problem that
// retrying will not fix.
func (a *Activities) postWebhook(ctx context.Context, key string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return nonRetryable(ErrInvalidInput, fmt.Errorf("encode webhook body: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.settings.CareWebhookURL, bytes.NewReader(b))
	if err != nil {
		return nonRetryable(ErrWebhookRejected, fmt.Errorf("care webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("care webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("care webhook answered %s", resp.Status)
	default:
		return nonRetryable(ErrWebhookRejected, fmt.Errorf("care webhook answered %s", resp.Status))
	}
}

// ReviewLinkInput names the promoter.
type ReviewLinkInput struct {
	CustomerID string `json:"customer_id"`
}

// ReviewLinkResult is where to send them; empty when none is configured.
type ReviewLinkResult struct {
	URL string `json:"url"`
}

// ReviewLink returns the review page promoters are invited to. It is an
// activity so the workflow never reads configuration directly.
func (a *Activities) ReviewLink(_ context.Context, _ ReviewLinkInput) (ReviewLinkResult, error) {
	return ReviewLinkResult{URL: a.settings.ReviewURL}, nil
}
