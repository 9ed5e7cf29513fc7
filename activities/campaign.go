package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
	EnterCampaignBatch(ctx context.Context, es []store.CampaignEntry, again time.Duration) ([]store.CampaignEntry, []bool, error)
	TimeZones(ctx context.Context, ids []string) (map[string]string, error)
	FinishCampaignEntry(ctx context.Context, campaign, runID, outcome string, goalAt *time.Time, at time.Time) error
	FinishCampaignEntries(ctx context.Context, campaign string, runIDs []string, outcome string, at time.Time) error
	CampaignWinner(ctx context.Context, campaign string, version int) (store.CampaignWinner, error)
	RecordCampaignWinner(ctx context.Context, w store.CampaignWinner) (store.CampaignWinner, error)
	CampaignTestTallies(ctx context.Context, campaign string, version int, step, metric string, variants []string, at time.Time) ([]store.VariantTally, error)
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

// OutcomeHeldOut is how the entry of a customer in the control group ends:
// nothing is sent to them.
const OutcomeHeldOut = "held_out"

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

// CampaignBatchInput asks for the next pages of a single-send campaign.
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
	// Retry are the messages an earlier call left waiting for their retry
	// (CampaignBatchResult.Retry).
	Retry []RetryMessage `json:"retry,omitempty"`
	// Share, for a campaign that picks an A/B winner, is the part of the
	// audience the call takes: ShareTest or ShareRest; empty, everyone.
	// Winner, when set, is the variant every treated customer is sent (the
	// rest, or a later firing of a version whose test is decided), entered
	// as its rollout.
	Share  string `json:"share,omitempty"`
	Winner string `json:"winner,omitempty"`
}

// Shares of the audience of a campaign that picks an A/B winner.
const (
	ShareTest = "test" // the holdout and the test share, split between the variants
	ShareRest = "rest" // everyone else, sent the winner after the test
)

// firstOnly reports whether the call sends only the first step of a
// campaign that runs per customer (Spec.FirstSendBatched): one page per
// call, and each customer's run starts after it (CampaignBatchResult.Runs).
func (in CampaignBatchInput) firstOnly() bool {
	return !in.Spec.Batchable() && !in.SkipLate
}

