// Package dbtx is the unit of work across Gatehouse's gorm stores: one
// database transaction carried by the context, which every store joins.
//
// A service that must change several things together (a password reset
// with its revoked sessions, its audit entry and its queued e-mail) runs
// them in Transactor.Run. Run begins a transaction and hands fn a context
// carrying it; every store turns its context into a handle with DB (or
// Conn for database/sql statements), which is the transaction when the
// context carries one for the same database and the pool otherwise. So a
// store needs no transaction parameter, services need no gorm, and the
// writes commit together when fn returns nil, or not at all.
//
// Callers depend on a one-method interface of their own
// (identity.Transactor, oidc.Transactor) that *Transactor satisfies.
//
// A store called while this goroutine runs a transaction on the same
// database, but with a context that does not carry it (the outer request
// context captured by a closure, context.Background()), fails at once with
// ErrOutsideTransaction. On SQLite, whose pool has one connection, such a
// call would otherwise wait for the connection the transaction holds, for
// ever; on PostgreSQL it would silently commit on its own. Other
// goroutines are not affected: their calls wait for, or run beside, the
// transaction as usual.
package dbtx
