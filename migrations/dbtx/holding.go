package dbtx

import (
	"bytes"
	"context"
	"database/sql"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// holders records which goroutines hold a transaction on which database,
// so that a store called outside the transaction its own goroutine runs
// can be refused (see ErrOutsideTransaction). Goroutines are the unit
// because a context cannot tell which transaction its caller is inside
// of; the bookkeeping is skipped while no transaction runs at all.
type holders struct {
	count atomic.Int64
	mu    sync.Mutex
	by    map[holder]int
}

type holder struct {
	db gorm.ConnPool
	g  uint64
}

var holding holders

func (h *holders) any() bool { return h.count.Load() > 0 }

func (h *holders) add(db gorm.ConnPool, g uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.by == nil {
		h.by = map[holder]int{}
	}
	h.by[holder{db, g}]++
	h.count.Add(1)
}

func (h *holders) remove(db gorm.ConnPool, g uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := holder{db, g}
	if h.by[k]--; h.by[k] <= 0 {
		delete(h.by, k)
	}
	h.count.Add(-1)
}

func (h *holders) has(db gorm.ConnPool, g uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.by[holder{db, g}] > 0
}

// goroutineID is the current goroutine's number, read from the first
// line of its stack trace ("goroutine 42 [running]:"). The runtime does
// not export it; this is the stable way to read it.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// refusing is the connection pool of a handle that must not run: every
// statement fails with err at once.
type refusing struct{ err error }

func (r refusing) PrepareContext(context.Context, string) (*sql.Stmt, error) { return nil, r.err }
func (r refusing) ExecContext(context.Context, string, ...any) (sql.Result, error) {
	return nil, r.err
}
func (r refusing) QueryContext(context.Context, string, ...any) (*sql.Rows, error) {
	return nil, r.err
}

// QueryRowContext cannot return an error of its own: *sql.Row has no
// public constructor. gorm does not reach it on a handle whose Error is
// set, and Conn returns the error instead of the pool.
func (r refusing) QueryRowContext(context.Context, string, ...any) *sql.Row { return nil }

// BeginTx keeps gorm's Transaction, which begins without looking at the
// handle's Error, from waiting for a connection.
func (r refusing) BeginTx(context.Context, *sql.TxOptions) (gorm.ConnPool, error) { return nil, r.err }
