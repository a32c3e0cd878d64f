-- The OpenID Connect store's times move to the shared column type
-- (migrations/dbtime), as the other stores' did: fixed-width UTC text with
-- microseconds, "2006-01-02T15:04:05.000000Z", so that text order is time
-- order. Until now the SQLite driver wrote them in its own layout,
-- "2006-01-02 15:04:05.999999999+00:00" (fraction trimmed, possibly
-- absent; the offset always six characters). A row in the old layout
-- would compare wrongly with the new one on the same day (' ' sorts
-- before 'T'), so every such value is rewritten: the seconds by strftime
-- (which also turns any offset into UTC), the fraction copied and padded
-- or cut to six digits. Values already in the new layout, and NULLs, are
-- left alone.
--
-- PostgreSQL keeps timestamptz and needs nothing (postgres/00013).

-- +goose Up
UPDATE oauth_clients SET created_at =
        strftime('%Y-%m-%dT%H:%M:%S', created_at) || '.' ||
        substr(CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(created_at, 21, length(created_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE created_at LIKE '____-__-__ %';
UPDATE oauth_clients SET updated_at =
        strftime('%Y-%m-%dT%H:%M:%S', updated_at) || '.' ||
        substr(CASE WHEN substr(updated_at, 20, 1) = '.' THEN substr(updated_at, 21, length(updated_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE updated_at LIKE '____-__-__ %';
UPDATE oauth_requests SET requested_at =
        strftime('%Y-%m-%dT%H:%M:%S', requested_at) || '.' ||
        substr(CASE WHEN substr(requested_at, 20, 1) = '.' THEN substr(requested_at, 21, length(requested_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE requested_at LIKE '____-__-__ %';
UPDATE oauth_requests SET expires_at =
        strftime('%Y-%m-%dT%H:%M:%S', expires_at) || '.' ||
        substr(CASE WHEN substr(expires_at, 20, 1) = '.' THEN substr(expires_at, 21, length(expires_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE expires_at LIKE '____-__-__ %';
UPDATE oauth_jtis SET expires_at =
        strftime('%Y-%m-%dT%H:%M:%S', expires_at) || '.' ||
        substr(CASE WHEN substr(expires_at, 20, 1) = '.' THEN substr(expires_at, 21, length(expires_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE expires_at LIKE '____-__-__ %';
UPDATE login_flows SET expires_at =
        strftime('%Y-%m-%dT%H:%M:%S', expires_at) || '.' ||
        substr(CASE WHEN substr(expires_at, 20, 1) = '.' THEN substr(expires_at, 21, length(expires_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE expires_at LIKE '____-__-__ %';
UPDATE login_flows SET held_at =
        strftime('%Y-%m-%dT%H:%M:%S', held_at) || '.' ||
        substr(CASE WHEN substr(held_at, 20, 1) = '.' THEN substr(held_at, 21, length(held_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE held_at LIKE '____-__-__ %';
UPDATE browser_sessions SET auth_time =
        strftime('%Y-%m-%dT%H:%M:%S', auth_time) || '.' ||
        substr(CASE WHEN substr(auth_time, 20, 1) = '.' THEN substr(auth_time, 21, length(auth_time) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE auth_time LIKE '____-__-__ %';
UPDATE browser_sessions SET created_at =
        strftime('%Y-%m-%dT%H:%M:%S', created_at) || '.' ||
        substr(CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(created_at, 21, length(created_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE created_at LIKE '____-__-__ %';
UPDATE browser_sessions SET last_seen_at =
        strftime('%Y-%m-%dT%H:%M:%S', last_seen_at) || '.' ||
        substr(CASE WHEN substr(last_seen_at, 20, 1) = '.' THEN substr(last_seen_at, 21, length(last_seen_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE last_seen_at LIKE '____-__-__ %';
UPDATE browser_sessions SET expires_at =
        strftime('%Y-%m-%dT%H:%M:%S', expires_at) || '.' ||
        substr(CASE WHEN substr(expires_at, 20, 1) = '.' THEN substr(expires_at, 21, length(expires_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE expires_at LIKE '____-__-__ %';
UPDATE consents SET created_at =
        strftime('%Y-%m-%dT%H:%M:%S', created_at) || '.' ||
        substr(CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(created_at, 21, length(created_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE created_at LIKE '____-__-__ %';
UPDATE consents SET updated_at =
        strftime('%Y-%m-%dT%H:%M:%S', updated_at) || '.' ||
        substr(CASE WHEN substr(updated_at, 20, 1) = '.' THEN substr(updated_at, 21, length(updated_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE updated_at LIKE '____-__-__ %';
UPDATE signing_keys SET created_at =
        strftime('%Y-%m-%dT%H:%M:%S', created_at) || '.' ||
        substr(CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(created_at, 21, length(created_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE created_at LIKE '____-__-__ %';
UPDATE signing_keys SET activated_at =
        strftime('%Y-%m-%dT%H:%M:%S', activated_at) || '.' ||
        substr(CASE WHEN substr(activated_at, 20, 1) = '.' THEN substr(activated_at, 21, length(activated_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE activated_at LIKE '____-__-__ %';
UPDATE signing_keys SET retired_at =
        strftime('%Y-%m-%dT%H:%M:%S', retired_at) || '.' ||
        substr(CASE WHEN substr(retired_at, 20, 1) = '.' THEN substr(retired_at, 21, length(retired_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE retired_at LIKE '____-__-__ %';
UPDATE signing_keys SET expires_at =
        strftime('%Y-%m-%dT%H:%M:%S', expires_at) || '.' ||
        substr(CASE WHEN substr(expires_at, 20, 1) = '.' THEN substr(expires_at, 21, length(expires_at) - 26) ELSE '' END || '000000', 1, 6) || 'Z'
    WHERE expires_at LIKE '____-__-__ %';

-- +goose Down
-- The old code reads the new layout too; nothing to undo.
SELECT 1;
