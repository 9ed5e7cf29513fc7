package mgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidingsdev/tidings/internal/access"
	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/campaign/manage"
	"github.com/tidingsdev/tidings/internal/spec"
	"github.com/tidingsdev/tidings/internal/store"
)

// CampaignStore is what the campaign actions read and write;
// *store.Store implements it.
type CampaignStore interface {
	manage.Store
	manage.DryRunStore
	ListCampaigns(ctx context.Context) ([]store.Campaign, error)
	ListCampaignsAfter(ctx context.Context, after string, limit int) ([]store.Campaign, error)
	CampaignVersions(ctx context.Context, name string) ([]store.CampaignVersionInfo, error)
	CampaignResults(ctx context.Context, name string) (store.CampaignReport, error)
	CampaignWinner(ctx context.Context, campaign string, version int) (store.CampaignWinner, error)
	// Pool is the database segments are counted in.
	Pool() *pgxpool.Pool
}

// File is a file a person wrote (a campaign, a segment, a schedule) as a
// front door received it: its text (YAML, or JSON, which is YAML too), read
// with the bounds every file gets, and the name its problems are labelled
// with ("" for a request body: problems then read "line:column: path:
// message").
type File struct {
	Name string
	Text []byte
}

// CampaignFile is a campaign file.
type CampaignFile = File

// Problem is one thing wrong with a file, located as the CLI prints it.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Text is the problem as one line, "file:line:column: path: message".
	Text string `json:"text"`
	// Format and Args are Message's key and values, for a front door that
	// shows it in another language.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

// Problems lists the located problems in err (a spec.Errors or one
// spec.Error); ok is false for any other error.
func Problems(err error) (ps []Problem, ok bool) {
	var es spec.Errors
	var one *spec.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &one):
		es = spec.Errors{one}
	default:
		return nil, false
	}
	ps = make([]Problem, len(es))
	for i, e := range es {
		ps[i] = Problem{Line: e.Line, Column: e.Column, Path: e.Path, Message: e.Msg, Text: e.Error(), Format: e.Format, Args: e.Args}
	}
	return ps, true
}

// CampaignCheck is what validating a campaign file found.
type CampaignCheck struct {
	Valid bool `json:"valid"`
	// Campaign and Summary describe a valid file: its name and its shape in
	// one line ("schedule 0 9 * * MON Europe/Paris, 2 steps, 10% holdout").
	Campaign string `json:"campaign,omitempty"`
	Summary  string `json:"summary,omitempty"`
	// SummaryParts are Summary's parts with their keys, which a front door
	// joins in its reader's language.
	SummaryParts []*spec.Problem `json:"-"`
	Problems     []Problem       `json:"problems"`
	Warnings     []Problem       `json:"warnings"`
}

// CheckOptions tune ValidateCampaign.
type CheckOptions struct {
	// Segments also checks the saved segments the file names, which reads
	// the database (the CLI's validate does not; dry-run and apply do).
	Segments bool
	// Now is the time a once trigger is judged at (default: the clock).
	Now time.Time
}

// ValidateCampaign checks a campaign file as apply would, storing nothing:
// the file, every message against the templates, a once time in the past,
// and with o.Segments the saved segments it names. Problems are the check's
// result, not an error; the error is for a check that could not be made.
func (s *Service) ValidateCampaign(ctx context.Context, f CampaignFile, o CheckOptions) (CampaignCheck, error) {
	if o.Now.IsZero() {
		o.Now = s.opt.Now()
	}
	out := CampaignCheck{Problems: []Problem{}, Warnings: []Problem{}}
	sp, err := s.parseCampaign(ctx, f, o.Segments)
	if err == nil {
		bad, warnings := manage.CheckOnce(sp, o.Now)
		out.Warnings, _ = Problems(warnings)
		if len(bad) > 0 {
			err = bad
		}
	}
	if ps, ok := Problems(err); ok {
		out.Problems = ps
		return out, nil
	}
	if err != nil {
		return CampaignCheck{}, err
	}
	out.SummaryParts = campaignOutline(sp)
	out.Valid, out.Campaign, out.Summary = true, sp.Name, CampaignSummary(sp)
	return out, nil
}

// CampaignSummary is a campaign's shape in one line.
func CampaignSummary(s *campaign.Spec) string {
	var parts []string
	for _, p := range campaignOutline(s) {
		parts = append(parts, p.Error())
	}
	return strings.Join(parts, ", ")
}

