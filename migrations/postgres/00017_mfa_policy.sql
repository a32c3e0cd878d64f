-- The multi-factor policy (package identity/mfa): remembered browsers and
-- the start of each user's enrolment grace period.
--
-- A remembered browser holds a random token in a cookie; the row keeps
-- only its SHA-256 (token_hash, unique), by which the row is found, so
-- the token is never compared byte by byte and a stolen table cannot be
-- replayed as cookies. A browser is accepted only for its own user and
-- before expires_at; forgetting one deletes its row. The janitor purges
-- expired rows.
--
-- mfa_enrolment_grace holds, per user, the first sign-in where the
-- configured policy required a second factor of them: the grace period
-- (mfa.grace_period) counts from there.

-- +goose Up
CREATE TABLE mfa_remembered_browsers (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   text        NOT NULL UNIQUE, -- hex SHA-256 of the cookie's token
    label        text        NOT NULL DEFAULT '', -- from the User-Agent: "Firefox on Linux"
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX mfa_remembered_browsers_user_idx ON mfa_remembered_browsers (user_id);
CREATE INDEX mfa_remembered_browsers_expires_idx ON mfa_remembered_browsers (expires_at);

CREATE TABLE mfa_enrolment_grace (
    user_id    uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE mfa_enrolment_grace;
DROP TABLE mfa_remembered_browsers;
