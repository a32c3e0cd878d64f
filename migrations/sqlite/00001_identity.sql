-- Users of Gatehouse's own store (package identity). Username and e-mail are
-- kept as typed; their lower-case forms carry the case-insensitive
-- uniqueness so lookups stay plain index scans.
--
-- Types mirror postgres/00001_identity.sql: uuid -> text, boolean stays
-- boolean (stored as 0/1), timestamptz -> datetime (the driver writes and
-- parses RFC 3339-like text; the store writes UTC only, so text order is
-- time order).

-- +goose Up
CREATE TABLE users (
    id             text     NOT NULL PRIMARY KEY,
    username       text     NOT NULL,
    username_lower text     NOT NULL,
    email          text     NOT NULL DEFAULT '',
    email_lower    text     NOT NULL DEFAULT '',
    email_verified boolean  NOT NULL DEFAULT 0,
    phone          text     NOT NULL DEFAULT '',
    phone_verified boolean  NOT NULL DEFAULT 0,
    given_name     text     NOT NULL DEFAULT '',
    family_name    text     NOT NULL DEFAULT '',
    locale         text     NOT NULL DEFAULT '',
    zoneinfo       text     NOT NULL DEFAULT '',
    picture        text     NOT NULL DEFAULT '',
    roles          text     NOT NULL DEFAULT '[]', -- JSON array of strings
    password_hash  text     NOT NULL DEFAULT '',   -- argon2id PHC string; empty: no password
    status         text     NOT NULL DEFAULT 'active',
    created_at     datetime NOT NULL,
    updated_at     datetime NOT NULL,
    last_login_at  datetime
);

-- The store tells the two conflicts apart by these index names (SQLite
-- reports the column, users.username_lower / users.email_lower).
CREATE UNIQUE INDEX users_username_lower_idx ON users (username_lower);
-- Accounts without an e-mail address do not collide with each other.
CREATE UNIQUE INDEX users_email_lower_idx ON users (email_lower) WHERE email_lower <> '';
CREATE INDEX users_created_at_idx ON users (created_at, id);

-- +goose Down
DROP TABLE users;