// campaignOutline is CampaignSummary's parts, each with its key: the
// trigger, the steps, the holdout and the goal.
func campaignOutline(s *campaign.Spec) []*spec.Problem {
	steps := 0
	campaign.Walk(s.Steps, func(*campaign.Step) { steps++ })
	format := "%d steps"
	if steps == 1 {
		format = "%d step"
	}
	parts := []*spec.Problem{manage.TriggerPhrase(s.Trigger), {Format: format, Args: []any{steps}}}
	if s.Holdout > 0 {
		parts = append(parts, &spec.Problem{Format: "%d%% holdout", Args: []any{s.Holdout}})
	}
	if s.Goal != nil {
		parts = append(parts, &spec.Problem{Format: "goal %s", Args: []any{s.Goal.Event}})
	}
	return parts
}

// parseCampaign reads a file and checks it against the templates and, with
// segments, the saved segments; every problem comes back at once as
// campaign.Errors.
func (s *Service) parseCampaign(ctx context.Context, f CampaignFile, segments bool) (*campaign.Spec, error) {
	set, err := s.templateSet()
	if err != nil {
		return nil, err
	}
	sp, err := campaign.ParseWith(f.Text, f.Name, func(sp *campaign.Spec) campaign.Errors { return manage.CheckTemplates(sp, set) })
	if err != nil || !segments {
		return sp, err
	}
	errs, err := manage.CheckSegments(ctx, sp, s.store)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return sp, nil
}

// DryRunOptions tune DryRunCampaign; zero values mean manage's defaults.
type DryRunOptions struct {
	// At plans as of this time instead of now.
	At time.Time
	// Samples is how many treatment customers' first messages to render
	// (0 to 50), Next how many upcoming firings to list (1 to 50).
	Samples, Next int
}

// DryRun is a campaign's plan and the file it was made from.
type DryRun struct {
	manage.Plan
	Spec *campaign.Spec `json:"-"`
}

// DryRunCampaign evaluates a campaign file against the database without
// storing or sending anything: audience and holdout at the first firing,
// rendered first messages of a few treatment customers, the next firings.
// A bad file is campaign.Errors; bad options are validate.Errors.
func (s *Service) DryRunCampaign(ctx context.Context, f CampaignFile, o DryRunOptions) (DryRun, error) {
	if o.Samples < 0 || o.Samples > 50 {
		return DryRun{}, fieldError("samples", "%d: want 0 to 50", o.Samples)
	}
	if o.Next < 0 || o.Next > 50 {
		return DryRun{}, fieldError("next", "%d: want 1 to 50", o.Next)
	}
	sp, err := s.parseCampaign(ctx, f, true)
	if err != nil {
		return DryRun{}, err
	}
	set, err := s.templateSet()
	if err != nil {
		return DryRun{}, err
	}
	at := o.At
	if at.IsZero() {
		at = s.opt.Now()
	}
	p, err := manage.DryRun(ctx, s.store.Pool(), s.store, set, sp, manage.DryRunOptions{
		Now: at, Samples: o.Samples, Next: o.Next, Company: s.company,
	})
	if err != nil {
		return DryRun{}, err
	}
	if p.Samples == nil {
		p.Samples = []manage.Sample{}
	}
	return DryRun{Plan: p, Spec: sp}, nil
}

// Applied is what applying a file did, with the file as read.
type Applied struct {
	manage.Applied
	Spec *campaign.Spec `json:"-"`
}

// ApplyCampaign checks a campaign file (templates and saved segments),
// stores it as the campaign's next version and brings its trigger in step
// in Temporal; an unchanged file changes nothing. A bad file is
// campaign.Errors and nothing is stored. A new version is audited as
// campaign.apply with its number.
func (s *Service) ApplyCampaign(ctx context.Context, p access.Principal, f CampaignFile) (Applied, error) {
	sp, err := s.parseCampaign(ctx, f, true)
	if err != nil {
		return Applied{}, err
	}
	m, err := s.campaignManager(ctx)
	if err != nil {
		return Applied{}, err
	}
	res, err := m.Apply(ctx, sp, string(f.Text))
	if err != nil {
		return Applied{}, err
	}
	if res.Outcome != store.Unchanged {
		if err := s.audit(ctx, p, "campaign.apply", sp.Name, map[string]any{"version": res.Version, "outcome": res.Outcome, "trigger": res.Trigger.Outcome}); err != nil {
			return Applied{}, err
		}
	}
	return Applied{Applied: res, Spec: sp}, nil
}

