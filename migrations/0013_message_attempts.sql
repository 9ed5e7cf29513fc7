-- message_attempts keeps every hand-over of a message to its provider and
-- what the provider answered, for `tidings messages show`: the ledger row
-- holds only the latest reason, and an operator asking why a message went
-- out late needs each greylisting, timeout and refusal before it. Rows are
-- written by the statements that record the outcome on the ledger row, so
-- they cost no round trip of their own.
CREATE TABLE message_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- attempt is the ledger row's attempts count when this answer came.
    attempt     integer NOT NULL,
    -- outcome is sent, failed (refused for good), skipped (the retry found
    -- it must not send) or retry (a temporary failure: tried again later).
    outcome     text NOT NULL CHECK (outcome IN ('sent', 'failed', 'skipped', 'retry')),
    -- reply is the provider's answer to a failure (an SMTP reply, an API
    -- error); provider_message_id the ID it gave an accepted message.
    reply       text NOT NULL DEFAULT '',
    provider_message_id text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX message_attempts_message ON message_attempts (message_id, id);
