package identity

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is the answer of a password operation that could not start
// within the Pool's queue timeout, or found its queue full: every worker
// was hashing. No password was checked; the caller should ask the person
// to try again in a moment (HTTP 503 with Retry-After).
var ErrBusy = errors.New("identity: too busy to check passwords, try again shortly")

// Defaults of PoolConfig.
const (
	// DefaultHashQueueTimeout is how long a password operation waits for
	// a worker before ErrBusy.
	DefaultHashQueueTimeout = 2 * time.Second
	// DefaultHashQueuePerWorker is how many operations may wait per
	// worker: at about 50 ms a hash, the whole queue starts well within
	// DefaultHashQueueTimeout.
	DefaultHashQueuePerWorker = 32
)

// PoolConfig sizes a Pool. Zero fields take the defaults.
type PoolConfig struct {
	// Workers is how many hashes may run at once; 0 means one per CPU
	// the process may use: runtime.GOMAXPROCS(0), which unlike
	// runtime.NumCPU follows a container's CPU limit. Each argon2id hash
	// holds HashParams.Memory while it runs, so Workers also bounds that
	// memory.
	Workers int
	// Queue is how many operations may wait for a worker; one more gets
	// ErrBusy at once. 0 means DefaultHashQueuePerWorker per worker.
	Queue int
	// Timeout is how long an operation may wait for a worker before
	// ErrBusy; 0 means DefaultHashQueueTimeout.
	Timeout time.Duration
}

// Pool runs password hashing and verification with bounded concurrency,
// so that a flood of sign-ins cannot start more argon2id computations, and
// hold more of their memory, than there are workers. An operation waits
// in a short queue for a worker; if none frees up within the timeout, or
// the queue is full, it gets ErrBusy at once, and if its context ends
// while it waits it gets the context's error. Either way its work is not
// done. Waiting operations get workers in arrival order.
type Pool struct {
	slots   chan struct{} // one token per running operation
	queue   int64
	timeout time.Duration

	waiting atomic.Int64
	queued  atomic.Uint64
	refused atomic.Uint64
	// onWait, when set (by tests), is called when a caller starts to wait.
	onWait func()
}

// NewPool returns a Pool sized by c.
func NewPool(c PoolConfig) *Pool {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Queue <= 0 {
		c.Queue = DefaultHashQueuePerWorker * c.Workers
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultHashQueueTimeout
	}
	return &Pool{slots: make(chan struct{}, c.Workers), queue: int64(c.Queue), timeout: c.Timeout}
}

// Do runs fn on a worker once one is free, and returns nil after fn
// returned. It returns ErrBusy, or ctx's error, without running fn when
// no worker became free in time or ctx ended first.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	release, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	fn()
	return nil
}

// acquire takes a worker for the caller, who must call release when done.
// Callers that hash more than once, or that must decide something between
// taking the worker and hashing, use it instead of Do.
func (p *Pool) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
		return p.release, nil
	default:
	}
	if p.waiting.Add(1) > p.queue {
		p.waiting.Add(-1)
		p.refused.Add(1)
		return nil, ErrBusy
	}
	defer p.waiting.Add(-1)
	p.queued.Add(1)
	if p.onWait != nil {
		p.onWait()
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		// Both may be ready at once, and select picks either.
		if err := ctx.Err(); err != nil {
			p.release()
			return nil, err
		}
		return p.release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		p.refused.Add(1)
		return nil, ErrBusy
	}
}

func (p *Pool) release() { <-p.slots }

// PoolStats is a Pool's state, for metrics.
type PoolStats struct {
	Workers int    // the most operations that run at once
	Running int    // operations running now
	Waiting int    // operations waiting for a worker
	Queued  uint64 // operations that had to wait for a worker so far
	Refused uint64 // operations refused with ErrBusy so far
}

// Stats returns the Pool's current state.
func (p *Pool) Stats() PoolStats {
	return PoolStats{
		Workers: cap(p.slots), Running: len(p.slots),
		Waiting: int(p.waiting.Load()), Queued: p.queued.Load(), Refused: p.refused.Load(),
	}
}
