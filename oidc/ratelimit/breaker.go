package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Breaker's zero fields.
const (
	DefaultBreakerTimeout   = 100 * time.Millisecond
	DefaultBreakerThreshold = 3
	DefaultBreakerCooldown  = 5 * time.Second
)

// ErrBreakerOpen is what Breaker.Do returns, without calling, while the
// shared store is being left alone.
var ErrBreakerOpen = errors.New("ratelimit: shared store unavailable, breaker open")

// breakerState is a circuit breaker's state.
type breakerState int

const (
	closed   breakerState = iota // calls go to the shared store
	open                         // calls are refused until the cool-down ends
	halfOpen                     // one probe is in flight; other calls are refused
)

// Breaker is a circuit breaker in front of the shared store (Redis) that
// the Failover limiter and the FailoverCounter use, so that a Redis that
// stops answering costs at most Threshold calls of Timeout each, not every
// request's wait:
//
//   - closed: each call gets Timeout; Threshold failures in a row open it.
//   - open: calls are refused at once (the caller uses its in-process
//     fallback) until Cooldown has passed.
//   - half-open: the first call after the cool-down is a probe; the calls
//     meanwhile are refused. A probe that succeeds closes the breaker, one
//     that fails opens it for another Cooldown.
//
// The start of the fallback and the recovery are each logged once;
// Fallback and Fallbacks feed the metrics. A call ended by its caller's context
// says nothing about the store and is not counted. Use it by pointer; the
// zero value is ready.
//
// sony/gobreaker does the same but reads the wall clock itself, so its
// cool-down could only be tested by sleeping; this one takes Now.
type Breaker struct {
	// Timeout bounds each call; zero means DefaultBreakerTimeout.
	Timeout time.Duration
	// Threshold is how many failures in a row open the breaker; zero
	// means DefaultBreakerThreshold.
	Threshold int
	// Cooldown is how long the breaker stays open before a probe; zero
	// means DefaultBreakerCooldown.
	Cooldown time.Duration
	// Logger gets the two log lines; nil logs nothing.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	state     breakerState
	failures  int // in a row, while closed
	openUntil time.Time
	since     time.Time // when the fallback started
	refused   int64     // calls refused during this fallback

	fallbacks atomic.Int64 // calls refused, ever
}

// Do runs call with a context bounded by Timeout, unless the breaker is
// open: then it returns ErrBreakerOpen without calling. Errors from call
// are returned as they are.
func (b *Breaker) Do(ctx context.Context, call func(ctx context.Context) error) error {
	if !b.admit() {
		b.fallbacks.Add(1)
		return ErrBreakerOpen
	}
	cctx, cancel := context.WithTimeout(ctx, b.timeout())
	err := call(cctx)
	cancel()
	// A caller that went away or ran out of time tells nothing about the
	// store; the breaker's own deadline does.
	b.record(ctx, err, err != nil && ctx.Err() != nil)
	return err
}

// Fallback reports whether calls are being refused (open or half-open).
func (b *Breaker) Fallback() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != closed
}

// Fallbacks returns how many calls the breaker has refused so far.
func (b *Breaker) Fallbacks() int64 { return b.fallbacks.Load() }

// admit decides whether a call may go to the store.
func (b *Breaker) admit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case closed:
		return true
	case open:
		if b.now().Before(b.openUntil) {
			b.refused++
			return false
		}
		b.state = halfOpen // this call is the probe
		return true
	default: // a probe is in flight
		b.refused++
		return false
	}
}

// record notes a call's outcome. An ignored outcome still ends a probe:
// the next call after it probes again.
func (b *Breaker) record(ctx context.Context, err error, ignore bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	switch {
	case ignore:
		if b.state == halfOpen {
			b.state = open // openUntil has passed: the next call probes
		}
	case err == nil:
		if b.state != closed {
			b.log().InfoContext(ctx, "rate limiter recovered: using shared limits again",
				"fallback_for", now.Sub(b.since).Round(time.Millisecond), "fallback_calls", b.refused)
		}
		b.state, b.failures = closed, 0
	case b.state == halfOpen:
		b.state, b.openUntil = open, now.Add(b.cooldown())
	default:
		b.failures++
		if b.state == closed && b.failures >= b.threshold() {
			b.state, b.openUntil, b.since, b.refused = open, now.Add(b.cooldown()), now, 0
			b.log().ErrorContext(ctx, "rate limiter degraded: shared limiter failed, using in-process limits",
				"error", err, "failures", b.failures, "retry_interval", b.cooldown())
		}
	}
}

func (b *Breaker) log() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Breaker) timeout() time.Duration {
	if b.Timeout > 0 {
		return b.Timeout
	}
	return DefaultBreakerTimeout
}

func (b *Breaker) threshold() int {
	if b.Threshold > 0 {
		return b.Threshold
	}
	return DefaultBreakerThreshold
}

func (b *Breaker) cooldown() time.Duration {
	if b.Cooldown > 0 {
		return b.Cooldown
	}
	return DefaultBreakerCooldown
}
