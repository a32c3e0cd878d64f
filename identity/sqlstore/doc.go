// Package sqlstore implements identity's store interfaces with gorm on
// PostgreSQL and SQLite.
//
// Row types (userRow, tokenRow) are separate from the domain types and
// converted at the edge, together with errors: gorm.ErrRecordNotFound
// becomes identity.ErrNotFound and a unique-index violation becomes
// identity.ErrUsernameTaken or identity.ErrEmailTaken, told apart by the
// index that fired. Decisions about one-time tokens (replace within the
// cooldown, count an attempt, use) are single conditional statements
// (upsert with DO UPDATE ... WHERE, UPDATE ... WHERE ... RETURNING), atomic
// in both databases. The schema itself belongs to package migrations
// (00001_identity.sql, 00003_profile_tokens.sql); nothing here creates or
// alters tables.
package sqlstore
