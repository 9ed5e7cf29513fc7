package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/tidingsdev/tidings/internal/campaign"
	"github.com/tidingsdev/tidings/internal/delivery"
	"github.com/tidingsdev/tidings/internal/segment"
	"github.com/tidingsdev/tidings/internal/store"
)

// CampaignStore is what campaign runs need of the system of record.
type CampaignStore interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	GetCampaign(ctx context.Context, name string) (store.Campaign, error)
	CheckCampaignGate(ctx context.Context, campaign, workflowID string) (string, error)
	CampaignVersion(ctx context.Context, name string, version int) (store.CampaignVersion, error)
	GetSegment(ctx context.Context, name string) (store.Segment, error)
	EnterCampaign(ctx context.Context, e store.CampaignEntry, again time.Duration) (store.CampaignEntry, bool, error)
	FinishCampaignEntry(ctx context.Context, campaign, runID, outcome string, goalAt *time.Time, at time.Time) error
	RecordCampaignSkip(ctx context.Context, campaign, customerID string, occurrence int, step, variant, reason string) error
	AddCustomerTag(ctx context.Context, customerID, tag string) error
	RemoveCustomerTag(ctx context.Context, customerID, tag string) error
	SetCustomerAttribute(ctx context.Context, customerID, key string, value any) error
}

// Campaigns holds the activities of marketer-defined campaigns. It is
// registered beside Activities (worker.Deps.Register); its method names all
// start with Campaign so the two never collide.
type Campaigns struct {
	store  CampaignStore
	db     segment.DB
	sender Sender
	http   *http.Client
}

// NewCampaigns builds the campaign activities. db evaluates audiences and
// branch conditions; hc posts webhook steps (nil: a 10-second timeout).
func NewCampaigns(s CampaignStore, db segment.DB, sender Sender, hc *http.Client) *Campaigns {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Campaigns{store: s, db: db, sender: sender, http: hc}
}

// ErrCampaignNotFound: the campaign or its version does not exist.
const ErrCampaignNotFound = "CampaignNotFound"

// LoadCampaignInput names a campaign version; Version 0 means the current one.
type LoadCampaignInput struct {
	Campaign string `json:"campaign"`
	Version  int    `json:"version,omitempty"`
}

// LoadCampaignResult is the version's snapshot and the campaign's status.
type LoadCampaignResult struct {
	Version int           `json:"version"`
	Status  string        `json:"status"`
	Spec    campaign.Spec `json:"spec"`
}

// CampaignLoad reads a version's spec, so a scheduled run takes the version
// current when it fires and keeps it to the end.
func (c *Campaigns) CampaignLoad(ctx context.Context, in LoadCampaignInput) (LoadCampaignResult, error) {
	camp, err := c.store.GetCampaign(ctx, in.Campaign)
	if err != nil {
		return LoadCampaignResult{}, campaignErr(err)
	}
	v, err := c.store.CampaignVersion(ctx, in.Campaign, in.Version)
	if err != nil {
		return LoadCampaignResult{}, campaignErr(err)
	}
	out := LoadCampaignResult{Version: v.Version, Status: camp.Status}
	if err := json.Unmarshal(v.Spec, &out.Spec); err != nil {
		return LoadCampaignResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("campaign %s version %d: %w", in.Campaign, v.Version, err))
	}
	return out, nil
}

func campaignErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nonRetryable(ErrCampaignNotFound, err)
	}
	return err
}

// GateInput names the campaign whose status a run checks before sending.
// Wake says the run listens for the wake signal while paused, so the check
// notes it as waiting and a resume wakes it at once.
type GateInput struct {
	Campaign string `json:"campaign"`
	Wake     bool   `json:"wake,omitempty"`
}

// GateResult is the campaign's status now.
type GateResult struct {
	Status string `json:"status"`
}

// CampaignGate tells a run whether its campaign may send now: a paused
// campaign sends nothing, an archived one ends its runs.
func (c *Campaigns) CampaignGate(ctx context.Context, in GateInput) (GateResult, error) {
	if in.Wake {
		status, err := c.store.CheckCampaignGate(ctx, in.Campaign, activity.GetInfo(ctx).WorkflowExecution.ID)
		if err != nil {
			return GateResult{}, campaignErr(err)
		}
		return GateResult{Status: status}, nil
	}
	camp, err := c.store.GetCampaign(ctx, in.Campaign)
	if err != nil {
		return GateResult{}, campaignErr(err)
	}
	return GateResult{Status: camp.Status}, nil
}

