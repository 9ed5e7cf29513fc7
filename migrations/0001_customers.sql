-- Customers, their consent, suppressions, events, the delivery ledger and survey answers.

CREATE TABLE customers (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    external_id       text NOT NULL UNIQUE,
    email             text,
    phone             text,
    first_name        text NOT NULL DEFAULT '',
    last_name         text NOT NULL DEFAULT '',
    locale            text NOT NULL DEFAULT 'en',
    time_zone         text NOT NULL DEFAULT 'UTC',
    birthday          date,
    -- month*100+day of the birthday, so the hourly birthday sweep finds today's
    -- birthdays through an index instead of scanning every customer.
    birthday_md       smallint GENERATED ALWAYS AS
                      ((extract(month FROM birthday) * 100 + extract(day FROM birthday))::smallint) STORED,
    country           text NOT NULL DEFAULT '',
    region            text NOT NULL DEFAULT '',
    city              text NOT NULL DEFAULT '',
    gender            text NOT NULL DEFAULT '',
    tags              text[] NOT NULL DEFAULT '{}',
    attributes        jsonb NOT NULL DEFAULT '{}',
    orders_count      integer NOT NULL DEFAULT 0,
    total_spent       numeric(14, 2) NOT NULL DEFAULT 0,
    first_purchase_at timestamptz,
    last_purchase_at  timestamptz,
    last_seen_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_external_id_nonempty CHECK (external_id <> '')
);

CREATE INDEX customers_birthday_md ON customers (birthday_md, id) WHERE birthday_md IS NOT NULL;
CREATE INDEX customers_last_purchase_at ON customers (last_purchase_at) WHERE last_purchase_at IS NOT NULL;
CREATE INDEX customers_email ON customers (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX customers_tags ON customers USING gin (tags);

-- consents holds the current state per (customer, channel, topic); consent_changes
-- keeps every change with who, how and when, because privacy law (PIPL, GDPR)
-- asks a company to prove consent, not only to hold it.
CREATE TABLE consents (
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
    topic       text NOT NULL CHECK (topic <> ''),
    status      text NOT NULL CHECK (status IN ('granted', 'denied')),
    source      text NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, channel, topic)
);

CREATE TABLE consent_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    topic       text NOT NULL,
    status      text NOT NULL,
    source      text NOT NULL DEFAULT '',
    actor       text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX consent_changes_customer ON consent_changes (customer_id, changed_at);

-- suppressions are addresses (not customers) that must never be messaged: a hard
-- bounce stays suppressed even if the address moves to another customer record.
CREATE TABLE suppressions (
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    address    text NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual', 'unsubscribe')),
    detail     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, address)
);

CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text NOT NULL UNIQUE CHECK (event_id <> ''),
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    type        text NOT NULL CHECK (type <> ''),
    properties  jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- routed_at is set once the event reached the journeys it concerns; rows
    -- still NULL form the outbox the worker drains.
    routed_at   timestamptz
);

CREATE INDEX events_customer_type_time ON events (customer_id, type, occurred_at);
CREATE INDEX events_unrouted ON events (id) WHERE routed_at IS NULL;

-- messages is the delivery ledger: one row per intended message, keyed by a
-- business idempotency key so a retry or a crash never sends twice.
CREATE TABLE messages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    idempotency_key     text NOT NULL UNIQUE CHECK (idempotency_key <> ''),
    customer_id         uuid REFERENCES customers (id) ON DELETE SET NULL,
    journey             text NOT NULL,
    step                text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('email', 'sms')),
    template            text NOT NULL,
    topic               text NOT NULL,
    locale              text NOT NULL DEFAULT '',
    recipient           text NOT NULL DEFAULT '',
    status              text NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    reason              text NOT NULL DEFAULT '',
    provider_message_id text NOT NULL DEFAULT '',
    segments            integer NOT NULL DEFAULT 0,
    attempts            integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);

-- Frequency caps count a customer's recent messages per channel.
CREATE INDEX messages_customer_channel_time ON messages (customer_id, channel, created_at);
CREATE INDEX messages_journey ON messages (journey, status);

CREATE TABLE survey_responses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    survey      text NOT NULL,
    score       integer NOT NULL,
    comment     text NOT NULL DEFAULT '',
    message_id  uuid REFERENCES messages (id) ON DELETE SET NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id)
);

CREATE INDEX survey_responses_customer ON survey_responses (customer_id, answered_at);
