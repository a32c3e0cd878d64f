// Package sqlstore implements identity's store interfaces with gorm on
// PostgreSQL and SQLite.
//
// Row types (userRow) are separate from the domain types and converted at
// the edge, together with errors: gorm.ErrRecordNotFound becomes
// identity.ErrNotFound and a unique-index violation becomes
// identity.ErrUsernameTaken or identity.ErrEmailTaken, told apart by the
// index that fired. The schema itself belongs to package migrations
// (00001_identity.sql); nothing here creates or alters tables.
package sqlstore