// EnterInput asks to enter one customer into a campaign.
type EnterInput struct {
	Campaign   string        `json:"campaign"`
	Version    int           `json:"version"`
	CustomerID string        `json:"customer_id"`
	RunID      string        `json:"run_id"`
	At         time.Time     `json:"at"`
	AgainAfter time.Duration `json:"again_after,omitempty"`
	Holdout    int           `json:"holdout,omitempty"`
	// Variant is the A/B arm chosen from the customer's bucket ("" without
	// a split).
	Variant   string        `json:"variant,omitempty"`
	GoalEvent string        `json:"goal_event,omitempty"`
	GoalAfter time.Duration `json:"goal_after,omitempty"`
	// Audience, when set, must contain the customer (event-triggered runs);
	// runs started from a page of the audience leave it empty.
	Audience *campaign.Condition `json:"audience,omitempty"`
}

// Entry refusals.
const (
	NotInAudience  = "not_in_audience"
	AlreadyEntered = "already_entered"
)

// SkipLateAfterPause is the reason recorded for a send that fell due while
// its campaign was paused and was more than late_after old on resume.
const SkipLateAfterPause = "late_after_pause"

// EnterResult says whether the run goes on, as which occurrence, and
// whether the customer is in the control group.
type EnterResult struct {
	Entered    bool   `json:"entered"`
	Reason     string `json:"reason,omitempty"`
	Occurrence int    `json:"occurrence,omitempty"`
	Holdout    bool   `json:"holdout,omitempty"`
	TimeZone   string `json:"time_zone,omitempty"`
}

// CampaignEnter applies the audience and entry rule and records the entry,
// holdout members included, so the control group is counted.
func (c *Campaigns) CampaignEnter(ctx context.Context, in EnterInput) (EnterResult, error) {
	cust, err := c.store.Customer(ctx, in.CustomerID)
	if err != nil {
		return EnterResult{}, storeErr(err)
	}
	if in.Audience != nil {
		in, err := c.contains(ctx, *in.Audience, in.CustomerID)
		if err != nil {
			return EnterResult{}, err
		}
		if !in {
			return EnterResult{Reason: NotInAudience, TimeZone: cust.TimeZone}, nil
		}
	}
	return c.enter(ctx, in, cust.TimeZone)
}

func (c *Campaigns) enter(ctx context.Context, in EnterInput, zone string) (EnterResult, error) {
	e := store.CampaignEntry{
		Campaign: in.Campaign, CustomerID: in.CustomerID, Version: in.Version, RunID: in.RunID,
		Holdout: campaign.HeldOut(in.Campaign, in.CustomerID, in.Holdout), Variant: in.Variant,
		EnteredAt: in.At, GoalEvent: in.GoalEvent,
	}
	if e.Holdout {
		e.Variant = ""
	}
	if in.GoalEvent != "" {
		until := in.At.Add(in.GoalAfter)
		e.GoalUntil = &until
	}
	got, ok, err := c.store.EnterCampaign(ctx, e, in.AgainAfter)
	if err != nil {
		return EnterResult{}, storeErr(err)
	}
	// A finished entry under the same run ID (a later pass of the same
	// firing) is never run again.
	if !ok || got.FinishedAt != nil {
		return EnterResult{Reason: AlreadyEntered, TimeZone: zone}, nil
	}
	return EnterResult{Entered: true, Occurrence: got.Occurrence, Holdout: got.Holdout, TimeZone: zone}, nil
}

// definition resolves a condition to a segment definition: a saved segment
// as it is now, or the inline definition of the version. A missing segment
// or one that no longer parses fails for good.
func (c *Campaigns) definition(ctx context.Context, cond campaign.Condition) (*segment.Definition, error) {
	def, err := cond.Definition(ctx, func(ctx context.Context, name string) (string, error) {
		seg, err := c.store.GetSegment(ctx, name)
		return seg.Definition, err
	})
	var bad segment.Errors
	if errors.Is(err, store.ErrNotFound) || errors.As(err, &bad) {
		return nil, nonRetryable(ErrInvalidInput, err)
	}
	return def, err
}

