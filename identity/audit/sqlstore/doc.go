// Package sqlstore implements audit.Store with gorm on PostgreSQL and
// SQLite (schema: migrations/*/00005_audit.sql).
//
// Appends are serialised on the one-row audit_head table: each runs in a
// transaction that reads the head (SELECT ... FOR UPDATE on PostgreSQL,
// where several Gatehouse instances may append at once; SQLite transactions
// are opened IMMEDIATE by migrations.Open and so already hold the single
// write lock), calls audit.Seal to chain the entry, inserts it and moves the
// head. Prune takes the same lock, records a checkpoint and deletes a prefix
// of the chain in one transaction. The hash itself is defined only in
// package audit.
package sqlstore
