-- A customer's timeline (and erasing a customer, which cascades along
-- these keys) finds their journey runs and campaign entries by customer;
-- the tables' other indexes lead with the journey or the campaign, so
-- without these each look-up reads every run and every entry.
CREATE INDEX journey_runs_customer_id ON journey_runs (customer_id);
CREATE INDEX campaign_entries_customer ON campaign_entries (customer_id);
