package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Traffic counts the ledger rows created in a window, per channel, status
// and reason, with what recipients' servers reported back about them.
type Traffic struct {
	Channel  string `db:"channel"`
	Status   string `db:"status"`
	Reason   string `db:"reason"`
	Delivery string `db:"delivery"`
	Count    int64  `db:"n"`
}

// TrafficSince groups the messages created since t by channel, status,
// reason and delivery report (the messages_created_at index bounds the scan
// to the window).
func (s *Store) TrafficSince(ctx context.Context, t time.Time) ([]Traffic, error) {
	return listWithoutJIT[Traffic](ctx, s, fmt.Sprintf("count messages since %s", t.Format(time.RFC3339)), `
		SELECT channel, status, reason, delivery, count(*) AS n
		FROM messages WHERE created_at >= $1
		GROUP BY channel, status, reason, delivery
		ORDER BY channel, status, reason, delivery`, t)
}

// TrafficBetween is TrafficSince for the messages created in [from, to).
func (s *Store) TrafficBetween(ctx context.Context, from, to time.Time) ([]Traffic, error) {
	return listWithoutJIT[Traffic](ctx, s, fmt.Sprintf("count messages from %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339)), `
		SELECT channel, status, reason, delivery, count(*) AS n
		FROM messages WHERE created_at >= $1 AND created_at < $2
		GROUP BY channel, status, reason, delivery
		ORDER BY channel, status, reason, delivery`, from, to)
}

// listWithoutJIT is list in a transaction whose statement PostgreSQL does
// not JIT-compile. The overview's counts are planned for far more rows than
// they read (a day of the ledger, the runs in flight), and at a million
// customers compiling each took about 100 ms, more than running it.
func listWithoutJIT[T any](ctx context.Context, s *Store, what, query string, args ...any) ([]T, error) {
	var out []T
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var err error
		out, err = list[T](ctx, tx, what, query, args...)
		return err
	})
	return out, err
}

// JourneyLoad is how many runs of a journey are in flight.
type JourneyLoad struct {
	Journey string `db:"journey"`
	Running int64  `db:"running"`
}

// JourneysInFlight counts the per-customer journey runs not yet ended.
func (s *Store) JourneysInFlight(ctx context.Context) ([]JourneyLoad, error) {
	return listWithoutJIT[JourneyLoad](ctx, s, "count journeys in flight", `
		SELECT journey, count(*) AS running FROM journey_runs WHERE ended_at IS NULL
		GROUP BY journey ORDER BY running DESC, journey`)
}

// CampaignLoad is a campaign that is not archived, with the entries still
// under way (a paused campaign's are its backlog).
type CampaignLoad struct {
	Name     string     `db:"name"`
	Status   string     `db:"status"`
	Version  int        `db:"current_version"`
	Trigger  string     `db:"trigger_kind"`
	PausedAt *time.Time `db:"paused_at"`
	Open     int64      `db:"open"`
}

// CampaignLoads lists the active and paused campaigns with their open
// entries, most open first.
func (s *Store) CampaignLoads(ctx context.Context, limit int) ([]CampaignLoad, error) {
	return list[CampaignLoad](ctx, s.pool, "list live campaigns", `
		SELECT c.name, c.status, c.current_version, c.trigger_kind, c.paused_at,
			(SELECT count(*) FROM campaign_entries e WHERE e.campaign = c.name AND e.finished_at IS NULL) AS open
		FROM campaigns c WHERE c.status <> 'archived'
		ORDER BY open DESC, c.name LIMIT $1`, limit)
}

// CustomerScoreOf returns a customer's scores, or ErrNotFound before the
// first refresh that saw them.
func (s *Store) CustomerScoreOf(ctx context.Context, customerID string) (CustomerScore, error) {
	sc, err := rowOf[CustomerScore](ctx, s.pool, `
		SELECT customer_id::text AS customer_id, recency, frequency, monetary, value_tier, scored_at FROM customer_scores WHERE customer_id = $1`, customerID)
	if errors.Is(err, ErrNotFound) {
		return CustomerScore{}, ErrNotFound
	}
	if err != nil {
		return CustomerScore{}, fmt.Errorf("scores of customer %s: %w", customerID, err)
	}
	return sc, nil
}
