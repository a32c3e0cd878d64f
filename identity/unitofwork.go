package identity

import "context"

// Transactor runs fn in one database transaction, carried by the context
// it passes fn; every store called with that context joins it, so fn's
// writes commit together when it returns nil, or not at all.
// migrations/dbtx implements it.
type Transactor interface {
	Run(ctx context.Context, fn func(ctx context.Context) error) error
}

// inTx runs fn in one transaction through s.Tx, or as it comes without
// one (parts over stores that cannot share a transaction).
func (s *Core) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.Run(ctx, fn)
}
