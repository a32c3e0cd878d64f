-- Second factors (package identity/mfa): authenticator-app (TOTP) secrets
-- and, later, WebAuthn credentials, one row per factor; and recovery codes.
--
-- A TOTP secret is stored sealed with the master key (identity/seal), bound
-- to its row, never in the clear. last_step is the last accepted RFC 6238
-- time step: a code is accepted by one UPDATE ... WHERE last_step < ?, so
-- a code is used once even when two requests race. A factor counts only
-- once confirmed_at is set (TOTP: after a first valid code).
--
-- A WebAuthn credential keeps in columns what is looked up or compared in
-- SQL: credential_id (passwordless sign-in finds the credential by it,
-- unique) and sign_count (a counter regression is detected by a
-- conditional UPDATE); the rest (public key, transports, AAGUID, flags,
-- attestation) is read and written whole as one JSON document in
-- credential, whose shape can follow the WebAuthn library without a
-- migration.
--
-- Recovery codes keep only a keyed hash (HMAC-SHA256); one is used by
-- UPDATE ... WHERE used_at IS NULL. Regenerating replaces a user's set.

-- +goose Up
CREATE TABLE mfa_factors (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('totp', 'webauthn')),
    name          text        NOT NULL DEFAULT '',
    secret_sealed text        NOT NULL DEFAULT '', -- totp: seal.Box output
    last_step     bigint      NOT NULL DEFAULT 0,  -- totp: last accepted time step
    credential_id text        NOT NULL DEFAULT '', -- webauthn: base64url credential ID
    sign_count    bigint      NOT NULL DEFAULT 0,  -- webauthn: last signature counter
    credential    text        NOT NULL DEFAULT '', -- webauthn: JSON document
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,
    last_used_at  timestamptz,
    CHECK (kind <> 'totp' OR secret_sealed <> ''),
    CHECK (kind <> 'webauthn' OR credential_id <> '')
);
CREATE INDEX mfa_factors_user_idx ON mfa_factors (user_id);
CREATE UNIQUE INDEX mfa_factors_credential_idx ON mfa_factors (credential_id) WHERE credential_id <> '';

CREATE TABLE mfa_recovery_codes (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text        NOT NULL, -- hex HMAC of the code
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_factors;
