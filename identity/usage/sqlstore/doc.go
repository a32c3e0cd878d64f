// Package sqlstore keeps the usage aggregates (package identity/usage)
// with gorm on PostgreSQL and SQLite (schema:
// migrations/*/00020_usage.sql).
//
// Aggregate runs one transaction: it locks the one-row usage_cursor
// (SELECT ... FOR UPDATE on PostgreSQL; SQLite transactions are opened
// IMMEDIATE by migrations.Open and hold the single write lock), reads the
// audit entries after it, adds what usage.Tally makes of them to
// usage_counts, records first sign-ins of the day in usage_active_days
// (each first one adds to daily_active_users), adds the users to the
// day's sketch and moves the cursor. Entries are counted exactly once
// whatever the number of instances: a second worker waits for the lock
// and then reads after the moved cursor. Audit entries are committed in
// seq order (their appenders serialise on audit_head), so nothing
// committed later can appear behind the cursor.
package sqlstore
