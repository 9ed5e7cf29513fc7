-- audience_sizes keeps how many customers each saved segment (kind
-- 'segment') and each live campaign's audience (kind 'campaign') counted
-- when it was measured, so the console can draw a segment's size over time
-- and list campaigns with their audience without counting a million
-- customers per row. Every score refresh records one row per segment and
-- campaign.
CREATE TABLE audience_sizes (
    kind text NOT NULL CHECK (kind IN ('segment', 'campaign')),
    name text NOT NULL,
    at   timestamptz NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    PRIMARY KEY (kind, name, at)
);
