-- Sign-in codes by e-mail and SMS as second factors, and the user's
-- default method (package identity/mfa).
--
-- A factor of kind 'email' or 'sms' stores no address: it follows the
-- user's current verified address or number (users.email_verified,
-- users.phone_verified) and is offered only while that is verified. A
-- user turns each kind on once (the partial unique index). The codes
-- themselves are one-time tokens (one_time_tokens, 00003), keyed hashes
-- bound to the sign-in they were sent for.
--
-- is_default marks the factor whose kind the sign-in's challenge shows
-- first; setting it is one UPDATE over the user's rows, so at most one is
-- set.

-- +goose Up
ALTER TABLE mfa_factors DROP CONSTRAINT mfa_factors_kind_check;
ALTER TABLE mfa_factors ADD CONSTRAINT mfa_factors_kind_check
    CHECK (kind IN ('totp', 'webauthn', 'email', 'sms'));
ALTER TABLE mfa_factors ADD COLUMN is_default boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX mfa_factors_code_kind_idx ON mfa_factors (user_id, kind) WHERE kind IN ('email', 'sms');

-- +goose Down
DROP INDEX mfa_factors_code_kind_idx;
DELETE FROM mfa_factors WHERE kind IN ('email', 'sms');
ALTER TABLE mfa_factors DROP COLUMN is_default;
ALTER TABLE mfa_factors DROP CONSTRAINT mfa_factors_kind_check;
ALTER TABLE mfa_factors ADD CONSTRAINT mfa_factors_kind_check CHECK (kind IN ('totp', 'webauthn'));
