package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// CampaignWinner is an automatic A/B test's decision for one campaign
// version: the variant the rest of the audience is sent, the rule that
// chose it and the numbers it was chosen on.
type CampaignWinner struct {
	Campaign  string         `db:"campaign" json:"campaign"`
	Version   int            `db:"version" json:"version"`
	Step      string         `db:"step" json:"step"`
	Metric    string         `db:"metric" json:"metric"`
	Variant   string         `db:"variant" json:"variant"`
	Rule      string         `db:"rule" json:"rule"`
	MinSent   int            `db:"min_sent" json:"min_sent"`
	Tallies   []VariantTally `db:"tallies" json:"tallies"`
	DecidedAt time.Time      `db:"decided_at" json:"decided_at"`
}

// VariantTally is what one variant did in the test: messages sent, and the
// customers among them who did what the metric counts (clicked it, or
// reached the goal) by the time of the decision.
type VariantTally struct {
	Variant string `json:"variant"`
	Sent    int    `json:"sent"`
	Hits    int    `json:"hits"`
}

const winnerColumns = `campaign, version, step, metric, variant, rule, min_sent, tallies, decided_at`

// CampaignWinner returns the winner recorded for a campaign version, or
// ErrNotFound while none is.
func (s *Store) CampaignWinner(ctx context.Context, campaign string, version int) (CampaignWinner, error) {
	return get[CampaignWinner](ctx, s.pool, fmt.Sprintf("A/B winner of campaign %s version %d", campaign, version),
		`SELECT `+winnerColumns+` FROM campaign_winners WHERE campaign = $1 AND version = $2`, campaign, version)
}

// latestCampaignWinner is the winner of the latest version that has one,
// nil when none has.
func (s *Store) latestCampaignWinner(ctx context.Context, campaign string) (*CampaignWinner, error) {
	ws, err := list[CampaignWinner](ctx, s.pool, "load the A/B winner of campaign "+campaign,
		`SELECT `+winnerColumns+` FROM campaign_winners WHERE campaign = $1 ORDER BY version DESC LIMIT 1`, campaign)
	if err != nil || len(ws) == 0 {
		return nil, err
	}
	return &ws[0], nil
}

// RecordCampaignWinner stores w unless the version already has a winner,
// and returns the one stored: the first decision stands, so a retried or
// repeated decision never sends the rest of the audience another variant.
func (s *Store) RecordCampaignWinner(ctx context.Context, w CampaignWinner) (CampaignWinner, error) {
	tallies, err := json.Marshal(w.Tallies)
	if err != nil {
		return CampaignWinner{}, fmt.Errorf("encode the A/B tallies of %s: %w", w.Campaign, err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO campaign_winners (`+winnerColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (campaign, version) DO NOTHING`,
		w.Campaign, w.Version, w.Step, w.Metric, w.Variant, w.Rule, w.MinSent, tallies, w.DecidedAt)
	if err != nil {
		return CampaignWinner{}, fmt.Errorf("record the A/B winner of %s version %d: %w", w.Campaign, w.Version, err)
	}
	return s.CampaignWinner(ctx, w.Campaign, w.Version)
}

// CampaignTestTallies counts an A/B test of a campaign version at step:
// for each variant (in the order given) the test's messages sent, and the
// customers among them who by `at` clicked the message (metric "click":
// a person's click, not a link scanner's) or reached the goal (metric
// "goal": the goal event within the entry's window). Only the test's own
// entries count: neither the holdout nor the rollout of the winner.
func (s *Store) CampaignTestTallies(ctx context.Context, campaign string, version int, step, metric string, variants []string, at time.Time) ([]VariantTally, error) {
	var hit string
	switch metric {
	case "click":
		hit = `EXISTS (SELECT 1 FROM message_clicks k WHERE k.message_id = m.id AND NOT k.machine AND k.first_at <= $4)`
	case "goal":
		hit = `(e.goal_at <= $4 OR EXISTS (SELECT 1 FROM events ev
			WHERE ev.customer_id = e.customer_id AND ev.type = e.goal_event
			  AND ev.occurred_at >= e.entered_at AND ev.occurred_at < least(e.goal_until, $4)))`
	default:
		return nil, fmt.Errorf("A/B metric %q: expected click or goal", metric)
	}
	type row struct {
		Variant string `db:"variant"`
		Sent    int    `db:"sent"`
		Hits    int    `db:"hits"`
	}
	// Each entry's message is found by its idempotency key (campaign.RunKey).
	got, err := list[row](ctx, s.pool, fmt.Sprintf("count the A/B test of %s version %d", campaign, version), `
		SELECT e.variant,
			count(*) FILTER (WHERE m.status = 'sent')::int AS sent,
			count(*) FILTER (WHERE m.status = 'sent' AND `+hit+`)::int AS hits
		FROM campaign_entries e
		JOIN messages m ON m.idempotency_key =
			'campaign/' || e.campaign || '/' || e.version || '/' || e.customer_id || '/' || $3 || '/' || e.occurrence
		WHERE e.campaign = $1 AND e.version = $2 AND NOT e.holdout AND NOT e.rollout AND e.variant <> ''
		GROUP BY e.variant`, campaign, version, step, at)
	if err != nil {
		return nil, err
	}
	out := make([]VariantTally, len(variants))
	for i, v := range variants {
		out[i].Variant = v
		for _, r := range got {
			if r.Variant == v {
				out[i].Sent, out[i].Hits = r.Sent, r.Hits
			}
		}
	}
	return out, nil
}
