package activities

import (
	"context"
	"errors"
	"time"

	"github.com/tidingsdev/tidings/internal/store"
)

// RefreshJourney is the ledger and registry name of the refresh sweep.
const RefreshJourney = "refresh"

// Refresher is what the refresh needs of the store beyond Store; the
// refresh asks the store it was given for it, so the journeys' fakes need
// not implement it. *store.Store does.
type Refresher interface {
	RefreshScores(ctx context.Context, now time.Time) (store.ScoreRefresh, error)
	RecordStages(ctx context.Context, at time.Time) (int64, error)
}

// RefreshInput is one refresh of what reports and segments read; At is the
// moment the scores and stages are computed for.
type RefreshInput struct {
	At time.Time `json:"at"`
}

// RefreshResult says what one refresh changed.
type RefreshResult struct {
	Customers     int64 `json:"customers"`
	ScoresChanged int64 `json:"scores_changed"`
	StagesWritten int64 `json:"stages_written"`
}

// RefreshReports recomputes the customers' RFM scores and value tiers and
// records their lifecycle stage for the month, so segments and reports
// read current figures without anyone running a refresh by hand. Each
// part is one set-based statement and idempotent: a retry redoes it.
func (a *Activities) RefreshReports(ctx context.Context, in RefreshInput) (RefreshResult, error) {
	r, ok := a.store.(Refresher)
	if !ok {
		return RefreshResult{}, nonRetryable(ErrInvalidInput, errors.New("this worker's store cannot refresh reports"))
	}
	scores, err := r.RefreshScores(ctx, in.At)
	if err != nil {
		return RefreshResult{}, err
	}
	stages, err := r.RecordStages(ctx, in.At)
	if err != nil {
		return RefreshResult{}, err
	}
	return RefreshResult{Customers: scores.Customers, ScoresChanged: scores.Changed, StagesWritten: stages}, nil
}
