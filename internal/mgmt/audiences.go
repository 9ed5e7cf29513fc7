package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

// AudienceStore keeps the audiences' measured sizes; *store.Store
// implements it.
type AudienceStore interface {
	RecordAudienceSizes(ctx context.Context, sizes []store.AudienceSize) error
	AudienceSizeHistory(ctx context.Context, kind, name string, since time.Time, limit int) ([]store.AudienceSize, error)
	LatestAudienceSizes(ctx context.Context, kind string, names []string) (map[string]store.AudienceSize, error)
	SaveCampaignResults(ctx context.Context, kept []store.KeptCampaign, at time.Time) error
	KeptCampaignResults(ctx context.Context, names []string) (map[string]store.StoredCampaignReport, error)
	SettledCampaigns(ctx context.Context) (map[string]time.Time, error)
	FunnelStore
}

// RecordAudienceSizes counts every saved segment and the audience of
// every campaign that is not archived, as of now, and stores the counts
// at that moment, so sizes can be shown over time and beside a campaign
// without counting again; it also keeps each campaign's results as of now
// (keepCampaignResults), which the campaign list shows. Every score
// refresh calls it after new scores are in: RefreshScores and the hourly
// refresh sweep. A segment or
// campaign that no longer parses is logged and left out rather than
// stopping the others; measuring again at the same moment keeps the later
// counts.
func (s *Service) RecordAudienceSizes(ctx context.Context, now time.Time) ([]store.AudienceSize, error) {
	var sizes []store.AudienceSize
	count := func(kind, name string, def *segment.Definition) error {
		n, err := segment.Count(ctx, s.store.Pool(), def, segment.At(now))
		if err != nil {
			return fmt.Errorf("count %s %s: %w", kind, name, err)
		}
		sizes = append(sizes, store.AudienceSize{Kind: kind, Name: name, At: now, Size: n})
		return nil
	}
	segs, err := s.store.ListSegments(ctx)
	if err != nil {
		return nil, err
	}
	for _, seg := range segs {
		def, err := s.Segment(ctx, SegmentRef{Name: seg.Name})
		if err != nil {
			s.log.WarnContext(ctx, "segment size not recorded", "segment", seg.Name, "err", err)
			continue
		}
		if err := count(store.AudienceSegment, seg.Name, def); err != nil {
			return nil, err
		}
	}
	cs, err := s.store.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Status == "archived" {
			continue
		}
		def, err := s.campaignAudience(ctx, c.Name)
		if err != nil {
			s.log.WarnContext(ctx, "campaign audience size not recorded", "campaign", c.Name, "err", err)
			continue
		}
		if err := count(store.AudienceCampaign, c.Name, def); err != nil {
			return nil, err
		}
	}
	if err := s.store.RecordAudienceSizes(ctx, sizes); err != nil {
		return nil, err
	}
	if err := s.keepCampaignResults(ctx, cs, now); err != nil {
		return nil, err
	}
	if sizes == nil {
		sizes = []store.AudienceSize{}
	}
	return sizes, nil
}

// settledRecount is how often a refresh recounts a settled campaign: one
// whose entries have all finished, none since its results were kept, so
// only late opens, clicks, bounces and redemptions can still move them.
const settledRecount = 24 * time.Hour

// keepCampaignResults computes and keeps the results and the funnel (of
// every attribution window) of every campaign that is not archived,
// and of an archived one whose kept results predate its last change, so a
// list of campaigns reads each row's results, and a campaign's page and
// funnel report its funnel, instead of computing them over the ledger
// (seconds per campaign of 40,000 entries at a loaded machine; tens of
// seconds at 400,000). A settled campaign is recounted once a day
// (settledRecount), not at every refresh.
func (s *Service) keepCampaignResults(ctx context.Context, cs []store.Campaign, now time.Time) error {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	kept, err := s.store.KeptCampaignResults(ctx, names)
	if err != nil {
		return err
	}
	settled, err := s.store.SettledCampaigns(ctx)
	if err != nil {
		return err
	}
	var keep []store.KeptCampaign
	for _, c := range cs {
		k, ok := kept[c.Name]
		if ok && c.Status == "archived" && k.At.After(c.UpdatedAt) {
			continue
		}
		last, done := settled[c.Name]
		if ok && done && k.FunnelKept && k.At.After(last) && k.At.After(c.UpdatedAt) &&
			now.Sub(k.At) < settledRecount {
			continue
		}
		rep, err := s.CampaignResults(ctx, c.Name)
		if err != nil {
			return fmt.Errorf("results of campaign %s: %w", c.Name, err)
		}
		keep = append(keep, store.KeptCampaign{Report: rep})
	}
	return s.store.SaveCampaignResults(ctx, keep, now)
}