func (c *Campaigns) contains(ctx context.Context, cond campaign.Condition, customerID string) (bool, error) {
	def, err := c.definition(ctx, cond)
	if err != nil {
		return false, err
	}
	return segment.Contains(ctx, c.db, def, customerID)
}

// ConditionInput asks whether a customer meets a branch condition.
type ConditionInput struct {
	CustomerID string             `json:"customer_id"`
	Condition  campaign.Condition `json:"condition"`
}

// ConditionResult is the answer.
type ConditionResult struct {
	Holds bool `json:"holds"`
}

// CampaignCondition evaluates a branch: the customer against a saved
// segment or an inline condition, now.
func (c *Campaigns) CampaignCondition(ctx context.Context, in ConditionInput) (ConditionResult, error) {
	ok, err := c.contains(ctx, in.Condition, in.CustomerID)
	return ConditionResult{Holds: ok}, err
}

// SkipInput records a send the campaign decided not to make.
type SkipInput struct {
	Campaign   string `json:"campaign"`
	CustomerID string `json:"customer_id"`
	Occurrence int    `json:"occurrence"`
	Step       string `json:"step"`
	Variant    string `json:"variant,omitempty"`
	Reason     string `json:"reason"`
}

// CampaignSkip stores a skipped send for the report.
func (c *Campaigns) CampaignSkip(ctx context.Context, in SkipInput) error {
	return c.store.RecordCampaignSkip(ctx, in.Campaign, in.CustomerID, in.Occurrence, in.Step, in.Variant, in.Reason)
}

// CampaignFinishInput records how a customer's run ended.
type CampaignFinishInput struct {
	Campaign string     `json:"campaign"`
	RunID    string     `json:"run_id"`
	Outcome  string     `json:"outcome"`
	GoalAt   *time.Time `json:"goal_at,omitempty"`
	At       time.Time  `json:"at"`
}

// CampaignFinish stores the run's outcome and, for a conversion, when the
// goal was reached.
func (c *Campaigns) CampaignFinish(ctx context.Context, in CampaignFinishInput) error {
	return c.store.FinishCampaignEntry(ctx, in.Campaign, in.RunID, in.Outcome, in.GoalAt, in.At)
}

// ProfileStepInput is a tag, untag or set step.
type ProfileStepInput struct {
	CustomerID string `json:"customer_id"`
	Kind       string `json:"kind"`
	Tag        string `json:"tag,omitempty"`
	Attribute  string `json:"attribute,omitempty"`
	Value      any    `json:"value,omitempty"`
}

// CampaignProfile applies a tag, untag or set-attribute step, so later
// segments and campaigns see what this one learned.
func (c *Campaigns) CampaignProfile(ctx context.Context, in ProfileStepInput) error {
	var err error
	switch in.Kind {
	case campaign.StepTag:
		err = c.store.AddCustomerTag(ctx, in.CustomerID, in.Tag)
	case campaign.StepUntag:
		err = c.store.RemoveCustomerTag(ctx, in.CustomerID, in.Tag)
	case campaign.StepSet:
		err = c.store.SetCustomerAttribute(ctx, in.CustomerID, in.Attribute, in.Value)
	default:
		return nonRetryable(ErrInvalidInput, fmt.Errorf("profile step kind %q", in.Kind))
	}
	return storeErr(err)
}

// WebhookInput is a webhook step. The body carries IDs only.
type WebhookInput struct {
	URL        string `json:"url"`
	Campaign   string `json:"campaign"`
	Version    int    `json:"version"`
	Step       string `json:"step"`
	CustomerID string `json:"customer_id"`
	// Key is the step's idempotency key, sent as Idempotency-Key so the
	// receiver can drop a retried delivery.
	Key string `json:"key"`
}

