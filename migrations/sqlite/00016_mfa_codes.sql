-- Sign-in codes by e-mail and SMS as second factors, and the user's
-- default method: see postgres/00016_mfa_codes.sql.
--
-- SQLite cannot change a CHECK constraint, so the table is rebuilt with
-- the wider kind CHECK and the is_default column (0 or 1), keeping
-- 00015's counter_warning_at, and its indexes are made again. Nothing
-- references mfa_factors.

-- +goose Up
CREATE TABLE mfa_factors_new (
    id            text        NOT NULL PRIMARY KEY,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('totp', 'webauthn', 'email', 'sms')),
    name          text        NOT NULL DEFAULT '',
    secret_sealed text        NOT NULL DEFAULT '',
    last_step     integer     NOT NULL DEFAULT 0,
    credential_id text        NOT NULL DEFAULT '',
    sign_count    integer     NOT NULL DEFAULT 0,
    credential    text        NOT NULL DEFAULT '',
    created_at    datetime    NOT NULL,
    confirmed_at  datetime,
    last_used_at  datetime,
    counter_warning_at datetime,
    is_default    boolean     NOT NULL DEFAULT 0,
    CHECK (kind <> 'totp' OR secret_sealed <> ''),
    CHECK (kind <> 'webauthn' OR credential_id <> '')
);
INSERT INTO mfa_factors_new (id, user_id, kind, name, secret_sealed, last_step, credential_id, sign_count,
                             credential, created_at, confirmed_at, last_used_at, counter_warning_at)
SELECT id, user_id, kind, name, secret_sealed, last_step, credential_id, sign_count,
       credential, created_at, confirmed_at, last_used_at, counter_warning_at FROM mfa_factors;
DROP TABLE mfa_factors;
ALTER TABLE mfa_factors_new RENAME TO mfa_factors;
CREATE INDEX mfa_factors_user_idx ON mfa_factors (user_id);
CREATE UNIQUE INDEX mfa_factors_credential_idx ON mfa_factors (credential_id) WHERE credential_id <> '';
CREATE UNIQUE INDEX mfa_factors_code_kind_idx ON mfa_factors (user_id, kind) WHERE kind IN ('email', 'sms');

-- +goose Down
CREATE TABLE mfa_factors_old (
    id            text        NOT NULL PRIMARY KEY,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('totp', 'webauthn')),
    name          text        NOT NULL DEFAULT '',
    secret_sealed text        NOT NULL DEFAULT '',
    last_step     integer     NOT NULL DEFAULT 0,
    credential_id text        NOT NULL DEFAULT '',
    sign_count    integer     NOT NULL DEFAULT 0,
    credential    text        NOT NULL DEFAULT '',
    created_at    datetime    NOT NULL,
    confirmed_at  datetime,
    last_used_at  datetime,
    counter_warning_at datetime,
    CHECK (kind <> 'totp' OR secret_sealed <> ''),
    CHECK (kind <> 'webauthn' OR credential_id <> '')
);
INSERT INTO mfa_factors_old (id, user_id, kind, name, secret_sealed, last_step, credential_id, sign_count,
                             credential, created_at, confirmed_at, last_used_at, counter_warning_at)
SELECT id, user_id, kind, name, secret_sealed, last_step, credential_id, sign_count,
       credential, created_at, confirmed_at, last_used_at, counter_warning_at FROM mfa_factors WHERE kind IN ('totp', 'webauthn');
DROP TABLE mfa_factors;
ALTER TABLE mfa_factors_old RENAME TO mfa_factors;
CREATE INDEX mfa_factors_user_idx ON mfa_factors (user_id);
CREATE UNIQUE INDEX mfa_factors_credential_idx ON mfa_factors (credential_id) WHERE credential_id <> '';
