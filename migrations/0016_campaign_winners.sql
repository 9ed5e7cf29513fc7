-- Automatic A/B winners: a campaign whose first send tests its variants on
-- a share of the audience records which variant won, when, by which rule
-- and on which numbers, once per version; the rest of the audience is sent
-- that variant.
CREATE TABLE campaign_winners (
    campaign   text NOT NULL REFERENCES campaigns (name) ON DELETE CASCADE,
    version    integer NOT NULL,
    step       text NOT NULL,
    metric     text NOT NULL CHECK (metric IN ('click', 'goal')),
    variant    text NOT NULL CHECK (variant <> ''),
    rule       text NOT NULL CHECK (rule IN ('best_rate', 'tie', 'not_enough_data')),
    min_sent   integer NOT NULL,
    -- tallies are the test's numbers per variant, in the file's order:
    -- [{"variant", "sent", "hits"}].
    tallies    jsonb NOT NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (campaign, version)
);

-- rollout marks the entries of customers outside the test share who were
-- sent the winner after the test: the report counts them apart from the
-- test's arms, so the test's numbers stay the test's.
ALTER TABLE campaign_entries ADD COLUMN rollout boolean NOT NULL DEFAULT false;
