package identity

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/text/unicode/norm"
)

// HashParams are the argon2id cost parameters. Memory is in KiB.
type HashParams struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultHashParams follow the OWASP Password Storage Cheat Sheet's first
// argon2id configuration: m=19456 KiB (19 MiB), t=2, p=1.
var DefaultHashParams = HashParams{
	Memory:      19456,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// Hasher hashes and verifies passwords with argon2id, storing the result as
// a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$key) that carries its
// own parameters, so stronger parameters can be rolled out while old hashes
// still verify (Verify reports them for re-hashing).
//
// Passwords are normalised to Unicode NFC before hashing, as NIST SP
// 800-63B §5.1.1.2 asks, so the same passphrase typed on different systems
// verifies.
//
// Every hash and verification runs in the Hasher's Pool, so a flood of
// sign-ins waits for a worker or is refused with ErrBusy instead of
// starting argon2id computations without bound.
type Hasher struct {
	params argon2id.Params
	pool   *Pool
	// dummy is a hash of a fixed password under params, computed once on
	// first use, for VerifyDummy.
	dummy func() (string, error)
	// verifications counts the argon2id verifications done.
	verifications atomic.Uint64
	// verifyTime is the moving average of their durations.
	verifyTime movingAverage
}

// InitialVerifyTime is what VerifyTime reports before the first
// verification: about what DefaultHashParams cost on a server core.
const InitialVerifyTime = 50 * time.Millisecond

// movingAverage is an exponentially weighted moving average of durations,
// each new one weighing 1/8, safe for concurrent use. Its users pass the
// value it starts from: what they assume before the first measure.
type movingAverage struct {
	mu    sync.Mutex
	value time.Duration
	seen  bool
}

func (a *movingAverage) add(d, initial time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.seen {
		a.value, a.seen = initial, true
	}
	a.value += (d - a.value) / 8
}

func (a *movingAverage) get(initial time.Duration) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.seen {
		return initial
	}
	return a.value
}

// NewHasher returns a Hasher using p, whose zero fields take the value
// from DefaultHashParams, that hashes in pool; nil means a Pool with the
// defaults.
func NewHasher(p HashParams, pool *Pool) *Hasher {
	d := DefaultHashParams
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLength == 0 {
		p.SaltLength = d.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = d.KeyLength
	}
	if pool == nil {
		pool = NewPool(PoolConfig{})
	}
	h := &Hasher{pool: pool, params: argon2id.Params{
		Memory:      p.Memory,
		Iterations:  p.Iterations,
		Parallelism: p.Parallelism,
		SaltLength:  p.SaltLength,
		KeyLength:   p.KeyLength,
	}}
	h.dummy = sync.OnceValues(func() (string, error) {
		return h.hash("gatehouse dummy password for unknown users")
	})
	return h
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() HashParams {
	return HashParams{
		Memory:      h.params.Memory,
		Iterations:  h.params.Iterations,
		Parallelism: h.params.Parallelism,
		SaltLength:  h.params.SaltLength,
		KeyLength:   h.params.KeyLength,
	}
}

// Pool returns the pool the Hasher hashes in.
func (h *Hasher) Pool() *Pool { return h.pool }

// Hash returns the PHC string of password under a fresh random salt. It
// returns ErrBusy or ctx's error when it could not get a worker of the
// Pool (see Pool.Do).
func (h *Hasher) Hash(ctx context.Context, password string) (hash string, err error) {
	if perr := h.pool.Do(ctx, func() { hash, err = h.hash(password) }); perr != nil {
		return "", fmt.Errorf("identity: hash password: %w", perr)
	}
	return hash, err
}

// hash is Hash on the caller's goroutine, which holds a worker.
func (h *Hasher) hash(password string) (string, error) {
	hash, err := argon2id.CreateHash(norm.NFC.String(password), &h.params)
	if err != nil {
		return "", fmt.Errorf("identity: hash password: %w", err)
	}
	return hash, nil
}

// Verify reports whether password matches hash. The comparison of derived
// keys is constant-time (inside the argon2id library). needsRehash is true
// when the password matched but hash was made with parameters other than
// the Hasher's, so the caller should store a fresh Hash. err is ErrBusy or
// ctx's error when no worker of the Pool could be had (see Pool.Do), and
// otherwise non-nil only when hash is not an argon2id PHC string.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (ok, needsRehash bool, err error) {
	if perr := h.pool.Do(ctx, func() { ok, needsRehash, err = h.verify(password, hash) }); perr != nil {
		return false, false, fmt.Errorf("identity: verify password: %w", perr)
	}
	return ok, needsRehash, err
}

// verify is Verify on the caller's goroutine, which holds a worker.
func (h *Hasher) verify(password, hash string) (ok, needsRehash bool, err error) {
	start := time.Now()
	ok, params, err := argon2id.CheckHash(norm.NFC.String(password), hash)
	if err == nil {
		h.verifications.Add(1)
		h.verifyTime.add(time.Since(start), InitialVerifyTime)
	}
	if err != nil {
		return false, false, fmt.Errorf("identity: verify password: %w", err)
	}
	if !ok {
		return false, false, nil
	}
	return true, *params != h.params, nil
}

// VerifyDummy spends the same work as Verify against a hash made with the
// current parameters and discards the result. Authentication calls it when
// there is no hash to check (unknown user, no password set), so response
// time does not reveal which accounts exist. Like Verify, it returns
// ErrBusy or ctx's error when no worker could be had, and nil otherwise.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if err := h.pool.Do(ctx, func() { h.verifyDummy(password) }); err != nil {
		return fmt.Errorf("identity: verify password: %w", err)
	}
	return nil
}

// verifyDummy is VerifyDummy on the caller's goroutine, which holds a
// worker.
func (h *Hasher) verifyDummy(password string) {
	hash, err := h.dummy()
	if err != nil {
		return
	}
	_, _, _ = h.verify(password, hash)
}

// Verifications returns how many argon2id verifications the Hasher has
// done (Verify and VerifyDummy), for metrics.
func (h *Hasher) Verifications() uint64 { return h.verifications.Load() }

// VerifyTime returns the moving average of recent verification times
// (InitialVerifyTime before the first). An answer given without checking
// a password waits this long, so that its timing does not set it apart
// from one that checked.
func (h *Hasher) VerifyTime() time.Duration { return h.verifyTime.get(InitialVerifyTime) }
