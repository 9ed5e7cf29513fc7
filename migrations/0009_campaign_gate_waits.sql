-- campaign_gate_waits lists the workflows waiting at a paused campaign's
-- gate (a customer's run at a send step, a firing between pages), written
-- by the gate check itself, so resuming or archiving the campaign can wake
-- each of them at once instead of at its next poll. Rows hold workflow IDs
-- only; a stale one (the run ended meanwhile) is dropped when waking it
-- finds no such workflow.
CREATE TABLE campaign_gate_waits (
    campaign    text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    workflow_id text NOT NULL CHECK (workflow_id <> ''),
    since       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, workflow_id)
);
