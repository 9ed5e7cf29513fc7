package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Campaign is a campaign's current state: which version new runs take and
// whether it may send.
type Campaign struct {
	Name           string     `db:"name" json:"name"`
	Description    string     `db:"description" json:"description,omitempty"`
	Status         string     `db:"status" json:"status"`
	CurrentVersion int        `db:"current_version" json:"current_version"`
	TriggerKind    string     `db:"trigger_kind" json:"trigger_kind"`
	PausedAt       *time.Time `db:"paused_at" json:"paused_at,omitempty"`
	ResumedAt      *time.Time `db:"resumed_at" json:"resumed_at,omitempty"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at" json:"updated_at"`
}

// CampaignVersion is one applied campaign file: its source as written and
// its validated spec (JSON), which runs carry as their snapshot.
type CampaignVersion struct {
	Campaign  string    `db:"campaign" json:"campaign"`
	Version   int       `db:"version" json:"version"`
	Source    string    `db:"source" json:"source"`
	Spec      []byte    `db:"spec" json:"spec"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

const campaignColumns = `name, description, status, current_version, trigger_kind, paused_at, resumed_at, created_at, updated_at`

// ApplyCampaign stores v as the campaign's next version and makes it
// current; the campaign is created on its first apply and an archived one
// becomes active again. A source identical to the current version's stores
// nothing and reports Unchanged. Runs already in flight keep the version
// they started with.
func (s *Store) ApplyCampaign(ctx context.Context, description, triggerKind string, v CampaignVersion) (CampaignVersion, string, error) {
	outcome := Updated
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var cur int
		var curSource string
		err := tx.QueryRow(ctx, `
			SELECT c.current_version, v.source FROM campaigns c
			JOIN campaign_versions v ON v.campaign = c.name AND v.version = c.current_version
			WHERE c.name = $1 FOR UPDATE OF c`, v.Campaign).Scan(&cur, &curSource)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = Inserted
		case err != nil:
			return err
		case curSource == v.Source:
			outcome = Unchanged
			v.Version = cur
			_, err := tx.Exec(ctx, `
				UPDATE campaigns SET status = 'active', updated_at = now()
				WHERE name = $1 AND status = 'archived'`, v.Campaign)
			return err
		}
		v.Version = cur + 1
		if outcome == Inserted {
			_, err = tx.Exec(ctx, `
				INSERT INTO campaigns (name, description, current_version, trigger_kind)
				VALUES ($1, $2, 0, $3)`, v.Campaign, description, triggerKind)
			if err != nil {
				return err
			}
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO campaign_versions (campaign, version, source, spec)
			VALUES ($1, $2, $3, $4) RETURNING created_at`,
			v.Campaign, v.Version, v.Source, string(v.Spec)).Scan(&v.CreatedAt)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE campaigns SET current_version = $2, description = $3, trigger_kind = $4,
				status = CASE WHEN status = 'archived' THEN 'active' ELSE status END, updated_at = now()
			WHERE name = $1`, v.Campaign, v.Version, description, triggerKind)
		return err
	})
	if err != nil {
		return CampaignVersion{}, "", fmt.Errorf("apply campaign %s: %w", v.Campaign, err)
	}
	if outcome == Unchanged {
		v, err = s.CampaignVersion(ctx, v.Campaign, v.Version)
	}
	return v, outcome, err
}

// GetCampaign returns a campaign's state, or ErrNotFound.
func (s *Store) GetCampaign(ctx context.Context, name string) (Campaign, error) {
	return get[Campaign](ctx, s.pool, fmt.Sprintf("campaign %s", name), `SELECT `+campaignColumns+` FROM campaigns WHERE name = $1`, name)
}

// ListCampaigns returns every campaign by name, archived ones included.
func (s *Store) ListCampaigns(ctx context.Context) ([]Campaign, error) {
	return list[Campaign](ctx, s.pool, "list campaigns", `SELECT `+campaignColumns+` FROM campaigns ORDER BY name`)
}

// ListCampaignsAfter returns up to limit campaigns by name after the name
// after ("" from the start), archived ones included: the keyset page a
// list of any length is read in.
func (s *Store) ListCampaignsAfter(ctx context.Context, after string, limit int) ([]Campaign, error) {
	return list[Campaign](ctx, s.pool, "list campaigns after "+after,
		`SELECT `+campaignColumns+` FROM campaigns WHERE name > $1 ORDER BY name LIMIT $2`, after, limit)
}

// CampaignVersion returns one stored version (0: the current one), or
// ErrNotFound.
func (s *Store) CampaignVersion(ctx context.Context, name string, version int) (CampaignVersion, error) {
	return get[CampaignVersion](ctx, s.pool, fmt.Sprintf("campaign %s version %d", name, version), `
		SELECT v.campaign, v.version, v.source, v.spec, v.created_at
		FROM campaign_versions v JOIN campaigns c ON c.name = v.campaign
		WHERE v.campaign = $1 AND v.version = CASE WHEN $2 = 0 THEN c.current_version ELSE $2 END`, name, version)
}

// LiveCampaign is a campaign's current version and status, as event routing
// needs it.
type LiveCampaign struct {
	CampaignVersion
	Status string `db:"status" json:"status"`
}

// LiveCampaigns returns the current version of every campaign that is not
// archived, for routing events to campaign runs: an active event-triggered
// campaign starts runs, and any live campaign's runs hear their goal and
// wait events.
func (s *Store) LiveCampaigns(ctx context.Context) ([]LiveCampaign, error) {
	return list[LiveCampaign](ctx, s.pool, "list live campaigns", `
		SELECT v.campaign, v.version, v.source, v.spec, v.created_at, c.status
		FROM campaigns c JOIN campaign_versions v ON v.campaign = c.name AND v.version = c.current_version
		WHERE c.status <> 'archived'
		ORDER BY c.name`)
}

// SetCampaignStatus pauses, resumes (status active) or archives a
// campaign. Pausing stamps paused_at and resuming resumed_at, which runs use
// to skip sends that fell due during the pause. Setting the status it
// already has changes nothing.
func (s *Store) SetCampaignStatus(ctx context.Context, name, status string, at time.Time) (Campaign, error) {
	c, err := rowOf[Campaign](ctx, s.pool, `
		UPDATE campaigns SET
			status = $2,
			paused_at = CASE WHEN $2 = 'paused' AND status <> 'paused' THEN $3 ELSE paused_at END,
			resumed_at = CASE WHEN $2 = 'active' AND status = 'paused' THEN $3 ELSE resumed_at END,
			updated_at = now()
		WHERE name = $1
		RETURNING `+campaignColumns, name, status, at)
	if errors.Is(err, ErrNotFound) {
		return Campaign{}, fmt.Errorf("campaign %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("set campaign %s %s: %w", name, status, err)
	}
	return c, nil
}

// CheckCampaignGate returns a campaign's status for a workflow about to
// send, and notes the workflow as waiting while the campaign is paused (and
// forgets it otherwise), so a resume finds whom to wake
// (CampaignGateWaits). The status is read under a share lock: a resume
// committing meanwhile either is seen here or sees the note.
func (s *Store) CheckCampaignGate(ctx context.Context, campaign, workflowID string) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `
		WITH c AS (SELECT status FROM campaigns WHERE name = $1 FOR SHARE),
		noted AS (
			INSERT INTO campaign_gate_waits (campaign, workflow_id)
			SELECT $1, $2 FROM c WHERE status = 'paused'
			ON CONFLICT DO NOTHING),
		forgotten AS (
			DELETE FROM campaign_gate_waits
			WHERE campaign = $1 AND workflow_id = $2 AND EXISTS (SELECT 1 FROM c WHERE status <> 'paused'))
		SELECT status FROM c`, campaign, workflowID).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("campaign %s: %w", campaign, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("check campaign %s gate for %s: %w", campaign, workflowID, err)
	}
	return status, nil
}

// CampaignGateWaits lists the workflows noted as waiting at the campaign's
// gate, longest waiting first.
func (s *Store) CampaignGateWaits(ctx context.Context, campaign string) ([]string, error) {
	return listValues[string](ctx, s.pool, fmt.Sprintf("list workflows waiting at campaign %s", campaign), `SELECT workflow_id FROM campaign_gate_waits WHERE campaign = $1 ORDER BY since, workflow_id`, campaign)
}

// ForgetCampaignGateWait drops the note of a workflow that no longer exists.
func (s *Store) ForgetCampaignGateWait(ctx context.Context, campaign, workflowID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM campaign_gate_waits WHERE campaign = $1 AND workflow_id = $2`, campaign, workflowID); err != nil {
		return fmt.Errorf("forget %s waiting at campaign %s: %w", workflowID, campaign, err)
	}
	return nil
}

