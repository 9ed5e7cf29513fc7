-- campaign_results keeps each campaign's results (entries, sends and
-- conversions per variant and holdout, as CampaignResults computes them)
-- as of the last refresh, so the campaign list shows every row's results
-- without recomputing them over the ledger per row. The hourly refresh
-- sweep and every score refresh rewrite them; a campaign's own page and
-- report still compute them live.
CREATE TABLE campaign_results (
    campaign    text PRIMARY KEY REFERENCES campaigns (name) ON DELETE CASCADE,
    report      jsonb NOT NULL,
    computed_at timestamptz NOT NULL
);
