-- Retention (cmd/gatehouse purge). A dynamically registered client
-- (registration_token_hash set) that no client authentication has used
-- for registration.unused_client_lifetime is deleted; last_used_at is
-- written at registration and then at most once a day, by a conditional
-- UPDATE, never per token request. Clients that exist already count as
-- used now. Browser sessions that idled out are found by
-- (idle_seconds, last_seen_at): one index range per distinct idle lifetime.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN last_used_at timestamptz;
UPDATE oauth_clients SET last_used_at = now();
ALTER TABLE oauth_clients ALTER COLUMN last_used_at SET NOT NULL;
CREATE INDEX oauth_clients_unused ON oauth_clients (last_used_at) WHERE registration_token_hash <> '';
CREATE INDEX browser_sessions_idle ON browser_sessions (idle_seconds, last_seen_at);

-- +goose Down
DROP INDEX browser_sessions_idle;
DROP INDEX oauth_clients_unused;
ALTER TABLE oauth_clients DROP COLUMN last_used_at;
