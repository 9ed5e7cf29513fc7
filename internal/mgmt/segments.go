package mgmt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// SegmentStore keeps saved segments and the scores they read;
// *store.Store implements it.
type SegmentStore interface {
	GetSegment(ctx context.Context, name string) (store.Segment, error)
	SaveSegment(ctx context.Context, seg store.Segment) (store.Segment, string, error)
	ListSegments(ctx context.Context) ([]store.Segment, error)
	DeleteSegment(ctx context.Context, name string) error
	RefreshScores(ctx context.Context, now time.Time) (store.ScoreRefresh, error)
	RecordStages(ctx context.Context, at time.Time) (int64, error)
	KeepReportTallies(ctx context.Context, at time.Time) (store.KeptTallies, error)
	LastScoreRefresh(ctx context.Context) (store.ScoreRefresh, error)
}

// SegmentRef names the segment an action is about: a saved one by Name,
// or a definition in File (YAML or JSON). Exactly one is set.
type SegmentRef struct {
	Name string
	File File
}

// Segment resolves ref to a parsed definition. A bad definition is
// segment.Errors (see Problems); an unknown name store.ErrNotFound.
func (s *Service) Segment(ctx context.Context, ref SegmentRef) (*segment.Definition, error) {
	if ref.Name == "" {
		return segment.Parse(ref.File.Text, ref.File.Name)
	}
	saved, err := s.store.GetSegment(ctx, ref.Name)
	if err != nil {
		return nil, err
	}
	def, err := segment.Parse([]byte(saved.Definition), "segment "+saved.Name)
	if err != nil {
		return nil, fmt.Errorf("saved segment %s no longer parses: %w", saved.Name, err)
	}
	def.Name = saved.Name
	return def, nil
}

// SegmentPreview is a segment's size and a sample of its members with
// their RFM scores, value tier and lifecycle stage, and how long each
// query took.
type SegmentPreview struct {
	Segment  string           `json:"segment,omitempty"`
	Count    int64            `json:"count"`
	Sample   []segment.Member `json:"sample"`
	CountMS  int64            `json:"count_ms"`
	SampleMS int64            `json:"sample_ms"`
	// Warnings say when the count may be off: the definition reads scores
	// that were never computed or are more than two days old.
	Warnings []string `json:"warnings"`
	// WarningKeys are Warnings with their keys, one for one, for a front
	// door that says them in another language.
	WarningKeys []*spec.Problem `json:"-"`
}

// PreviewSegment counts a segment as of at (zero: now) and samples up to
// sample of its members (0: count only; at most 1000).
func (s *Service) PreviewSegment(ctx context.Context, ref SegmentRef, at time.Time, sample int) (SegmentPreview, error) {
	if sample < 0 || sample > 1000 {
		return SegmentPreview{}, fieldError("sample", "%d: want 0 to 1000", sample)
	}
	def, err := s.Segment(ctx, ref)
	if err != nil {
		return SegmentPreview{}, err
	}
	if at.IsZero() {
		at = s.opt.Now()
	}
	out := SegmentPreview{Segment: def.Name, Sample: []segment.Member{}, Warnings: []string{}}
	if w := s.scoreWarning(ctx, def, at); w != nil {
		out.Warnings = append(out.Warnings, w.Error())
		out.WarningKeys = append(out.WarningKeys, w)
	}
	start := time.Now()
	if out.Count, err = segment.Count(ctx, s.store.Pool(), def, segment.At(at)); err != nil {
		return SegmentPreview{}, err
	}
	out.CountMS = time.Since(start).Milliseconds()
	if sample > 0 {
		start = time.Now()
		if out.Sample, err = segment.Sample(ctx, s.store.Pool(), def, sample, segment.At(at)); err != nil {
			return SegmentPreview{}, err
		}
		out.SampleMS = time.Since(start).Milliseconds()
	}
	return out, nil
}

