-- journey_starts holds the runs events will start once the run has work to
-- do: a journey whose first step is days after its trigger (the cross-sell
-- emails three days after a purchase) is not created in Temporal while the
-- event is ingested, but recorded here, in the transaction that marks the
-- event routed, and started when due. One row per journey and customer: a
-- second trigger before the start is the pending run's goal, which the run
-- finds among the stored events.
CREATE TABLE journey_starts (
    journey     text NOT NULL CHECK (journey <> ''),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    event_id    text NOT NULL CHECK (event_id <> ''),
    event_type  text NOT NULL,
    occurred_at timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    PRIMARY KEY (journey, customer_id)
);

CREATE INDEX journey_starts_due ON journey_starts (due_at);