// CampaignWebhook posts the step to the marketer's endpoint. 2xx is done;
// 408, 429 and 5xx retry; any other 4xx fails the step for good.
func (c *Campaigns) CampaignWebhook(ctx context.Context, in WebhookInput) error {
	body, err := json.Marshal(map[string]any{
		"campaign": in.Campaign, "version": in.Version, "step": in.Step, "customer_id": in.CustomerID, "key": in.Key,
	})
	if err != nil {
		return nonRetryable(ErrInvalidInput, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, bytes.NewReader(body))
	if err != nil {
		return nonRetryable(ErrInvalidInput, fmt.Errorf("webhook %s: %w", in.URL, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", in.Key)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", in.URL, err)
	}
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webhook %s: status %d", in.URL, code)
	default:
		return nonRetryable(ErrWebhookRejected, fmt.Errorf("webhook %s: status %d", in.URL, code))
	}
}

// CampaignBatchInput asks for one page of a single-send campaign.
type CampaignBatchInput struct {
	Campaign string        `json:"campaign"`
	Version  int           `json:"version"`
	Spec     campaign.Spec `json:"spec"`
	// RunKey identifies the runner's firing; each customer's entry run ID is
	// <run key>/<customer>, so a retried page enters and sends nobody twice.
	RunKey    string    `json:"run_key"`
	At        time.Time `json:"at"`
	Cursor    string    `json:"cursor,omitempty"`
	BatchSize int       `json:"batch_size"`
	// SkipLate is set for the rest of a firing resumed too long after a
	// pause: a customer whose send fell due more than the spec's late_after
	// ago is entered and recorded as skipped (late_after_pause) instead of
	// sent. With it, a spec that runs per customer is accepted too; its
	// customers who are not late are left for the runner's next pass.
	SkipLate bool `json:"skip_late,omitempty"`
}

// CampaignBatchResult is where the next page starts and what this one did.
type CampaignBatchResult struct {
	Cursor  string `json:"cursor"`
	Done    bool   `json:"done"`
	Entered int    `json:"entered"`
	HeldOut int    `json:"held_out"`
	Refused int    `json:"refused"`
	Counts  Counts `json:"counts"`
	// NotDue counts customers whose local send time (once, local: true) has
	// not come yet; NextDue is the earliest of those times.
	NotDue  int       `json:"not_due"`
	NextDue time.Time `json:"next_due,omitzero"`
}

// batchProgress is what CampaignBatch heartbeats.
type batchProgress struct {
	Cursor string              `json:"cursor"`
	Result CampaignBatchResult `json:"result"`
}

// CampaignBatch sends one page of a single-send campaign: each customer in
// the audience page is entered (entry rule, holdout, variant) and, unless
// held out, sent the message with the key
// campaign/<name>/<version>/<customer>/<step>/<occurrence>. It heartbeats
// after each customer and resumes there on retry.
func (c *Campaigns) CampaignBatch(ctx context.Context, in CampaignBatchInput) (CampaignBatchResult, error) {
	if in.BatchSize <= 0 || in.RunKey == "" || !(in.Spec.Batchable() || in.SkipLate) || firstSend(in.Spec.Steps) == nil {
		return CampaignBatchResult{}, nonRetryable(ErrInvalidInput,
			fmt.Errorf("campaign batch needs run_key, a positive batch_size and a single-send spec (%q, %d)", in.RunKey, in.BatchSize))
	}
	p := batchProgress{Cursor: in.Cursor}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	def, err := c.definition(ctx, in.Spec.Audience)
	if err != nil {
		return CampaignBatchResult{}, err
	}
	ids, err := segment.Page(ctx, c.db, def, p.Cursor, in.BatchSize, segment.At(in.At))
	if err != nil {
		return CampaignBatchResult{}, err
	}
	step := *firstSend(in.Spec.Steps)
	res := &p.Result
	for _, id := range ids {
		if err := c.batchOne(ctx, in, step, id, res); err != nil {
			return CampaignBatchResult{}, err
		}
		p.Cursor = id
		activity.RecordHeartbeat(ctx, p)
		if err := stopping(ctx); err != nil {
			return CampaignBatchResult{}, err
		}
	}
	res.Cursor, res.Done = p.Cursor, len(ids) < in.BatchSize
	return *res, nil
}

func (c *Campaigns) batchOne(ctx context.Context, in CampaignBatchInput, step campaign.Step, id string, res *CampaignBatchResult) error {
	cust, err := c.store.Customer(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased since the page was read
	}
	if err != nil {
		return err
	}
	now := activity.GetInfo(ctx).StartedTime
	due := in.At
	if t := in.Spec.Trigger; t.Kind == campaign.TriggerOnce && t.Local {
		due = campaign.LocalAt(t.At, cust.TimeZone)
	}
	late := in.SkipLate && now.Sub(due) > lateAfter(in.Spec)
	if due.After(now) || (in.SkipLate && !late && !in.Spec.Batchable()) {
		res.NotDue++
		next := due
		if next.Before(now) {
			next = now
		}
		if res.NextDue.IsZero() || next.Before(res.NextDue) {
			res.NextDue = next
		}
		return nil
	}
	variant := campaign.PickVariant(in.Campaign, id, step.Send)
	enter := EnterInput{
		Campaign: in.Campaign, Version: in.Version, CustomerID: id, RunID: in.RunKey + "/" + id, At: in.At,
		AgainAfter: in.Spec.AgainAfter, Holdout: in.Spec.Holdout, Variant: variantName(variant),
	}
	if g := in.Spec.Goal; g != nil {
		enter.GoalEvent, enter.GoalAfter = g.Event, g.Within
	}
	en, err := c.enter(ctx, enter, cust.TimeZone)
	switch {
	case err != nil:
		return err
	case !en.Entered:
		res.Refused++
		return nil
	case en.Holdout:
		res.HeldOut++
		res.Entered++
		return nil
	}
	res.Entered++
	if late {
		if err := c.store.RecordCampaignSkip(ctx, in.Campaign, id, en.Occurrence, step.ID, variantName(variant), SkipLateAfterPause); err != nil {
			return err
		}
		if err := c.store.FinishCampaignEntry(ctx, in.Campaign, enter.RunID, SkipLateAfterPause, nil, now); err != nil {
			return err
		}
		res.Counts.Skipped++
		return nil
	}
	r := campaign.Message(in.Campaign, in.Version, id, step, variant, en.Occurrence)
	out, err := c.sender.Send(ctx, r)
	var appErr *temporal.ApplicationError
	if err != nil {
		err = sendErr(r.IdempotencyKey, err)
		if !errors.As(err, &appErr) || !appErr.NonRetryable() {
			return err
		}
		activity.GetLogger(ctx).Warn("campaign message refused", "key", r.IdempotencyKey, "error", err)
		res.Counts.Failed++
		return nil
	}
	if out.Status == delivery.Deferred {
		// Quiet hours: a batch does not wait per customer; the ledger row
		// keeps the key, and the runner's next pass sends it.
		res.NotDue++
		if res.NextDue.IsZero() || out.DeferUntil.Before(res.NextDue) {
			res.NextDue = out.DeferUntil
		}
		return nil
	}
	res.Counts.record(out)
	return nil
}

// firstSend is the first send step in file order, nil without one.
func firstSend(steps []campaign.Step) *campaign.Step {
	var first *campaign.Step
	campaign.Walk(steps, func(st *campaign.Step) {
		if first == nil && st.Send != nil {
			first = st
		}
	})
	return first
}

// lateAfter is the spec's window for sends delayed by a pause.
func lateAfter(s campaign.Spec) time.Duration {
	if s.LateAfter > 0 {
		return s.LateAfter
	}
	return campaign.DefaultLateAfter
}

func variantName(v *campaign.Variant) string {
	if v == nil {
		return ""
	}
	return v.Name
}

// AudiencePageInput asks for one page of a campaign audience.
type AudiencePageInput struct {
	Audience campaign.Condition `json:"audience"`
	At       time.Time          `json:"at"`
	After    string             `json:"after,omitempty"`
	Limit    int                `json:"limit"`
}

// AudiencePageResult lists the page's customer IDs.
type AudiencePageResult struct {
	CustomerIDs []string `json:"customer_ids"`
	Done        bool     `json:"done"`
}

// CampaignAudiencePage pages the audience in ID order (keyset), for runners
// that start a run per customer.
func (c *Campaigns) CampaignAudiencePage(ctx context.Context, in AudiencePageInput) (AudiencePageResult, error) {
	if in.Limit <= 0 {
		return AudiencePageResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("limit %d must be positive", in.Limit))
	}
	def, err := c.definition(ctx, in.Audience)
	if err != nil {
		return AudiencePageResult{}, err
	}
	ids, err := segment.Page(ctx, c.db, def, in.After, in.Limit, segment.At(in.At))
	if err != nil {
		return AudiencePageResult{}, err
	}
	return AudiencePageResult{CustomerIDs: ids, Done: len(ids) < in.Limit}, nil
}
