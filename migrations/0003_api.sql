-- API keys, outbox bookkeeping for event routing, and erasure tombstones.

-- api_keys authenticate HTTP API clients. Only a SHA-256 hash of each key is
-- stored: the key itself is shown once, when it is created.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    prefix       text NOT NULL,
    hash         text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- route_attempts and route_error tell an operator why an event is still in the
-- outbox (routed_at IS NULL) instead of leaving them to guess.
ALTER TABLE events
    ADD COLUMN route_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN route_error    text NOT NULL DEFAULT '';

-- erased_at marks a customer whose personal data was erased on request; the
-- row stays as an anonymous tombstone so anonymised ledger rows and events
-- still count in reports.
ALTER TABLE customers ADD COLUMN erased_at timestamptz;
