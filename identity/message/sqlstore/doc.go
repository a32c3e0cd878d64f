// Package sqlstore keeps the outbound message queue (package message) in
// the outbound_messages table of PostgreSQL or SQLite. The claim is one
// atomic UPDATE … RETURNING; on PostgreSQL its subquery takes the row
// FOR UPDATE SKIP LOCKED, so several instances can share one database and
// never claim the same row, and SQLite's single writer gives the same
// guarantee. Times are the shared column type of migrations/dbtime:
// fixed-width UTC text on SQLite, so that text order is time order.
package sqlstore
