-- A funnel's counts depend on the attribution window only through its
-- credits: a conversion is its last touch's (the last step sent at or
-- before it) when that step came less than the window before it, and no
-- step's otherwise. So each refresh now keeps, per campaign and built-in
-- journey, the rows no window changes (entries and conversions per arm,
-- each step's sends, deliveries, opens, clicks and redemptions) and the
-- credits grouped by their gap to the last touch, a journey's per UTC day
-- its entries started (an entry belongs to one day, so the days of any
-- period add up). A funnel of any window, and of any period of the days a
-- refresh kept, is then a sum over kept rows rather than a pass over the
-- ledger. campaign_results.funnel and journey_funnels keep whether and
-- for which entries the rows were counted; the funnels they held (of the
-- default window only) are dropped, and the next refresh keeps new ones.
CREATE TABLE kept_funnel_rows (
    funnel     text NOT NULL,       -- campaign/<name> or journey/<name>
    day        date,                -- a journey's entries' UTC day; NULL for a campaign
    kind       text NOT NULL,       -- arm, step or credit (store.FunnelRow)
    arm        text NOT NULL,
    holdout    boolean NOT NULL,
    step       text NOT NULL,       -- credit: the last touch, '' when no step was sent before
    currency   text NOT NULL,
    gap_us     bigint,              -- credit: microseconds from the last touch to the conversion
    entries    integer NOT NULL,
    converted  integer NOT NULL,
    sent       integer NOT NULL,
    delivered  integer NOT NULL,
    opened     integer NOT NULL,
    clicked    integer NOT NULL,
    redeemed   integer NOT NULL,
    revenue    numeric NOT NULL,
    first_sent timestamptz
);
CREATE INDEX kept_funnel_rows_funnel ON kept_funnel_rows (funnel, day);

UPDATE campaign_results SET funnel = NULL;
DELETE FROM journey_funnels;

-- The runs a journey's funnel counts since the refresh (or of a period
-- the refresh did not keep) are read by their start.
CREATE INDEX journey_runs_started ON journey_runs (journey, started_at);
