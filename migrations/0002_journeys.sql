-- Journey bookkeeping that must outlive Temporal's retention: which customer
-- ran which journey when (the "once ever" and "once per N days" rules), and
-- the conversions journeys earned.

-- journey_runs has one row per run of a per-customer journey, claimed by the
-- run's first step. A claim is refused while another run of the same journey
-- for the same customer started inside the journey's window, so the rules hold
-- however many events or sweeps try to start the journey.
CREATE TABLE journey_runs (
    journey     text NOT NULL CHECK (journey <> ''),
    run_id      text NOT NULL CHECK (run_id <> ''),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    trigger     text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    -- outcome is how the run ended: converted, completed, no_response, answered, ...
    outcome     text NOT NULL DEFAULT '',
    PRIMARY KEY (journey, run_id)
);

-- The claim check and the win-back sweep's "none in the last 180 days" both
-- look up a customer's latest runs of one journey.
CREATE INDEX journey_runs_customer ON journey_runs (journey, customer_id, started_at DESC);

-- conversions records a journey reaching its goal: the step that preceded the
-- goal event gets the credit, and revenue is the order value when there is one.
CREATE TABLE conversions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journey      text NOT NULL CHECK (journey <> ''),
    run_id       text NOT NULL CHECK (run_id <> ''),
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    step         text NOT NULL DEFAULT '',
    event_id     text NOT NULL DEFAULT '',
    revenue      numeric(14, 2) NOT NULL DEFAULT 0,
    currency     text NOT NULL DEFAULT '',
    converted_at timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    -- A run converts at most once, so a retried activity records nothing twice.
    UNIQUE (journey, run_id)
);

CREATE INDEX conversions_journey_time ON conversions (journey, converted_at);
CREATE INDEX conversions_customer ON conversions (customer_id);
