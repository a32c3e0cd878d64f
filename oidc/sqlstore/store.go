package sqlstore

import (
	"context"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dbtime"
	"gatehouse/migrations/dbtx"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
)

// Store implements the oidc package's storage interfaces over gorm.
type Store struct {
	db *gorm.DB
	// Clients resolves client IDs when stored requests are read back;
	// the provider passes its cached lookup.
	Clients oidc.ClientLookup
	// InactiveRefreshRetention is how long the row of a rotated or
	// revoked refresh token is kept: while it is, presenting the token
	// again revokes its grant (reuse detection); afterwards the token is
	// merely unknown. Zero means DefaultInactiveRefreshRetention.
	InactiveRefreshRetention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var (
	_ oidc.TokenStore       = (*Store)(nil)
	_ oidc.ClientStore      = (*Store)(nil)
	_ authflow.FlowStore    = (*Store)(nil)
	_ oidc.SessionStore     = (*Store)(nil)
	_ authflow.ConsentStore = (*Store)(nil)
	_ oidc.KeyStore         = (*Store)(nil)
)

// New returns a Store over db. Set Clients before serving token requests.
func New(db *gorm.DB) *Store {
	if _, err := db.DB(); err != nil {
		// gorm.Open always yields a *sql.DB pool; only a hand-made gorm.DB
		// without one gets here.
		panic("sqlstore: gorm DB without a connection pool: " + err.Error())
	}
	return &Store{db: db}
}

// Options are the settings of a Store (see its fields of the same names).
type Options struct {
	Clients                  oidc.ClientLookup
	InactiveRefreshRetention time.Duration
	Now                      func() time.Time
}

// NewWith returns a Store over db with opts.
func NewWith(db *gorm.DB, opts Options) *Store {
	s := New(db)
	s.Clients, s.InactiveRefreshRetention, s.Now = opts.Clients, opts.InactiveRefreshRetention, opts.Now
	return s
}

// conn returns the transaction carried by ctx (dbtx), or the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB { return dbtx.DB(ctx, s.db) }

// BeginTX implements storage.Transactional: the transaction is dbtx's, so
// every store (the audit trail's and the message queue's included) joins
// it through the returned context.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	return dbtx.Begin(ctx, s.db)
}

// Commit implements storage.Transactional.
func (s *Store) Commit(ctx context.Context) error { return dbtx.Commit(ctx) }

// Rollback implements storage.Transactional.
func (s *Store) Rollback(ctx context.Context) error { return dbtx.Rollback(ctx) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// endRefresh is the SET clause that makes refresh-token rows inactive and
// brings their expiry forward to the end of the reuse-detection window,
// with its two arguments: the rows then go with the ordinary purge.
func (s *Store) endRefresh() (string, []any) {
	keep := s.InactiveRefreshRetention
	if keep <= 0 {
		keep = DefaultInactiveRefreshRetention
	}
	until := dbtime.New(s.now().Add(keep))
	return `active = ?, expires_at = CASE WHEN expires_at > ? THEN ? ELSE expires_at END`, []any{false, until, until}
}

// inTx runs fn in a transaction, joining the one in ctx if any.
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return dbtx.New(s.db).Run(ctx, func(ctx context.Context) error { return fn(dbtx.DB(ctx, s.db)) })
}
