-- Indexes for the administrators' user search; see
-- postgres/00019_user_search.sql. SQLite has no trigram index, so the
-- substring search scans; the sort keys and e-mail prefix get btrees
-- (created_at already has one, 00001_identity.sql).

-- +goose Up
CREATE INDEX users_last_login_idx ON users (last_login_at, id);
CREATE INDEX users_username_sort_idx ON users (username_lower, id);
CREATE INDEX users_email_sort_idx ON users (email_lower, id);
CREATE INDEX users_status_created_idx ON users (status, created_at, id);

-- +goose Down
DROP INDEX users_status_created_idx;
DROP INDEX users_email_sort_idx;
DROP INDEX users_username_sort_idx;
DROP INDEX users_last_login_idx;
