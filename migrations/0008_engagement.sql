-- Engagement: what comes back after a message left. Clicks and opens from
-- tracked links, bounces and complaints that relays report after accepting a
-- message, SMS delivery receipts, the suppression list's history, and the
-- content of each message as it went out, for the message log.

-- delivery is what the recipient's side reported after the provider accepted
-- the message (status stays 'sent': the send path did its part). It is set by
-- webhooks and DSNs: delivered, undelivered (an SMS the carrier could not
-- hand over), bounced (hard), soft_bounced, complained.
ALTER TABLE messages
    ADD COLUMN delivery        text NOT NULL DEFAULT ''
        CHECK (delivery IN ('', 'delivered', 'undelivered', 'failed', 'bounced', 'soft_bounced', 'complained')),
    ADD COLUMN delivery_detail text NOT NULL DEFAULT '',
    ADD COLUMN delivery_at     timestamptz;

-- Webhooks name a message by the provider's ID or its Message-ID, both kept
-- in provider_message_id.
CREATE INDEX messages_provider_message_id ON messages (provider_message_id) WHERE provider_message_id <> '';
-- The message log lists the newest messages first, keyset-paginated.
CREATE INDEX messages_created_at ON messages (created_at, id);

-- An inbound SMS (STOP) names the customer by phone number.
CREATE INDEX customers_phone ON customers (phone) WHERE phone IS NOT NULL;

-- Suppressions say where they came from (a webhook, the CLI, an import), and
-- every addition and removal is kept: removing an address is a decision
-- someone must be able to account for.
ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check;
ALTER TABLE suppressions
    ADD CONSTRAINT suppressions_reason_check
        CHECK (reason IN ('hard_bounce', 'soft_bounce', 'complaint', 'manual', 'unsubscribe')),
    ADD COLUMN source text NOT NULL DEFAULT '';

CREATE TABLE suppression_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL,
    address    text NOT NULL,
    action     text NOT NULL CHECK (action IN ('added', 'removed')),
    reason     text NOT NULL DEFAULT '',
    source     text NOT NULL DEFAULT '',
    actor      text NOT NULL DEFAULT '',
    detail     text NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX suppression_changes_address ON suppression_changes (channel, address, changed_at);

-- message_bounces keeps every bounce and complaint reported for a message;
-- soft bounces of an address are counted from it to suppress after N.
CREATE TABLE message_bounces (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    address     text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'delivered', 'undelivered', 'failed')),
    provider    text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX message_bounces_message ON message_bounces (message_id);
CREATE INDEX message_bounces_address ON message_bounces (channel, address, occurred_at) WHERE kind = 'soft';

-- webhook_receipts remembers every signed notification handled, by the
-- provider's own ID, so a replayed request changes nothing.
CREATE TABLE webhook_receipts (
    provider    text NOT NULL,
    receipt_id  text NOT NULL CHECK (receipt_id <> ''),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, receipt_id)
);

-- message_clicks holds one row per (message, link) and kind of visitor: a
-- person, or a machine (a link scanner fetching within seconds of delivery,
-- a privacy proxy). Later clicks only count.
CREATE TABLE message_clicks (
    message_id     uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    link           integer NOT NULL CHECK (link >= 0),
    url            text NOT NULL,
    machine        boolean NOT NULL,
    machine_reason text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    clicks         integer NOT NULL DEFAULT 1,
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    PRIMARY KEY (message_id, link, machine)
);

CREATE TABLE message_opens (
    message_id     uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    machine        boolean NOT NULL,
    machine_reason text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    opens          integer NOT NULL DEFAULT 1,
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    PRIMARY KEY (message_id, machine)
);

-- message_contents is each email as it went out (after link rewriting), for
-- `tidings messages show`: headers, subject and bodies, and the links it
-- carried, which the click redirect checks a token against. It is written
-- in batches beside the send, possibly a moment before the ledger row, so
-- it has no foreign key; erasure deletes a customer's contents.
CREATE TABLE message_contents (
    message_id uuid PRIMARY KEY,
    headers    jsonb NOT NULL DEFAULT '{}',
    subject    text NOT NULL DEFAULT '',
    html       text NOT NULL DEFAULT '',
    text       text NOT NULL DEFAULT '',
    sms        text NOT NULL DEFAULT '',
    links      text[] NOT NULL DEFAULT '{}',
    tracked    boolean NOT NULL DEFAULT false,
    stored_at  timestamptz NOT NULL DEFAULT now()
);
