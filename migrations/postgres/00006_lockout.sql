-- Brute-force lockout per account (package identity, LockoutPolicy).
-- failed_logins counts consecutive failed sign-ins and lockouts the
-- lockouts since the last success; both are changed only by conditional
-- UPDATEs (failed_logins = failed_logins + 1 ... RETURNING), so concurrent
-- failures count exactly. A temporary lockout sets locked_until, a
-- permanent one locked_permanently. Unknown logins never touch the table.

-- +goose Up
ALTER TABLE users ADD COLUMN failed_logins      integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN lockouts           integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until       timestamptz;
ALTER TABLE users ADD COLUMN locked_permanently boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE users DROP COLUMN locked_permanently;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN lockouts;
ALTER TABLE users DROP COLUMN failed_logins;