// The status changes SetCampaignStatus makes, by the action that names
// them in the audit log and the API.
var campaignActions = map[string]string{
	"pause":   campaign.StatusPaused,
	"resume":  campaign.StatusActive,
	"archive": campaign.StatusArchived,
}

// SetCampaignStatus pauses, resumes or archives a campaign and its trigger
// (action "pause", "resume" or "archive"; see manage.Manager.SetStatus for
// what each does to runs). It is audited as campaign.<action>. An unknown
// campaign is store.ErrNotFound, found before Temporal is reached; pausing
// or resuming an archived one is manage.ErrArchived.
func (s *Service) SetCampaignStatus(ctx context.Context, p access.Principal, name, action string) (manage.Changed, error) {
	status, ok := campaignActions[action]
	if !ok {
		return manage.Changed{}, fieldError("action", "%q: expected pause, resume or archive", action)
	}
	c, err := s.store.GetCampaign(ctx, name)
	if err != nil {
		return manage.Changed{}, err
	}
	if c.Status == campaign.StatusArchived && status != campaign.StatusArchived {
		return manage.Changed{}, fmt.Errorf("campaign %s: %w", name, manage.ErrArchived)
	}
	m, err := s.campaignManager(ctx)
	if err != nil {
		return manage.Changed{}, err
	}
	if err := s.audit(ctx, p, "campaign."+action, name, map[string]any{"from": c.Status, "version": c.CurrentVersion}); err != nil {
		return manage.Changed{}, err
	}
	return m.SetStatus(ctx, name, status)
}

// Campaigns lists every campaign by name with its status, current version
// and trigger kind, archived ones included.
func (s *Service) Campaigns(ctx context.Context) ([]store.Campaign, error) {
	cs, err := s.store.ListCampaigns(ctx)
	if cs == nil {
		cs = []store.Campaign{}
	}
	return cs, err
}

// CampaignDetail is one campaign: its state, every version it has had, and
// the file of one of them.
type CampaignDetail struct {
	store.Campaign
	Versions []store.CampaignVersionInfo `json:"versions"`
	// Version is the version shown (the current one unless asked) and
	// Source its file as applied.
	Version   int       `json:"version"`
	Source    string    `json:"source"`
	AppliedAt time.Time `json:"applied_at"`
	// Winner is the version's automatic A/B winner, once chosen.
	Winner *store.CampaignWinner `json:"winner,omitempty"`
}

// Campaign returns a campaign with its versions and the file of version
// (0: the current one); an unknown campaign or version is store.ErrNotFound.
func (s *Service) Campaign(ctx context.Context, name string, version int) (CampaignDetail, error) {
	c, err := s.store.GetCampaign(ctx, name)
	if err != nil {
		return CampaignDetail{}, err
	}
	v, err := s.store.CampaignVersion(ctx, name, version)
	if err != nil {
		return CampaignDetail{}, err
	}
	vs, err := s.store.CampaignVersions(ctx, name)
	if err != nil {
		return CampaignDetail{}, err
	}
	d := CampaignDetail{Campaign: c, Versions: vs, Version: v.Version, Source: v.Source, AppliedAt: v.CreatedAt}
	switch w, err := s.store.CampaignWinner(ctx, name, v.Version); {
	case err == nil:
		d.Winner = &w
	case !errors.Is(err, store.ErrNotFound):
		return CampaignDetail{}, err
	}
	return d, nil
}

// CampaignResults is what a campaign did, per variant and for the holdout,
// as `tidings report campaign` prints it.
func (s *Service) CampaignResults(ctx context.Context, name string) (store.CampaignReport, error) {
	rep, err := s.store.CampaignResults(ctx, name)
	if rep.Arms == nil {
		rep.Arms = []store.CampaignArm{}
	}
	return rep, err
}

// campaignManager reaches Temporal for the actions that change a
// campaign's trigger; nothing is written when it is unreachable.
func (s *Service) campaignManager(ctx context.Context) (*manage.Manager, error) {
	c, err := s.engine(ctx)
	if err != nil {
		return nil, err
	}
	return manage.New(s.store, c, s.taskQueue, manage.WithClock(s.opt.Now)), nil
}
