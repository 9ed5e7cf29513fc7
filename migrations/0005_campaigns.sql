-- Campaigns: marketer-defined files applied as numbered versions, and what
-- each customer's entry into a campaign became.

-- campaigns has one row per campaign name: its current version and status.
-- A paused campaign sends nothing; resumed_at lets runs tell a send that
-- fell due during the pause (and is now late) from one that is on time.
CREATE TABLE campaigns (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    description     text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
    current_version integer NOT NULL,
    trigger_kind    text NOT NULL CHECK (trigger_kind IN ('schedule', 'event', 'once')),
    paused_at       timestamptz,
    resumed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- campaign_versions keeps every applied file as written and as validated
-- (spec), so a run always reads the version it started with.
CREATE TABLE campaign_versions (
    campaign   text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    version    integer NOT NULL CHECK (version > 0),
    source     text NOT NULL,
    spec       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, version)
);

-- campaign_entries has one row per customer entering a campaign (their nth
-- occurrence). The entry rule (once, or again after N days) is checked
-- against it under an advisory lock. Holdout members are entered too, with
-- holdout = true, so the control group is counted and measured. goal_event
-- and goal_until are copied from the version at entry, so conversions are
-- measured the same way for treatment and holdout.
CREATE TABLE campaign_entries (
    campaign    text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    occurrence  integer NOT NULL CHECK (occurrence > 0),
    version     integer NOT NULL,
    run_id      text NOT NULL CHECK (run_id <> ''),
    holdout     boolean NOT NULL DEFAULT false,
    variant     text NOT NULL DEFAULT '',
    entered_at  timestamptz NOT NULL,
    goal_event  text NOT NULL DEFAULT '',
    goal_until  timestamptz,
    goal_at     timestamptz,
    finished_at timestamptz,
    outcome     text NOT NULL DEFAULT '',
    PRIMARY KEY (campaign, customer_id, occurrence),
    UNIQUE (campaign, run_id)
);

CREATE INDEX campaign_entries_report ON campaign_entries (campaign, variant, holdout);

-- campaign_skips records sends a campaign itself decided not to make (a
-- send that fell due during a pause and was too late on resume); the send
-- path's own skips (no consent, suppressed, capped) are in messages.
CREATE TABLE campaign_skips (
    campaign    text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    occurrence  integer NOT NULL,
    step        text NOT NULL,
    variant     text NOT NULL DEFAULT '',
    reason      text NOT NULL CHECK (reason <> ''),
    skipped_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, customer_id, occurrence, step)
);
