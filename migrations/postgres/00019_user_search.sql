-- Indexes for the administrators' user search (identity.UserSearcher,
-- identity/sqlstore/usersearch.go), so it stays fast at a million users.
--
-- The substring search Q runs over one expression, the lowercased
-- username, e-mail address, given and family name and phone joined by
-- newlines (which a search may not contain, so no match spans two
-- fields); users_search_trgm_idx is a trigram index over exactly that
-- expression, which the query repeats verbatim so the planner uses it.
-- pg_trgm must be created by a role allowed to (a superuser, or the
-- database owner where the extension is trusted).
--
-- The role filter asks roles::jsonb @> '["role"]'; roles stays a text
-- column holding a JSON array.
--
-- Each sort key gets a btree with id, the tie-breaker of keyset
-- pagination; created_at already has one (00001_identity.sql).
-- users_email_prefix_idx serves e-mail prefix searches whatever the
-- database's collation.

-- +goose Up
-- The operator class is named with the schema the extension lives in,
-- which need not be on this connection's search_path (it was created
-- earlier, or by another schema's migration in the same database).
-- +goose StatementBegin
DO $$
DECLARE
    trgm_schema name;
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE format($sql$CREATE INDEX users_search_trgm_idx ON users USING gin (
        (username_lower || E'\n' || email_lower || E'\n' || lower(given_name) || E'\n' || lower(family_name) || E'\n' || phone)
        %I.gin_trgm_ops)$sql$, trgm_schema);
END
$$;
-- +goose StatementEnd
CREATE INDEX users_roles_idx ON users USING gin ((roles::jsonb) jsonb_path_ops);
CREATE INDEX users_last_login_idx ON users (last_login_at, id);
-- Never signed in sorts last in both directions: descending needs its own.
CREATE INDEX users_last_login_desc_idx ON users (last_login_at DESC NULLS LAST, id DESC);
CREATE INDEX users_username_sort_idx ON users (username_lower, id);
CREATE INDEX users_email_sort_idx ON users (email_lower, id);
CREATE INDEX users_email_prefix_idx ON users (email_lower text_pattern_ops);
CREATE INDEX users_status_created_idx ON users (status, created_at, id);

-- +goose Down
DROP INDEX users_status_created_idx;
DROP INDEX users_email_prefix_idx;
DROP INDEX users_email_sort_idx;
DROP INDEX users_username_sort_idx;
DROP INDEX users_last_login_desc_idx;
DROP INDEX users_last_login_idx;
DROP INDEX users_roles_idx;
DROP INDEX users_search_trgm_idx;