// scoreWarning says when a definition reads scores that are missing or
// older than two days, because its count would silently be off.
func (s *Service) scoreWarning(ctx context.Context, def *segment.Definition, now time.Time) *spec.Problem {
	if !def.UsesScores() {
		return nil
	}
	r, err := s.store.LastScoreRefresh(ctx)
	switch {
	case errors.Is(err, store.ErrNeverScored):
		return &spec.Problem{Format: "this segment uses RFM scores or the value tier, which have never been computed; run `tidings segments refresh-scores` first (every score condition matches nobody until then)"}
	case err != nil:
		s.log.Warn("read score refresh", "err", err)
	case now.Sub(r.FinishedAt) > 48*time.Hour:
		return &spec.Problem{Format: "RFM scores were last refreshed %s ago (%s); run `tidings segments refresh-scores`",
			Args: []any{spec.FormatDuration(now.Sub(r.FinishedAt).Round(time.Hour)), r.FinishedAt.Format(time.RFC3339)}}
	}
	return nil
}

// SavedSegment is a saved segment and what saving it did (store.Inserted,
// Updated or Unchanged).
type SavedSegment struct {
	store.Segment
	Outcome string `json:"outcome"`
}

// SaveSegment checks a definition and saves it under name (or the file's
// own name: key), replacing an earlier one; campaigns in flight keep the
// definition they started with. Audited as segment.save.
func (s *Service) SaveSegment(ctx context.Context, p access.Principal, f File, name string) (SavedSegment, error) {
	def, err := segment.Parse(f.Text, f.Name)
	if err != nil {
		return SavedSegment{}, err
	}
	if name != "" {
		def.Name = name
	}
	if def.Name == "" {
		return SavedSegment{}, fieldError("name", "no name; add `name: my-segment` to the definition or give one")
	}
	if err := segment.CheckName(def.Name); err != nil {
		return SavedSegment{}, fieldError("name", "%v", err)
	}
	if err := s.audit(ctx, p, "segment.save", def.Name, nil); err != nil {
		return SavedSegment{}, err
	}
	saved, outcome, err := s.store.SaveSegment(ctx, store.Segment{
		Name: def.Name, Description: def.Description, Format: def.Format, Definition: string(def.Source),
	})
	if err != nil {
		return SavedSegment{}, err
	}
	return SavedSegment{Segment: saved, Outcome: outcome}, nil
}

// SavedSegments lists the saved segments by name.
func (s *Service) SavedSegments(ctx context.Context) ([]store.Segment, error) {
	segs, err := s.store.ListSegments(ctx)
	if segs == nil {
		segs = []store.Segment{}
	}
	return segs, err
}

// SavedSegment returns one saved segment as it was saved, or
// store.ErrNotFound.
func (s *Service) SavedSegment(ctx context.Context, name string) (store.Segment, error) {
	return s.store.GetSegment(ctx, name)
}

// DeleteSegment deletes a saved segment, audited as segment.delete;
// campaigns that name it fail their next check until it is saved again.
func (s *Service) DeleteSegment(ctx context.Context, p access.Principal, name string) error {
	if _, err := s.store.GetSegment(ctx, name); err != nil {
		return err
	}
	if err := s.audit(ctx, p, "segment.delete", name, nil); err != nil {
		return err
	}
	return s.store.DeleteSegment(ctx, name)
}

// RefreshScores recomputes every customer's RFM quintiles and value tier
// in one statement, audited as segment.refresh_scores, then records the
// month's lifecycle stages, keeps the reports' tallies, records every
// segment's and live campaign's audience size (RecordAudienceSizes) and
// keeps the journeys' funnels, as the hourly refresh sweep does.
func (s *Service) RefreshScores(ctx context.Context, p access.Principal) (store.ScoreRefresh, error) {
	if err := s.audit(ctx, p, "segment.refresh_scores", "scores", nil); err != nil {
		return store.ScoreRefresh{}, err
	}
	now := s.opt.Now()
	r, err := s.store.RefreshScores(ctx, now)
	if err != nil {
		return store.ScoreRefresh{}, err
	}
	if _, err := s.store.RecordStages(ctx, now); err != nil {
		return store.ScoreRefresh{}, err
	}
	if _, err := s.store.KeepReportTallies(ctx, now); err != nil {
		return store.ScoreRefresh{}, err
	}
	// Segments read the new scores: their sizes now are a point of their
	// history.
	if _, err := s.RecordAudienceSizes(ctx, now); err != nil {
		return store.ScoreRefresh{}, err
	}
	if _, err := s.KeepJourneyFunnels(ctx, now); err != nil {
		return store.ScoreRefresh{}, err
	}
	return r, nil
}
