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

// TallyKeeper keeps the tallies the reports sum (NPS, CSAT,
// deliverability, retention, churn, acquisition, customer value), so a
// report over a year reads days rather than the ledger; *store.Store does.
type TallyKeeper interface {
	KeepReportTallies(ctx context.Context, at time.Time) (store.KeptTallies, error)
}

// AudienceRecorder measures every saved segment's and live campaign's
// audience as of a moment and keeps the counts, with each campaign's
// results (mgmt.Service does), so a segment's size over time and the
// campaign list's results move with each refresh.
type AudienceRecorder interface {
	RecordAudienceSizes(ctx context.Context, at time.Time) ([]store.AudienceSize, error)
}

// MeasureAudiences makes a's refresh also record the audiences' sizes
// through r, after the new scores are in; without it the refresh leaves
// sizes alone. It is a function, not a method, because the worker
// registers every method of Activities as an activity.
func MeasureAudiences(a *Activities, r AudienceRecorder) { a.audiences = r }

// FunnelKeeper counts and keeps the built-in journeys' funnels as of a
// moment (mgmt.Service does), so the journey funnel reports read them.
type FunnelKeeper interface {
	KeepJourneyFunnels(ctx context.Context, at time.Time) (int, error)
}

// KeepFunnels makes a's refresh also keep the journeys' funnels through k,
// after the audiences (and with them the campaigns' funnels) are kept.
func KeepFunnels(a *Activities, k FunnelKeeper) { a.funnels = k }

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
	// Tallies is how many daily report tallies were kept.
	Tallies store.KeptTallies `json:"tallies"`
	// Audiences is how many segment and campaign audiences were measured.
	Audiences int `json:"audiences"`
	// Funnels is how many journeys' funnels were kept.
	Funnels int `json:"funnels"`
}

// RefreshReports recomputes the customers' RFM scores and value tiers,
// records their lifecycle stage for the month, keeps the reports' tallies
// and, when it measures audiences, every segment's and live campaign's size
// at that moment, so segments and reports read current figures without
// anyone running a refresh by hand; when it keeps funnels, every built-in
// journey's funnel too. Each part is idempotent: a retry redoes it.
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
	res := RefreshResult{Customers: scores.Customers, ScoresChanged: scores.Changed, StagesWritten: stages}
	if k, ok := a.store.(TallyKeeper); ok {
		// After the scores: the survey and value tallies keep each
		// customer's tier.
		if res.Tallies, err = k.KeepReportTallies(ctx, in.At); err != nil {
			return RefreshResult{}, err
		}
	}
	if a.audiences != nil {
		sizes, err := a.audiences.RecordAudienceSizes(ctx, in.At)
		if err != nil {
			return RefreshResult{}, err
		}
		res.Audiences = len(sizes)
	}
	if a.funnels != nil {
		if res.Funnels, err = a.funnels.KeepJourneyFunnels(ctx, in.At); err != nil {
			return RefreshResult{}, err
		}
	}
	return res, nil
}
