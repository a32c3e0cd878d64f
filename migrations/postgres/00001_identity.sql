-- Users of Gatehouse's own store (package identity). Username and e-mail are
-- kept as typed; their lower-case forms carry the case-insensitive
-- uniqueness so lookups stay plain index scans.

-- +goose Up
CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    username       text        NOT NULL,
    username_lower text        NOT NULL,
    email          text        NOT NULL DEFAULT '',
    email_lower    text        NOT NULL DEFAULT '',
    email_verified boolean     NOT NULL DEFAULT false,
    phone          text        NOT NULL DEFAULT '',
    phone_verified boolean     NOT NULL DEFAULT false,
    given_name     text        NOT NULL DEFAULT '',
    family_name    text        NOT NULL DEFAULT '',
    locale         text        NOT NULL DEFAULT '',
    zoneinfo       text        NOT NULL DEFAULT '',
    picture        text        NOT NULL DEFAULT '',
    roles          text        NOT NULL DEFAULT '[]', -- JSON array of strings
    password_hash  text        NOT NULL DEFAULT '',   -- argon2id PHC string; empty: no password
    status         text        NOT NULL DEFAULT 'active',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    last_login_at  timestamptz
);

-- The store tells the two conflicts apart by these index names.
CREATE UNIQUE INDEX users_username_lower_idx ON users (username_lower);
-- Accounts without an e-mail address do not collide with each other.
CREATE UNIQUE INDEX users_email_lower_idx ON users (email_lower) WHERE email_lower <> '';
CREATE INDEX users_created_at_idx ON users (created_at, id);

-- +goose Down
DROP TABLE users;
