-- Segments: saved audience definitions, the materialised scores they filter on,
-- and the indexes that keep a count over a million customers under a second.

-- bucket_hash is a stable, uniformly distributed 32-bit number per customer
-- (the first 32 bits of the MD5 of its ID); bucket = bucket_hash % 100 is the
-- customer's 0-99 bucket for holdouts and A/B splits: the same customer is
-- always in the same bucket. Seeded splits (an independent split per
-- campaign) are computed from bucket_hash with a seed-specific linear hash,
-- so no query hashes a million IDs. internal/segment computes the same
-- numbers in Go.
ALTER TABLE customers
    ADD COLUMN bucket_hash bigint GENERATED ALWAYS AS
        (('x' || substr(md5(id::text), 1, 8))::bit(32)::bigint) STORED,
    ADD COLUMN bucket smallint GENERATED ALWAYS AS
        (((('x' || substr(md5(id::text), 1, 8))::bit(32)::bigint) % 100)::smallint) STORED;

-- Saved segments by name. definition holds the source exactly as written
-- (YAML or JSON), so what a marketer saved is what they read back.
CREATE TABLE segments (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    description text NOT NULL DEFAULT '',
    format      text NOT NULL CHECK (format IN ('yaml', 'json')),
    definition  text NOT NULL CHECK (definition <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- customer_scores holds the computed fields that depend on the whole customer
-- base (RFM quintiles and the value tier derived from them). Ranking a million
-- customers per query is too slow, so `tidings segments refresh-scores` (and
-- the nightly schedule) recompute them in one set-based statement. 0 means
-- "never purchased" for recency, frequency and monetary.
CREATE TABLE customer_scores (
    customer_id uuid PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    recency     smallint NOT NULL CHECK (recency BETWEEN 0 AND 5),
    frequency   smallint NOT NULL CHECK (frequency BETWEEN 0 AND 5),
    monetary    smallint NOT NULL CHECK (monetary BETWEEN 0 AND 5),
    value_tier  text NOT NULL CHECK (value_tier IN ('high', 'mid', 'low')),
    scored_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX customer_scores_value_tier ON customer_scores (value_tier, customer_id);
CREATE INDEX customer_scores_rfm ON customer_scores (recency, frequency, monetary) INCLUDE (customer_id);
-- The three scores are strongly correlated (recent buyers buy often and
-- spend more); without these statistics the planner multiplies their
-- selectivities, expects a handful of "champions" and picks a row-by-row join.
CREATE STATISTICS customer_scores_rfm_stats (dependencies, mcv) ON recency, frequency, monetary FROM customer_scores;

-- score_refreshes records every refresh, so a count can say how old the
-- scores it used are.
CREATE TABLE score_refreshes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    customers   bigint NOT NULL,
    changed     bigint NOT NULL
);

-- The typical audience ("bought within 90 days, English, top tier") starts
-- from recent buyers: this wider version of the last-purchase index carries
-- the columns such segments filter and join on, so PostgreSQL answers from
-- the index alone instead of visiting every recent buyer's row.
DROP INDEX customers_last_purchase_at;
CREATE INDEX customers_last_purchase_at ON customers (last_purchase_at)
    INCLUDE (id, locale, country, orders_count, first_purchase_at)
    WHERE last_purchase_at IS NOT NULL;

-- Fields segments filter on that no earlier index covers.
CREATE INDEX customers_attributes ON customers USING gin (attributes jsonb_path_ops);
CREATE INDEX customers_created_at ON customers (created_at);
-- Language is the most common audience filter; carrying id lets a join with
-- the scores run from the index alone.
CREATE INDEX customers_locale ON customers (locale) INCLUDE (id);
CREATE INDEX customers_country_region_city ON customers (country, region, city);
-- "performed page_view 3 times in 30 days" scans one type's recent events
-- without visiting the table.
CREATE INDEX events_type_time ON events (type, occurred_at) INCLUDE (customer_id);
