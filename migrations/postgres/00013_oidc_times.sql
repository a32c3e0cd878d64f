-- The OpenID Connect store's times move to the shared column type
-- (migrations/dbtime). On PostgreSQL the columns are timestamptz already
-- and nothing changes; the SQLite migration of the same version rewrites
-- the driver's old text layout (sqlite/00013).

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