// CampaignEntry is one customer entering a campaign.
type CampaignEntry struct {
	Campaign   string `db:"campaign" json:"campaign"`
	CustomerID string `db:"customer_id" json:"customer_id"`
	Occurrence int    `db:"occurrence" json:"occurrence"`
	Version    int    `db:"version" json:"version"`
	RunID      string `db:"run_id" json:"run_id"`
	Holdout    bool   `db:"holdout" json:"holdout"`
	Variant    string `db:"variant" json:"variant,omitempty"`
	// Rollout: the customer was outside an A/B test's share and was sent
	// its winner after the test.
	Rollout    bool       `db:"rollout" json:"rollout,omitempty"`
	EnteredAt  time.Time  `db:"entered_at" json:"entered_at"`
	GoalEvent  string     `db:"goal_event" json:"goal_event,omitempty"`
	GoalUntil  *time.Time `db:"goal_until" json:"goal_until,omitempty"`
	GoalAt     *time.Time `db:"goal_at" json:"goal_at,omitempty"`
	FinishedAt *time.Time `db:"finished_at" json:"finished_at,omitempty"`
	Outcome    string     `db:"outcome" json:"outcome,omitempty"`
}

const entryColumns = `campaign, customer_id::text AS customer_id, occurrence, version, run_id, holdout, variant, rollout,
	entered_at, goal_event, goal_until, goal_at, finished_at, outcome`

