-- The funnel reports follow every entry through the ledger, its opens,
-- clicks and coupons: seconds at a hundred thousand customers, tens of
-- seconds at a million. Each refresh now keeps every campaign's funnel
-- beside its results (campaign_results.funnel) and every built-in
-- journey's (journey_funnels), for the default attribution window and,
-- for a journey, the default period; the reports and the campaign page
-- read them with their time. A funnel of another window or period is
-- still counted when asked for.
ALTER TABLE campaign_results ADD COLUMN funnel jsonb;

CREATE TABLE journey_funnels (
    journey     text PRIMARY KEY,
    funnel      jsonb NOT NULL,
    computed_at timestamptz NOT NULL
);
