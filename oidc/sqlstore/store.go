package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
)

// The storage is one type per concern, each over the same *gorm.DB:
// Tokens (what fosite stores), Clients, Flows, BrowserSessions, Consents,
// SigningKeys, and Purge (the expiry of them all). They share no state
// but the database, the transaction a context carries, and Settings.

// Settings are what more than one part reads: the clock, and how long the
// row of an ended refresh token is kept (Tokens and BrowserSessions both
// end refresh tokens).
type Settings struct {
	// InactiveRefreshRetention is how long the row of a rotated or
	// revoked refresh token is kept: while it is, presenting the token
	// again revokes its grant (reuse detection); afterwards the token is
	// merely unknown. Zero means DefaultInactiveRefreshRetention.
	InactiveRefreshRetention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s Settings) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// endRefresh is the SET clause that makes refresh-token rows inactive and
// brings their expiry forward to the end of the reuse-detection window,
// with its two arguments: the rows then go with the ordinary purge.
func (s Settings) endRefresh() (string, []any) {
	keep := s.InactiveRefreshRetention
	if keep <= 0 {
		keep = DefaultInactiveRefreshRetention
	}
	until := dbtime.New(s.now().Add(keep))
	return `active = ?, expires_at = CASE WHEN expires_at > ? THEN ? ELSE expires_at END`, []any{false, until, until}
}

// mustPool panics unless db has a connection pool, which dbtx needs.
func mustPool(db *gorm.DB) *gorm.DB {
	if _, err := db.DB(); err != nil {
		// gorm.Open always yields a *sql.DB pool; only a hand-made gorm.DB
		// without one gets here.
		panic("sqlstore: gorm DB without a connection pool: " + err.Error())
	}
	return db
}

// inTx runs fn in a transaction, joining the one in ctx if any.
func inTx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return dbtx.New(db).Run(ctx, func(ctx context.Context) error { return fn(dbtx.DB(ctx, db)) })
}
