-- The rest of the OpenID Connect standard claims (Core §5.1) on users, and
-- one-time tokens (package identity): e-mail and phone verification codes
-- and links, e-mail change confirmations and password reset links.
--
-- A token row keeps only keyed hashes (HMAC-SHA256) of its code and link
-- token. A user holds at most one token per purpose: a new one replaces the
-- row, and a unique index makes that a single upsert. Codes are counted
-- (attempts) and used (used_at) by conditional UPDATEs, so concurrent
-- requests cannot use one token twice or exceed the attempt limit.

-- +goose Up
ALTER TABLE users ADD COLUMN middle_name            text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN nickname               text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN website                text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN gender                 text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN birthdate              text NOT NULL DEFAULT ''; -- YYYY-MM-DD, YYYY or 0000-MM-DD
ALTER TABLE users ADD COLUMN address_formatted      text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_street_address text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_locality       text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_region         text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_postal_code    text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN address_country        text NOT NULL DEFAULT '';

CREATE TABLE one_time_tokens (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,            -- verify_email, change_email, verify_phone, password_reset
    target     text        NOT NULL DEFAULT '', -- the address or number being proven
    code_hash  text        NOT NULL DEFAULT '', -- hex HMAC of the 6-digit code; empty: no code
    token_hash text        NOT NULL DEFAULT '', -- hex HMAC of the link token; empty: no link
    attempts   integer     NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX one_time_tokens_token_hash_idx ON one_time_tokens (token_hash) WHERE token_hash <> '';
CREATE UNIQUE INDEX one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);

-- +goose Down
DROP TABLE one_time_tokens;
ALTER TABLE users DROP COLUMN address_country;
ALTER TABLE users DROP COLUMN address_postal_code;
ALTER TABLE users DROP COLUMN address_region;
ALTER TABLE users DROP COLUMN address_locality;
ALTER TABLE users DROP COLUMN address_street_address;
ALTER TABLE users DROP COLUMN address_formatted;
ALTER TABLE users DROP COLUMN birthdate;
ALTER TABLE users DROP COLUMN gender;
ALTER TABLE users DROP COLUMN website;
ALTER TABLE users DROP COLUMN nickname;
ALTER TABLE users DROP COLUMN middle_name;
