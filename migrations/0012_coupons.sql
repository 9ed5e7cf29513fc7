-- coupons holds every code a message handed out, so a shop can check and
-- redeem it without knowing how it was made: codes Tidings derives for a
-- message (pool = '') and codes a shop imported into a named pool, which
-- stay unissued (message_id NULL) until a send draws one.
CREATE TABLE coupons (
    code             text PRIMARY KEY CHECK (code <> ''),
    pool             text NOT NULL DEFAULT '',
    -- value is what the code is worth as the shop wrote it ("10 EUR");
    -- discount_percent the percentage a journey promised (0 when none).
    value            text NOT NULL DEFAULT '',
    discount_percent integer NOT NULL DEFAULT 0 CHECK (discount_percent BETWEEN 0 AND 100),
    expires_at       timestamptz,
    -- Who got it and in which message: the ledger ID (derived from the
    -- message's idempotency key, so a retried send finds its own code) and
    -- the ledger's journey ("birthday", "campaign/spring-sale") and step.
    customer_id      uuid REFERENCES customers (id) ON DELETE CASCADE,
    message_id       uuid,
    journey          text NOT NULL DEFAULT '',
    step             text NOT NULL DEFAULT '',
    issued_at        timestamptz,
    redeemed_at      timestamptz,
    order_id         text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((message_id IS NULL) = (issued_at IS NULL)),
    CHECK ((redeemed_at IS NULL) = (order_id = ''))
);

-- A message draws at most one code from a pool, so a retry gets the same one.
CREATE UNIQUE INDEX coupons_pool_message ON coupons (pool, message_id) WHERE message_id IS NOT NULL;
-- The unissued codes of a pool, in import order, for draws.
CREATE INDEX coupons_pool_free ON coupons (pool, created_at, code) WHERE message_id IS NULL;
CREATE INDEX coupons_customer ON coupons (customer_id);
CREATE INDEX coupons_journey ON coupons (journey) WHERE redeemed_at IS NOT NULL;