// EnterCampaign records e as the customer's next occurrence unless the
// entry rule refuses it: with again <= 0 a customer enters once ever,
// otherwise again only once again has passed since their last entry.
// Entering with the same run ID again returns the first entry, so a retried
// activity is harmless; concurrent entries for one customer are serialised
// by an advisory lock. ok is false when the rule refused the entry.
func (s *Store) EnterCampaign(ctx context.Context, e CampaignEntry, again time.Duration) (CampaignEntry, bool, error) {
	var out CampaignEntry
	ok := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"campaign/"+e.Campaign+"/"+e.CustomerID); err != nil {
			return err
		}
		mine, err := rowsOf[CampaignEntry](ctx, tx, `SELECT `+entryColumns+` FROM campaign_entries WHERE campaign = $1 AND run_id = $2`, e.Campaign, e.RunID)
		if err != nil {
			return err
		}
		if len(mine) == 1 {
			out, ok = mine[0], true
			return nil
		}
		var last int
		var lastAt *time.Time
		err = tx.QueryRow(ctx, `
			SELECT COALESCE(max(occurrence), 0), max(entered_at) FROM campaign_entries
			WHERE campaign = $1 AND customer_id = $2`, e.Campaign, e.CustomerID).Scan(&last, &lastAt)
		if err != nil {
			return err
		}
		if last > 0 && (again <= 0 || e.EnteredAt.Before(lastAt.Add(again))) {
			return nil
		}
		out, err = rowOf[CampaignEntry](ctx, tx, `
			INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, variant,
				entered_at, goal_event, goal_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+entryColumns,
			e.Campaign, e.CustomerID, last+1, e.Version, e.RunID, e.Holdout, e.Variant, e.EnteredAt, e.GoalEvent, e.GoalUntil)
		ok = err == nil
		return err
	})
	if err != nil {
		return CampaignEntry{}, false, fmt.Errorf("enter %s into campaign %s: %w", e.CustomerID, e.Campaign, err)
	}
	return out, ok, nil
}

// EnterCampaignBatch is EnterCampaign for a page of customers of one
// campaign at once, as a single-send campaign enters them: the same entry
// rule and the same answer for a run ID entered before, in one transaction
// of two statements instead of five per customer. Every entry must carry
// the same campaign, version, entry time and goal event, and its own run
// ID. entered[i] is false when the rule refused es[i].
func (s *Store) EnterCampaignBatch(ctx context.Context, es []CampaignEntry, again time.Duration) (got []CampaignEntry, entered []bool, err error) {
	if len(es) == 0 {
		return nil, nil, nil
	}
	type input struct {
		CustomerID string     `json:"customer_id"`
		RunID      string     `json:"run_id"`
		Holdout    bool       `json:"holdout"`
		Variant    string     `json:"variant"`
		Rollout    bool       `json:"rollout"`
		GoalUntil  *time.Time `json:"goal_until"`
	}
	in := make([]input, len(es))
	ids := make([]string, len(es))
	for i, e := range es {
		in[i] = input{CustomerID: e.CustomerID, RunID: e.RunID, Holdout: e.Holdout, Variant: e.Variant, Rollout: e.Rollout, GoalUntil: e.GoalUntil}
		ids[i] = e.CustomerID
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, nil, fmt.Errorf("encode campaign entries: %w", err)
	}
	first := es[0]
	byRun := map[string]CampaignEntry{}
	// Each input row looks its entries up by index (LATERAL): a campaign's
	// entries grow by a page at a time faster than autovacuum analyzes
	// them, and a join planned on stale statistics scanned all of the
	// campaign's entries for every page.
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The locks EnterCampaign takes, in one order, so a page and a
		// customer's own run never enter the same customer twice.
		if _, err := tx.Exec(ctx, `
			SELECT pg_advisory_xact_lock(hashtextextended('campaign/' || $1 || '/' || id, 0))
			FROM (SELECT DISTINCT id FROM unnest($2::text[]) AS id ORDER BY id) ids`, first.Campaign, ids); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			WITH input AS (
				SELECT * FROM jsonb_to_recordset($1::jsonb)
					AS r(customer_id uuid, run_id text, holdout bool, variant text, rollout bool, goal_until timestamptz)
			), mine AS (
				SELECT e.* FROM input i CROSS JOIN LATERAL (
					SELECT * FROM campaign_entries e WHERE e.campaign = $2 AND e.run_id = i.run_id LIMIT 1) e
			), last AS (
				SELECT i.customer_id, l.occurrence, l.entered_at FROM input i CROSS JOIN LATERAL (
					SELECT max(e.occurrence) AS occurrence, max(e.entered_at) AS entered_at
					FROM campaign_entries e WHERE e.campaign = $2 AND e.customer_id = i.customer_id) l
			), added AS (
				INSERT INTO campaign_entries (campaign, customer_id, occurrence, version, run_id, holdout, variant, rollout,
					entered_at, goal_event, goal_until)
				SELECT $2, i.customer_id, coalesce(l.occurrence, 0) + 1, $3, i.run_id, i.holdout, i.variant, i.rollout, $4, $5, i.goal_until
				FROM input i LEFT JOIN last l ON l.customer_id = i.customer_id
				WHERE i.run_id NOT IN (SELECT run_id FROM mine)
				  AND (l.occurrence IS NULL OR ($6::bigint > 0 AND $4 >= l.entered_at + $6 * interval '1 microsecond'))
				RETURNING *
			)
			SELECT `+entryColumns+` FROM mine
			UNION ALL
			SELECT `+entryColumns+` FROM added`,
			payload, first.Campaign, first.Version, first.EnteredAt, first.GoalEvent, again.Microseconds())
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByName[CampaignEntry])
		for _, e := range got {
			byRun[e.RunID] = e
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("enter %d customers into campaign %s: %w", len(es), first.Campaign, err)
	}
	got, entered = make([]CampaignEntry, len(es)), make([]bool, len(es))
	for i, e := range es {
		got[i], entered[i] = byRun[e.RunID]
	}
	return got, entered, nil
}

