-- Custom roles (package identity/access): named sets of admin
-- permissions that administrators create. The built-in roles user,
-- manager and admin are defined in code, never stored here, and their
-- names are refused by the application.
--
-- A user's roles stay where they were, a JSON array of names in
-- users.roles; a role is granted by name, so a custom role that some
-- user still holds is not deleted (the application refuses it).
-- permissions is a JSON array of permission names ("users:read", ...).
--
-- Types mirror postgres/00018_roles.sql: timestamptz -> datetime.

-- +goose Up
CREATE TABLE roles (
    name        text        NOT NULL PRIMARY KEY, -- [a-z][a-z0-9_-]{0,63}
    description text        NOT NULL DEFAULT '',
    permissions text        NOT NULL DEFAULT '[]',
    created_at  datetime    NOT NULL
);

-- +goose Down
DROP TABLE roles;
