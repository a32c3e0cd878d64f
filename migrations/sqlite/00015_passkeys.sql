-- Passkeys (WebAuthn, package identity/mfa).
--
-- counter_warning_at is set when a passkey's authenticator reported a
-- signature counter not above the stored one (WebAuthn §6.1.1: a sign that
-- the authenticator may have been cloned). The sign-in was refused; the
-- security page warns the user until they remove the passkey.
--
-- webauthn_ceremonies holds the challenge of each registration or
-- assertion begun, for five minutes. A ceremony is finished by deleting
-- its row: of two requests with one challenge only the one whose DELETE
-- removed the row goes on, so a challenge is used once. binding ties it
-- to what began it (a browser session, a sign-in flow, a browser): a
-- ceremony begun in one browser does not finish in another. session is
-- the WebAuthn library's session data as JSON.
--
-- Types mirror postgres/00015_passkeys.sql: uuid -> text, timestamptz -> datetime.

-- +goose Up
ALTER TABLE mfa_factors ADD COLUMN counter_warning_at datetime;

CREATE TABLE webauthn_ceremonies (
    id         text        NOT NULL PRIMARY KEY,
    binding    text        NOT NULL,
    purpose    text        NOT NULL CHECK (purpose IN ('register', 'second_factor', 'passwordless')),
    user_id    text        REFERENCES users (id) ON DELETE CASCADE,
    session    text        NOT NULL,
    expires_at datetime    NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_idx ON webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE webauthn_ceremonies;
ALTER TABLE mfa_factors DROP COLUMN counter_warning_at;
