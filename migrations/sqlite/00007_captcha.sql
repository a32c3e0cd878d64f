-- Spent proof-of-work CAPTCHA challenges (package oidc/captcha/sqlstore).
-- A solution is accepted once: verifying it inserts its challenge hash, and
-- a second insert of the same hash does nothing, which tells a replay apart
-- in one atomic statement. Rows are only needed until the challenge expires
-- (after that the signature check rejects it anyway) and are purged then.
--
-- Types mirror postgres/00007_captcha.sql: timestamptz -> datetime, written
-- as fixed-width UTC text so that text order is time order.

-- +goose Up
CREATE TABLE captcha_spent_challenges (
    challenge  text     NOT NULL PRIMARY KEY,  -- hex SHA-256(salt + number)
    expires_at datetime NOT NULL
);
CREATE INDEX captcha_spent_challenges_expires ON captcha_spent_challenges (expires_at);

-- +goose Down
DROP TABLE captcha_spent_challenges;