// campaignAudience is the audience of a campaign's current version.
func (s *Service) campaignAudience(ctx context.Context, name string) (*segment.Definition, error) {
	v, err := s.store.CampaignVersion(ctx, name, 0)
	if err != nil {
		return nil, err
	}
	var sp campaign.Spec
	if err := json.Unmarshal(v.Spec, &sp); err != nil {
		return nil, fmt.Errorf("campaign %s version %d: %w", name, v.Version, err)
	}
	return manage.Audience(ctx, s.store, &sp)
}

// SegmentSizes is a saved segment's recorded sizes over the last days
// (oldest first, at most 1000); an unknown segment is store.ErrNotFound.
func (s *Service) SegmentSizes(ctx context.Context, name string, days int) ([]store.AudienceSize, error) {
	if days < 1 || days > 3660 {
		return nil, fieldError("days", "%d: want 1 to 3660", days)
	}
	if _, err := s.store.GetSegment(ctx, name); err != nil {
		return nil, err
	}
	out, err := s.store.AudienceSizeHistory(ctx, store.AudienceSegment, name, s.opt.Now().AddDate(0, 0, -days), 1000)
	if out == nil {
		out = []store.AudienceSize{}
	}
	return out, err
}

// CampaignRow is a campaign as a list shows it: its state, its
// audience's last measured size (nil before the first measurement) and
// its results, as of ResultsAt when kept by the last refresh (nil when
// computed for the list, for a campaign no refresh has seen yet).
type CampaignRow struct {
	store.Campaign
	Audience  *store.AudienceSize  `json:"audience,omitempty"`
	Results   store.CampaignReport `json:"results"`
	ResultsAt *time.Time           `json:"results_at,omitempty"`
}

// CampaignPage is one page of campaigns by name; Next is the after= of
// the next page ("" on the last).
type CampaignPage struct {
	Campaigns []CampaignRow `json:"campaigns"`
	Next      string        `json:"next,omitempty"`
}

// CampaignList pages through the campaigns by name after the name after,
// limit at a time (1 to 100), each with its audience size and its results
// as the last refresh kept them (CampaignResults, as the campaign's page
// and report show them, computed now for a campaign not yet kept).
func (s *Service) CampaignList(ctx context.Context, after string, limit int) (CampaignPage, error) {
	if limit < 1 || limit > 100 {
		return CampaignPage{}, fieldError("limit", "%d: want 1 to 100", limit)
	}
	cs, err := s.store.ListCampaignsAfter(ctx, after, limit+1)
	if err != nil {
		return CampaignPage{}, err
	}
	out := CampaignPage{Campaigns: []CampaignRow{}}
	if len(cs) > limit {
		cs, out.Next = cs[:limit], cs[limit-1].Name
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	sizes, err := s.store.LatestAudienceSizes(ctx, store.AudienceCampaign, names)
	if err != nil {
		return CampaignPage{}, err
	}
	kept, err := s.store.KeptCampaignResults(ctx, names)
	if err != nil {
		return CampaignPage{}, err
	}
	for _, c := range cs {
		sum := CampaignRow{Campaign: c}
		if a, ok := sizes[c.Name]; ok {
			sum.Audience = &a
		}
		if k, ok := kept[c.Name]; ok {
			sum.Results, sum.ResultsAt = k.Report, &k.At
		} else if sum.Results, err = s.CampaignResults(ctx, c.Name); err != nil {
			return CampaignPage{}, err
		}
		out.Campaigns = append(out.Campaigns, sum)
	}
	return out, nil
}
