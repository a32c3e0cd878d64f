-- Resource servers (package oidc, Client.ResourceServer). An administrator
-- marks a client as a resource server so that it may introspect access
-- tokens whose audience holds its client ID or one of resource_audience
-- (space-separated), not only tokens issued to itself (RFC 7662 §4).
-- Dynamic registration never sets either column.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN resource_server   boolean NOT NULL DEFAULT false;
ALTER TABLE oauth_clients ADD COLUMN resource_audience text    NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN resource_audience;
ALTER TABLE oauth_clients DROP COLUMN resource_server;