// FinishCampaignEntry stores how a customer's run ended; goalAt, when set,
// is when they reached the goal.
func (s *Store) FinishCampaignEntry(ctx context.Context, campaign, runID, outcome string, goalAt *time.Time, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE campaign_entries SET outcome = $3, finished_at = $4, goal_at = COALESCE(goal_at, $5)
		WHERE campaign = $1 AND run_id = $2`, campaign, runID, outcome, at, goalAt)
	if err != nil {
		return fmt.Errorf("finish campaign %s run %s: %w", campaign, runID, err)
	}
	return nil
}

// FinishCampaignEntries is FinishCampaignEntry for many runs of a campaign
// that end alike (a page's holdout), in one statement.
func (s *Store) FinishCampaignEntries(ctx context.Context, campaign string, runIDs []string, outcome string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE campaign_entries SET outcome = $3, finished_at = $4
		WHERE campaign = $1 AND run_id = ANY($2) AND finished_at IS NULL`, campaign, runIDs, outcome, at)
	if err != nil {
		return fmt.Errorf("finish %d runs of campaign %s: %w", len(runIDs), campaign, err)
	}
	return nil
}

// RecordCampaignSkip notes a send the campaign itself did not make (late
// after a pause); recording it again changes nothing.
func (s *Store) RecordCampaignSkip(ctx context.Context, campaign, customerID string, occurrence int, step, variant, reason string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO campaign_skips (campaign, customer_id, occurrence, step, variant, reason)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING`, campaign, customerID, occurrence, step, variant, reason)
	if err != nil {
		return fmt.Errorf("record campaign %s skip of %s at %s: %w", campaign, customerID, step, err)
	}
	return nil
}

// CampaignArm is one row of a campaign report: a variant's treatment group
// (Holdout false; Variant "" when the campaign has no A/B split) or the
// control group (Holdout true).
type CampaignArm struct {
	Variant string `db:"variant" json:"variant"`
	Holdout bool   `db:"holdout" json:"holdout"`
	// Rollout is the rest of the audience of an A/B test that picked its
	// winner, sent the winning Variant after the test: counted apart, so
	// the test's arms keep the test's numbers.
	Rollout bool `db:"rollout" json:"rollout,omitempty"`
	Entered int  `db:"entered" json:"entered"`
	// Converted counts entries whose goal event occurred within the goal
	// window after entry, measured alike for treatment and holdout.
	Converted int            `db:"converted" json:"converted"`
	Sent      int            `db:"sent" json:"sent"`
	Failed    int            `db:"failed" json:"failed"`
	Skipped   map[string]int `db:"-" json:"skipped,omitempty"`
	// ConversionRate is Converted / Entered (0 with no entries).
	ConversionRate float64 `db:"-" json:"conversion_rate"`
	// UpliftPoints is a treatment arm's conversion rate minus the holdout's,
	// in percentage points; nil for the holdout itself or without one.
	UpliftPoints *float64 `db:"-" json:"uplift_points,omitempty"`
	// Redeemed counts the coupons the arm's messages carried that a shop
	// has redeemed (POST /v1/coupons/{code}/redeem).
	Redeemed int `db:"-" json:"redeemed"`
}

// CampaignReport is what a campaign did: per arm and for the holdout, and
// the treatment as a whole against the holdout.
type CampaignReport struct {
	Campaign string        `json:"campaign"`
	Status   string        `json:"status"`
	Version  int           `json:"version"`
	Arms     []CampaignArm `json:"arms"`
	// TreatmentRate and HoldoutRate are the conversion rates of everyone
	// who was not held out and of the holdout; UpliftPoints their difference
	// in percentage points. Nil unless both groups have entries.
	TreatmentRate *float64 `json:"treatment_rate,omitempty"`
	HoldoutRate   *float64 `json:"holdout_rate,omitempty"`
	UpliftPoints  *float64 `json:"uplift_points,omitempty"`
	// Winner is the latest version's automatic A/B winner, once chosen.
	Winner *CampaignWinner `json:"winner,omitempty"`
}

// Uplift is the treatment's conversion rate minus the holdout's, in
// percentage points, over all variants; ok is false without both groups.
func (r CampaignReport) Uplift() (treatment, holdout, uplift float64, ok bool) {
	var te, tc, he, hc int
	for _, a := range r.Arms {
		if a.Holdout {
			he, hc = he+a.Entered, hc+a.Converted
		} else {
			te, tc = te+a.Entered, tc+a.Converted
		}
	}
	if te == 0 || he == 0 {
		return 0, 0, 0, false
	}
	treatment, holdout = float64(tc)/float64(te), float64(hc)/float64(he)
	return treatment, holdout, (treatment - holdout) * 100, true
}

// summarise fills the rates and uplifts from the counts.
func (r *CampaignReport) summarise() {
	var hold *CampaignArm
	for i := range r.Arms {
		a := &r.Arms[i]
		if a.Entered > 0 {
			a.ConversionRate = float64(a.Converted) / float64(a.Entered)
		}
		if a.Holdout && a.Entered > 0 {
			hold = a
		}
	}
	if hold != nil {
		for i := range r.Arms {
			if a := &r.Arms[i]; !a.Holdout && a.Entered > 0 {
				up := (a.ConversionRate - hold.ConversionRate) * 100
				a.UpliftPoints = &up
			}
		}
	}
	if t, h, up, ok := r.Uplift(); ok {
		r.TreatmentRate, r.HoldoutRate, r.UpliftPoints = &t, &h, &up
	}
}

// entryArm is the treatment arm of the customer's latest entry into
// campaign $2 (lateral on a row with customer_id), for counting a message or
// a coupon for the arm of the entry it belongs to.
const entryArm = `SELECT e.variant, e.rollout FROM campaign_entries e
	WHERE e.campaign = $2 AND e.customer_id = c.customer_id AND NOT e.holdout
	ORDER BY e.occurrence DESC LIMIT 1`

// CampaignResults reports a campaign per variant and for its holdout:
// entries, conversions (goal event inside the window recorded at entry),
// and the ledger's sent, failed and skipped messages with the campaign's
// own skips, by reason, each counted for the arm of the customer's entry.
func (s *Store) CampaignResults(ctx context.Context, name string) (CampaignReport, error) {
	c, err := s.GetCampaign(ctx, name)
	if err != nil {
		return CampaignReport{}, err
	}
	arms, err := rowsOf[CampaignArm](ctx, s.pool, `
		SELECT e.variant, e.holdout, e.rollout, count(*)::int AS entered,
			count(*) FILTER (WHERE e.goal_at IS NOT NULL OR EXISTS (
				SELECT 1 FROM events ev
				WHERE ev.customer_id = e.customer_id AND ev.type = e.goal_event
				  AND ev.occurred_at >= e.entered_at AND ev.occurred_at < e.goal_until))::int AS converted,
			0 AS sent, 0 AS failed
		FROM campaign_entries e
		WHERE e.campaign = $1
		GROUP BY e.variant, e.holdout, e.rollout
		ORDER BY e.holdout, e.variant, e.rollout`, name)
	if err != nil {
		return CampaignReport{}, fmt.Errorf("report campaign %s: %w", name, err)
	}
	arm := func(variant string, rollout bool) *CampaignArm {
		for i := range arms {
			if !arms[i].Holdout && arms[i].Variant == variant && arms[i].Rollout == rollout {
				return &arms[i]
			}
		}
		arms = append(arms, CampaignArm{Variant: variant, Rollout: rollout})
		return &arms[len(arms)-1]
	}
	type tally struct {
		Variant string `db:"variant"`
		Rollout bool   `db:"rollout"`
		Status  string `db:"status"`
		Reason  string `db:"reason"`
		N       int    `db:"n"`
	}
	// A message counts for the arm of the customer's entry, so the steps of
	// a split campaign that are not themselves split still count per arm.
	tallies, err := rowsOf[tally](ctx, s.pool, `
		WITH tallied AS (
			SELECT m.customer_id,
				CASE WHEN position(':' IN m.step) > 0 THEN split_part(m.step, ':', 2) ELSE '' END AS variant,
				m.status, CASE WHEN m.status = 'skipped' THEN m.reason ELSE '' END AS reason
			FROM messages m WHERE m.journey = $1 AND m.status <> 'queued'
			UNION ALL
			SELECT customer_id, variant, 'skipped', reason FROM campaign_skips WHERE campaign = $2
		)
		SELECT COALESCE(e.variant, c.variant) AS variant, COALESCE(e.rollout, false) AS rollout,
			c.status, c.reason, count(*)::int AS n
		FROM tallied c LEFT JOIN LATERAL (`+entryArm+`) e ON true
		GROUP BY 1, 2, 3, 4`, "campaign/"+name, name)
	if err != nil {
		return CampaignReport{}, fmt.Errorf("report campaign %s messages: %w", name, err)
	}
	for _, t := range tallies {
		a := arm(t.Variant, t.Rollout)
		switch t.Status {
		case "sent":
			a.Sent += t.N
		case "failed":
			a.Failed += t.N
		case "skipped":
			if a.Skipped == nil {
				a.Skipped = map[string]int{}
			}
			a.Skipped[t.Reason] += t.N
		}
	}
	if err := s.tallyRedemptions(ctx, name, arm); err != nil {
		return CampaignReport{}, err
	}
	slices.SortStableFunc(arms, func(a, b CampaignArm) int {
		if a.Holdout != b.Holdout {
			if a.Holdout {
				return 1
			}
			return -1
		}
		if c := strings.Compare(a.Variant, b.Variant); c != 0 {
			return c
		}
		switch {
		case a.Rollout == b.Rollout:
			return 0
		case b.Rollout: // the test's arm before the rollout of its winner
			return -1
		}
		return 1
	})
	r := CampaignReport{Campaign: name, Status: c.Status, Version: c.CurrentVersion, Arms: arms}
	if r.Winner, err = s.latestCampaignWinner(ctx, name); err != nil {
		return CampaignReport{}, err
	}
	r.summarise()
	return r, nil
}

// SetCustomerAttribute sets one custom attribute (a campaign's set step).
func (s *Store) SetCustomerAttribute(ctx context.Context, customerID, key string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("set attribute %q of customer %s: %w", key, customerID, err)
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE customers SET attributes = jsonb_set(attributes, ARRAY[$2::text], $3::jsonb, true),
			updated_at = now()
		WHERE id = $1`, customerID, key, string(raw))
	if err != nil {
		return fmt.Errorf("set attribute %q of customer %s: %w", key, customerID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set attribute of customer %s: %w", customerID, ErrNotFound)
	}
	return nil
}
