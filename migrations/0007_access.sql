-- People who sign in (users with a role), their browser sessions, scoped API
-- keys, failed sign-ins for rate limiting, and the audit log of every action
-- a person or key takes.

-- users sign in to the console and the API with an email and a password.
-- password_hash is an argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
-- carrying its own parameters, so they can be raised without a migration.
-- A disabled user keeps the row (the audit log names them) but cannot sign in.
CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email               text NOT NULL CHECK (email <> '' AND email = lower(email)),
    role                text NOT NULL CHECK (role IN ('viewer', 'marketer', 'ops', 'admin')),
    password_hash       text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    disabled_at         timestamptz,
    UNIQUE (email)
);

-- sessions are browser sign-ins. Only a SHA-256 hash of the cookie's token is
-- stored, so a copy of the table does not sign anyone in. csrf_token is the
-- value every state-changing request of the session must echo.
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   text NOT NULL UNIQUE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- idle_until moves forward with use; expires_at never does.
    idle_until   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- role scopes a key to one role's permissions. Keys created before roles
-- existed have none and keep full access until an operator scopes them.
ALTER TABLE api_keys ADD COLUMN role text CHECK (role IN ('viewer', 'marketer', 'ops', 'admin'));

-- login_failures counts recent failed sign-ins per account and per address,
-- in PostgreSQL so every API instance enforces the same limit.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     text NOT NULL,
    ip        text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_ip ON login_failures (ip, failed_at);

-- audit_log records who did what, when and from where: a user, an API key or
-- the command line (actor_kind), the action ("campaign.apply", "customer.erase"),
-- what it acted on (target) and the particulars (detail, never personal data
-- beyond the IDs needed to find the rows). Rows are only ever inserted.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'cli', 'system')),
    actor_id   text NOT NULL DEFAULT '',
    actor_name text NOT NULL DEFAULT '',
    ip         text NOT NULL DEFAULT '',
    action     text NOT NULL CHECK (action <> ''),
    target     text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id) WHERE target <> '';
CREATE INDEX audit_log_actor ON audit_log (actor_kind, actor_name, id);
