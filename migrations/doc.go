// Package migrations owns the database schema: versioned SQL files for
// PostgreSQL and SQLite with the same version numbers, applied by goose.
//
// It also opens the database, because the dialect chosen by the URL decides
// both the gorm driver and which directory of migrations applies. Nothing
// else changes the schema: gorm's automatic schema migration is never used.
package migrations
