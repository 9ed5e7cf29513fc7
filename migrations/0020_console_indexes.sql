-- The console's overview counts the journey runs and campaign entries
-- still open and groups the last week's messages; without these it reads
-- every run, every entry of each campaign and each of the week's ledger
-- rows from the table. The open rows are few, so the partial indexes stay
-- small; the ledger's time index carries what the overview groups by, so
-- the week is read from the index alone.
CREATE INDEX journey_runs_open ON journey_runs (journey) WHERE ended_at IS NULL;
CREATE INDEX campaign_entries_open ON campaign_entries (campaign) WHERE finished_at IS NULL;
DROP INDEX messages_created_at;
CREATE INDEX messages_created_at ON messages (created_at, id) INCLUDE (channel, status, reason, delivery);