// RetryMessage is a campaign message a temporary failure (SMTP 4xx, a
// dropped connection, HTTP 429/5xx) left queued in the ledger. It is sent
// again on its own, with the same key, at At, while the rest of the
// campaign goes on.
type RetryMessage struct {
	CustomerID string    `json:"customer_id"`
	Occurrence int       `json:"occurrence"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
}

// CampaignBatchResult is where the next page starts and what these did.
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
	// Retry are the messages still waiting for their retry when the call
	// ended early (a pause, the call's time budget); the runner hands them
	// to the next call. Done is never set while any remain.
	Retry []RetryMessage `json:"retry,omitempty"`
	// Runs, when only the first step was sent, are the customers whose
	// first message is done with (sent, skipped or failed for good): the
	// runner starts each one's run from the second step.
	Runs []RunStart `json:"runs,omitempty"`
}

// RunStart is a customer whose first step a batch is done with.
type RunStart struct {
	CustomerID string `json:"customer_id"`
	// Sent is the ledger step of the first message ("offer:b") when it
	// went out, empty when it was skipped or failed.
	Sent string `json:"sent,omitempty"`
}

// batchProgress is what CampaignBatch heartbeats.
type batchProgress struct {
	Cursor string              `json:"cursor"`
	Result CampaignBatchResult `json:"result"`
	Retry  []RetryMessage      `json:"retry,omitempty"`
}

// Campaign batch pacing.
const (
	// CampaignCallBudget is how long one CampaignBatch call takes new
	// pages; then it hands its cursor back to the runner, so a long
	// campaign is many calls of minutes, each resumable from its heartbeat.
	CampaignCallBudget = 2 * time.Minute
	// campaignRetryFirst and campaignRetryMax are a message's own backoff
	// after a temporary failure: 1 s doubling to a minute, with no limit
	// on attempts, so a relay that is down for an hour delays the campaign
	// by an hour and strands nothing.
	campaignRetryFirst = time.Second
	campaignRetryMax   = time.Minute
)

// CampaignBatch sends a single-send campaign page after page: it enters the
// page's customers in one statement (entry rule, holdout, variant) and
// hands every message that is due to the send path at once
// (delivery.Service.SendBatch: chunks in flight over every SMTP
// connection, each outcome recorded as the relay accepts it), entering the
// next page while one is sent. Keys are
// campaign/<name>/<version>/<customer>/<step>/<occurrence>. A message that
// fails temporarily is retried on its own with its own backoff while the
// pages go on; the call ends when the audience is done and no retry is
// left, or when its time budget is spent, the campaign is paused or the
// worker stops. It heartbeats every second and resumes after the last
// page done.
//
// For a campaign that runs per customer and starts together
// (Spec.FirstSendBatched) it sends the first step the same way, one page
// per call, ends the holdout's entries at once and returns the customers
// whose runs the runner starts from the second step.
func (c *Campaigns) CampaignBatch(ctx context.Context, in CampaignBatchInput) (CampaignBatchResult, error) {
	if in.BatchSize <= 0 || in.RunKey == "" || !(in.Spec.Batchable() || in.SkipLate || in.Spec.FirstSendBatched()) || firstSend(in.Spec.Steps) == nil {
		return CampaignBatchResult{}, nonRetryable(ErrInvalidInput,
			fmt.Errorf("campaign batch needs run_key, a positive batch_size and a single-send spec (%q, %d)", in.RunKey, in.BatchSize))
	}
	p := batchProgress{Cursor: in.Cursor, Retry: in.Retry}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p)
	}
	def, err := c.definition(ctx, in.Spec.Audience)
	if err != nil {
		return CampaignBatchResult{}, err
	}
	b := &campaignBatch{c: c, in: in, step: *firstSend(in.Spec.Steps), p: &p, now: activity.GetInfo(ctx).StartedTime}
	hb := startHeartbeat(ctx, p.snapshot())
	defer hb.end()
	deadline := time.Now().Add(CampaignCallBudget)
	audienceDone := false
	var ahead chan *pageWork
	defer func() {
		if ahead != nil {
			<-ahead // entered, not sent: the next call reads that page again
		}
	}()
	for !audienceDone || len(p.Retry) > 0 {
		if err := stopping(ctx); err != nil {
			return CampaignBatchResult{}, err
		}
		// A firing resumed too late records its skips without a gate (the
		// runner does not wait for the campaign then), so only the budget
		// ends its call early.
		if time.Now().After(deadline) || (!in.SkipLate && !c.active(ctx, in.Campaign)) {
			break
		}
		w := &pageWork{last: true}
		switch {
		case ahead != nil:
			w, ahead = <-ahead, nil
		case !audienceDone:
			w = b.read(ctx, def, p.Cursor)
		default:
			if err := b.awaitRetry(ctx); err != nil {
				return CampaignBatchResult{}, err
			}
		}
		if w.err != nil {
			return CampaignBatchResult{}, w.err
		}
		audienceDone = w.last
		if !w.last && !in.SkipLate && !in.firstOnly() {
			// The next page is entered while this one is sent, so the SMTP
			// connections do not wait for the database between pages.
			ahead = make(chan *pageWork, 1)
			go func(ch chan<- *pageWork, after string) { ch <- b.read(ctx, def, after) }(ahead, w.ids[len(w.ids)-1])
		}
		b.send(ctx, w)
		if len(w.ids) > 0 {
			p.Cursor = w.ids[len(w.ids)-1]
		}
		hb.set(p.snapshot())
		if in.firstOnly() {
			// The runner starts this page's runs before the next page.
			break
		}
	}
	res := p.Result
	res.Cursor, res.Retry = p.Cursor, p.Retry
	res.Done = audienceDone && len(p.Retry) == 0
	return res, nil
}

// active reports whether the campaign may send now; a pause stops the
// batch after the page in hand. A failed check counts as active: the
// runner's gate checks again before the next call.
func (c *Campaigns) active(ctx context.Context, name string) bool {
	camp, err := c.store.GetCampaign(ctx, name)
	return err != nil || camp.Status == campaign.StatusActive
}

// snapshot copies the progress for a heartbeat, which is encoded later.
func (p batchProgress) snapshot() batchProgress {
	p.Retry = slices.Clone(p.Retry)
	p.Result.Runs = slices.Clone(p.Result.Runs)
	return p
}

// campaignBatch is one CampaignBatch call under way.
type campaignBatch struct {
	c    *Campaigns
	in   CampaignBatchInput
	step campaign.Step
	p    *batchProgress
	now  time.Time
}

// awaitRetry waits for the earliest retry to fall due (the heartbeat goes
// on meanwhile) or for the worker to stop.
func (b *campaignBatch) awaitRetry(ctx context.Context) error {
	next := b.p.Retry[0].At
	for _, r := range b.p.Retry {
		if r.At.Before(next) {
			next = r.At
		}
	}
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-activity.GetWorkerStopChannel(ctx):
		return stopping(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pageWork is one page of the audience, entered and ready to send. Its
// counts stay in res until it is sent, so a page entered ahead and then
// left (a pause, the call's budget) counts nothing: the next call enters
// it again under the same run IDs and counts it then.
type pageWork struct {
	ids     []string
	last    bool // the audience ends with this page
	reqs    []delivery.Request
	retries []RetryMessage
	res     CampaignBatchResult
	err     error
}

// read reads the page of the audience after cursor and enters its due
// customers.
func (b *campaignBatch) read(ctx context.Context, def *segment.Definition, after string) *pageWork {
	w := &pageWork{}
	if w.ids, w.err = segment.Page(ctx, b.c.db, def, after, b.in.BatchSize, segment.At(b.in.At)); w.err != nil {
		return w
	}
	w.last = len(w.ids) < b.in.BatchSize
	ids := b.inShare(w.ids)
	if len(ids) == 0 {
		return w
	}
	zones, err := b.c.store.TimeZones(ctx, ids)
	if err != nil {
		w.err = err
		return w
	}
	var due []string
	late := map[string]bool{}
	for _, id := range ids {
		zone, ok := zones[id] // absent: erased since the page was read
		if !ok {
			continue
		}
		if now, isLate := b.due(&w.res, zone); now {
			due = append(due, id)
			late[id] = isLate
		}
	}
	w.reqs, w.retries, w.err = b.enter(ctx, &w.res, due, late)
	return w
}

// send sends the page's messages, with the retries that are due, in one
// SendBatch, and counts the page.
func (b *campaignBatch) send(ctx context.Context, w *pageWork) {
	reqs, retries := w.reqs, w.retries
	now := time.Now()
	kept := b.p.Retry[:0]
	for _, r := range b.p.Retry {
		if r.At.After(now) {
			kept = append(kept, r)
			continue
		}
		reqs, retries = append(reqs, b.message(r.CustomerID, r.Occurrence)), append(retries, r)
	}
	b.p.Retry = kept
	results, errs := b.c.sendAll(ctx, reqs)
	b.p.Result.add(w.res)
	for i, r := range reqs {
		b.tally(ctx, r, retries[i], results[i], errs[i])
	}
}

// add folds a page's counts into r.
func (r *CampaignBatchResult) add(o CampaignBatchResult) {
	r.Entered, r.HeldOut, r.Refused = r.Entered+o.Entered, r.HeldOut+o.HeldOut, r.Refused+o.Refused
	r.NotDue, r.NextDue = r.NotDue+o.NotDue, earliest(r.NextDue, o.NextDue)
	r.Counts.Add(o.Counts)
}

// due decides whether a customer's send is due now, and whether it is too
// late after a pause, counting those whose local time has not come (or,
// resumed late, who are not late under a spec that runs per customer).
func (b *campaignBatch) due(res *CampaignBatchResult, zone string) (now, late bool) {
	in := b.in
	at := in.At
	if t := in.Spec.Trigger; t.Kind == campaign.TriggerOnce && t.Local {
		at = campaign.LocalAt(t.At, zone)
	}
	late = in.SkipLate && b.now.Sub(at) > lateAfter(in.Spec)
	if at.After(b.now) || (in.SkipLate && !late && !in.Spec.Batchable()) {
		res.NotDue++
		next := at
		if next.Before(b.now) {
			next = b.now
		}
		if res.NextDue.IsZero() || next.Before(res.NextDue) {
			res.NextDue = next
		}
		return false, false
	}
	return true, late
}

// enter enters the customers in one statement and returns the messages to
// send to those who are in and not held out. A customer late after a pause
// is entered and recorded as skipped instead.
func (b *campaignBatch) enter(ctx context.Context, res *CampaignBatchResult, ids []string, late map[string]bool) ([]delivery.Request, []RetryMessage, error) {
	in := b.in
	if len(ids) == 0 {
		return nil, nil, nil
	}
	es := make([]store.CampaignEntry, len(ids))
	for i, id := range ids {
		e := store.CampaignEntry{
			Campaign: in.Campaign, CustomerID: id, Version: in.Version, RunID: in.RunKey + "/" + id, EnteredAt: in.At,
			Holdout: campaign.HeldOut(in.Campaign, id, in.Spec.Holdout),
		}
		if !e.Holdout {
			e.Variant, e.Rollout = variantName(b.variant(id)), in.Winner != ""
		}
		if g := in.Spec.Goal; g != nil {
			until := in.At.Add(g.Within)
			e.GoalEvent, e.GoalUntil = g.Event, &until
		}
		es[i] = e
	}
	got, entered, err := b.c.store.EnterCampaignBatch(ctx, es, in.Spec.AgainAfter)
	if err != nil {
		return nil, nil, storeErr(err)
	}
	var reqs []delivery.Request
	var retries []RetryMessage
	var held []string
	for i, e := range got {
		id := ids[i]
		switch {
		case !entered[i] || e.FinishedAt != nil:
			// A finished entry under the same run ID (a later pass of the
			// same firing) is never run again.
			res.Refused++
			continue
		case e.Holdout:
			res.HeldOut++
			res.Entered++
			held = append(held, e.RunID)
			continue
		}
		res.Entered++
		if late[id] {
			if err := b.skipLate(ctx, res, id, e); err != nil {
				return nil, nil, err
			}
			continue
		}
		reqs, retries = append(reqs, b.message(id, e.Occurrence)), append(retries, RetryMessage{CustomerID: id, Occurrence: e.Occurrence})
	}
	if in.firstOnly() && len(held) > 0 {
		// Nobody runs the rest of the steps for the control group, so its
		// entries end here, as a held-out customer's own run would end them.
		if err := b.c.store.FinishCampaignEntries(ctx, in.Campaign, held, OutcomeHeldOut, b.now); err != nil {
			return nil, nil, storeErr(err)
		}
	}
	return reqs, retries, nil
}

// skipLate records a send that fell due during a pause and was too old on
// resume.
func (b *campaignBatch) skipLate(ctx context.Context, res *CampaignBatchResult, id string, e store.CampaignEntry) error {
	if err := b.c.store.RecordCampaignSkip(ctx, b.in.Campaign, id, e.Occurrence, b.step.ID, e.Variant, SkipLateAfterPause); err != nil {
		return err
	}
	if err := b.c.store.FinishCampaignEntry(ctx, b.in.Campaign, e.RunID, SkipLateAfterPause, nil, b.now); err != nil {
		return err
	}
	res.Counts.Skipped++
	return nil
}

func (b *campaignBatch) message(id string, occurrence int) delivery.Request {
	return campaign.Message(b.in.Campaign, b.in.Version, id, b.step, b.variant(id), occurrence)
}

// variant is the customer's variant: the winner once an A/B test is
// decided, their own arm otherwise.
func (b *campaignBatch) variant(id string) *campaign.Variant {
	if b.in.Winner != "" {
		return b.step.Send.Variant(b.in.Winner)
	}
	return campaign.PickVariant(b.in.Campaign, id, b.step.Send)
}

// inShare keeps the customers of ids in the call's share of an A/B test's
// audience: the test takes the holdout (entered and measured from the
// start) and the test share, the rest everyone else.
func (b *campaignBatch) inShare(ids []string) []string {
	w := b.step.Send.Winner
	if b.in.Share == "" || w == nil {
		return ids
	}
	var out []string
	for _, id := range ids {
		first := campaign.HeldOut(b.in.Campaign, id, b.in.Spec.Holdout) || campaign.InTest(b.in.Campaign, id, w.Test)
		if first == (b.in.Share == ShareTest) {
			out = append(out, id)
		}
	}
	return out
}

// tally counts one message's outcome; a temporary failure goes back on the
// retry list with its own backoff (or the provider's Retry-After).
func (b *campaignBatch) tally(ctx context.Context, r delivery.Request, m RetryMessage, out delivery.Result, err error) {
	res := &b.p.Result
	if err != nil {
		wait := delivery.RetryAfter(err)
		err = sendErr(r.IdempotencyKey, err)
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			activity.GetLogger(ctx).Warn("campaign message refused", "key", r.IdempotencyKey, "error", err)
			res.Counts.Failed++
			if appErr.Type() != ErrCustomerNotFound {
				b.handOn(r, "")
			}
			return
		}
		if wait <= 0 {
			wait = min(campaignRetryFirst<<min(m.Attempt, 10), campaignRetryMax)
		}
		m.Attempt++
		m.At = time.Now().Add(wait)
		activity.GetLogger(ctx).Warn("campaign message will be retried", "key", r.IdempotencyKey, "attempt", m.Attempt, "in", wait, "error", err)
		b.p.Retry = append(b.p.Retry, m)
		return
	}
	if out.Status == delivery.Deferred {
		// Quiet hours: a batch does not wait per customer; the ledger row
		// keeps the key, and the runner's next pass sends it.
		res.NotDue++
		if res.NextDue.IsZero() || out.DeferUntil.Before(res.NextDue) {
			res.NextDue = out.DeferUntil
		}
		return
	}
	res.Counts.record(out)
	if out.Status == delivery.Sent {
		b.handOn(r, r.Step)
	} else {
		b.handOn(r, "")
	}
}

// handOn notes, when the call sends only the first step, that the
// customer's run goes on from the second (sent: the ledger step, if the
// message went out). A duplicate is handed on too: a retried call resends
// the page whose runs were never started, and a run already under way
// refuses a second start.
func (b *campaignBatch) handOn(r delivery.Request, sent string) {
	if b.in.firstOnly() {
		b.p.Result.Runs = append(b.p.Result.Runs, RunStart{CustomerID: r.CustomerID, Sent: sent})
	}
}

// sendAll sends reqs through SendBatch when the sender has it, one by one
// otherwise.
func (c *Campaigns) sendAll(ctx context.Context, reqs []delivery.Request) ([]delivery.Result, []error) {
	if bs, ok := c.sender.(batchSender); ok && len(reqs) > 0 {
		return bs.SendBatch(ctx, reqs)
	}
	results, errs := make([]delivery.Result, len(reqs)), make([]error, len(reqs))
	for i, r := range reqs {
		results[i], errs[i] = c.sender.Send(ctx, r)
	}
	return results, errs
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

// WinnerInput asks for the winner of a campaign version's A/B test at its
// first step; with Decide, the test is over and the winner is chosen at At
// if it has not been.
type WinnerInput struct {
	Campaign string        `json:"campaign"`
	Version  int           `json:"version"`
	Step     campaign.Step `json:"step"`
	Decide   bool          `json:"decide,omitempty"`
	At       time.Time     `json:"at,omitzero"`
}

// WinnerResult is the winner, "" while none is chosen.
type WinnerResult struct {
	Winner string `json:"winner,omitempty"`
	Rule   string `json:"rule,omitempty"`
}

// CampaignWinner returns the version's recorded winner, or, asked to
// decide, counts the test (store.CampaignTestTallies), chooses by
// campaign.ChooseWinner and records the choice. The first recorded choice
// stands, so a retry or a second firing gets the same answer.
func (c *Campaigns) CampaignWinner(ctx context.Context, in WinnerInput) (WinnerResult, error) {
	w := in.Step.Send.Winner
	if w == nil {
		return WinnerResult{}, nonRetryable(ErrInvalidInput, fmt.Errorf("campaign %s step %s picks no winner", in.Campaign, in.Step.ID))
	}
	got, err := c.store.CampaignWinner(ctx, in.Campaign, in.Version)
	switch {
	case err == nil:
		return WinnerResult{Winner: got.Variant, Rule: got.Rule}, nil
	case !errors.Is(err, store.ErrNotFound):
		return WinnerResult{}, err
	case !in.Decide:
		return WinnerResult{}, nil
	}
	names := make([]string, len(in.Step.Send.Variants))
	for i, v := range in.Step.Send.Variants {
		names[i] = v.Name
	}
	tallies, err := c.store.CampaignTestTallies(ctx, in.Campaign, in.Version, in.Step.ID, w.Metric, names, in.At)
	if err != nil {
		return WinnerResult{}, err
	}
	winner, rule := campaign.ChooseWinner(tallies, w.MinSent)
	got, err = c.store.RecordCampaignWinner(ctx, store.CampaignWinner{
		Campaign: in.Campaign, Version: in.Version, Step: in.Step.ID, Metric: w.Metric, Variant: winner, Rule: rule,
		MinSent: w.MinSent, Tallies: tallies, DecidedAt: in.At,
	})
	if err != nil {
		return WinnerResult{}, err
	}
	activity.GetLogger(ctx).Info("campaign A/B winner chosen", "campaign", in.Campaign, "version", in.Version, "winner", got.Variant, "rule", got.Rule)
	return WinnerResult{Winner: got.Variant, Rule: got.Rule}, nil
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
