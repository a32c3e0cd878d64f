package dbtx

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"gorm.io/gorm"

	"gatehouse/migrations/dberr"
)

// ErrOutsideTransaction is the error of a store called, while its
// goroutine runs a transaction on the same database, with a context that
// does not carry that transaction.
var ErrOutsideTransaction = errors.New("dbtx: store called outside the running transaction " +
	"(this goroutine holds a transaction on the database; pass the context Run gave fn)")

// errEnded is the error of a store called with the context of a
// transaction that has committed or rolled back.
var errEnded = errors.New("dbtx: store called with the context of a transaction that has ended")

// Transactor runs functions in one transaction on its database.
type Transactor struct {
	db *gorm.DB
}

// New returns a Transactor over db, the pool the stores were built on.
func New(db *gorm.DB) *Transactor { return &Transactor{db: db} }

// Run calls fn with a context carrying a transaction, and commits it when
// fn returns nil; it rolls back when fn returns an error or panics, and
// returns fn's error. When ctx already carries a transaction on the same
// database, fn joins it: the outermost Run decides.
func (t *Transactor) Run(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if tx := from(ctx); tx != nil && tx.key == poolOf(t.db) {
		if tx.ended.Load() {
			return errEnded
		}
		return fn(ctx)
	}
	ctx, err = Begin(ctx, t.db)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = Rollback(ctx) // fn's error, or its panic, is the one to report
		}
	}()
	if err := fn(ctx); err != nil {
		return err
	}
	done = true
	return Commit(ctx)
}

// tx is the transaction a context carries.
type tx struct {
	gdb   *gorm.DB
	key   gorm.ConnPool // the database: the pool every session of one Open shares
	owner uint64        // the goroutine that began it
	ended atomic.Bool   // committed or rolled back
}

type ctxKey struct{}

func from(ctx context.Context) *tx {
	t, _ := ctx.Value(ctxKey{}).(*tx)
	return t
}

// Begin starts a transaction on db and returns ctx carrying it. End it
// with Commit or Rollback on the returned context. Run is the usual way;
// Begin serves interfaces that split the three steps (fosite's
// storage.Transactional).
func Begin(ctx context.Context, db *gorm.DB) (context.Context, error) {
	if t := from(ctx); t != nil && t.key == poolOf(db) {
		return ctx, errors.New("dbtx: begin: ctx already carries a transaction on this database (Run joins it)")
	}
	if err := outside(ctx, db); err != nil {
		return ctx, err
	}
	g := db.WithContext(ctx).Begin()
	if g.Error != nil {
		return ctx, fmt.Errorf("dbtx: begin: %w", dberr.Mark(g.Error))
	}
	t := &tx{gdb: g, key: poolOf(db), owner: goroutineID()}
	holding.add(t.key, t.owner)
	return context.WithValue(ctx, ctxKey{}, t), nil
}

// Commit commits the transaction ctx carries.
func Commit(ctx context.Context) error {
	t, err := ending(ctx)
	if err != nil {
		return err
	}
	if err := t.gdb.Commit().Error; err != nil {
		return fmt.Errorf("dbtx: commit: %w", dberr.Mark(err))
	}
	return nil
}

// Rollback rolls back the transaction ctx carries.
func Rollback(ctx context.Context) error {
	t, err := ending(ctx)
	if err != nil {
		return err
	}
	return t.gdb.Rollback().Error
}

// ending marks ctx's transaction ended and returns it.
func ending(ctx context.Context) (*tx, error) {
	t := from(ctx)
	if t == nil {
		return nil, errors.New("dbtx: no transaction in the context")
	}
	if t.ended.Swap(true) {
		return nil, errEnded
	}
	holding.remove(t.key, t.owner)
	return t, nil
}

// DB returns the handle a store runs its statements on for ctx: the
// transaction ctx carries on db's database, or the pool. When the store
// must not run (ErrOutsideTransaction, or a transaction that ended), the
// handle carries the error and a connection pool that refuses every
// statement, so any gorm call on it fails with that error instead of
// waiting for a connection.
func DB(ctx context.Context, db *gorm.DB) *gorm.DB {
	g, err := handle(ctx, db)
	if err != nil {
		g = db.Session(&gorm.Session{Context: ctx, NewDB: true})
		g.Statement.ConnPool = refusing{err}
		_ = g.AddError(err)
	}
	return g
}

// Pool returns db for statements that must commit on their own, never
// inside a unit of work (the janitor's batches). It refuses with
// ErrOutsideTransaction when ctx carries a transaction on db or this
// goroutine holds one: on SQLite's one connection the pool would then
// wait for ever.
func Pool(ctx context.Context, db *gorm.DB) (*gorm.DB, error) {
	if t := from(ctx); t != nil && t.key == poolOf(db) {
		return nil, ErrOutsideTransaction
	}
	if err := outside(ctx, db); err != nil {
		return nil, err
	}
	return db.WithContext(ctx), nil
}

// Conn is DB for stores that run database/sql statements themselves: the
// transaction or the pool as a gorm.ConnPool, or the error.
func Conn(ctx context.Context, db *gorm.DB) (gorm.ConnPool, error) {
	g, err := handle(ctx, db)
	if err != nil {
		return nil, err
	}
	return g.Statement.ConnPool, nil
}

func handle(ctx context.Context, db *gorm.DB) (*gorm.DB, error) {
	if t := from(ctx); t != nil && t.key == poolOf(db) {
		if t.ended.Load() {
			return nil, errEnded
		}
		return t.gdb.WithContext(ctx), nil
	}
	if err := outside(ctx, db); err != nil {
		return nil, err
	}
	return db.WithContext(ctx), nil
}

// outside returns ErrOutsideTransaction when this goroutine holds a
// transaction on db that ctx does not carry.
func outside(ctx context.Context, db *gorm.DB) error {
	if holding.any() && holding.has(poolOf(db), goroutineID()) {
		return ErrOutsideTransaction
	}
	return nil
}

// poolOf identifies db's database: the connection pool gorm.Open made,
// which every session and transaction of it keeps in its Config (the
// Config itself is copied per session).
func poolOf(db *gorm.DB) gorm.ConnPool { return db.Config.ConnPool }
