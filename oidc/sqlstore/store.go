package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"gatehouse/migrations/dberr"
	"gatehouse/oidc"
	"gatehouse/oidc/authflow"
)

// Store implements the oidc package's storage interfaces over gorm.
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
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
	sqlDB, err := db.DB()
	if err != nil {
		// gorm.Open always yields a *sql.DB pool; only a hand-made gorm.DB
		// without one gets here.
		panic("sqlstore: gorm DB without a connection pool: " + err.Error())
	}
	return &Store{db: db, sqlDB: sqlDB}
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

type txKey struct{}

// conn returns the transaction carried by ctx, or the pool.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.db.WithContext(ctx)
}

// BeginTX implements storage.Transactional.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, fmt.Errorf("sqlstore: begin: %w", dberr.Mark(tx.Error))
	}
	return context.WithValue(ctx, txKey{}, tx), nil
}

// Commit implements storage.Transactional.
func (s *Store) Commit(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return fmt.Errorf("sqlstore: commit without transaction")
	}
	return dberr.Mark(tx.Commit().Error)
}

// Rollback implements storage.Transactional.
func (s *Store) Rollback(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return fmt.Errorf("sqlstore: rollback without transaction")
	}
	return tx.Rollback().Error
}

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
	until := s.now().Add(keep).UTC()
	return `active = ?, expires_at = CASE WHEN expires_at > ? THEN ? ELSE expires_at END`, []any{false, until, until}
}

// inTx runs fn in a transaction, joining the one in ctx if any.
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(tx)
	}
	// gorm marks each statement's error, not those of BEGIN and COMMIT.
	return dberr.Mark(s.db.WithContext(ctx).Transaction(fn))
}
