package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

var _ Limiter = (*Failover)(nil)

// defaultRetryInterval is how long Failover leaves a failed primary alone.
const defaultRetryInterval = 5 * time.Second

// Failover asks Primary (Redis) and, when it fails, Fallback (in-process):
// limits stay on per instance instead of failing open. After a failure the
// primary is left alone for RetryInterval, so an unreachable Redis does not
// slow down every request. The switch to degraded and the recovery are
// each logged once. Use it by pointer; the zero state is ready.
type Failover struct {
	Primary  Limiter
	Fallback Limiter
	Logger   *slog.Logger
	// RetryInterval is how long to use Fallback before trying Primary
	// again; zero means five seconds.
	RetryInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	degraded bool
	retryAt  time.Time
}

// Allow implements Limiter.
func (f *Failover) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err // a bad rule says nothing about the primary
	}
	now := f.now()
	f.mu.Lock()
	skip := f.degraded && now.Before(f.retryAt)
	f.mu.Unlock()
	if !skip {
		d, err := f.Primary.Allow(ctx, key, r)
		f.record(ctx, now, err)
		if err == nil {
			return d, nil
		}
	}
	return f.Fallback.Allow(ctx, key, r)
}

// record notes the primary's health and logs a change of state once.
func (f *Failover) record(ctx context.Context, now time.Time, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err != nil && !f.degraded:
		f.degraded = true
		f.Logger.ErrorContext(ctx, "rate limiter degraded: shared limiter failed, using in-process limits",
			"error", err, "retry_interval", f.retryInterval())
	case err == nil && f.degraded:
		f.degraded = false
		f.Logger.InfoContext(ctx, "rate limiter recovered: using shared limits again")
	}
	if err != nil {
		f.retryAt = now.Add(f.retryInterval())
	}
}

func (f *Failover) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Failover) retryInterval() time.Duration {
	if f.RetryInterval > 0 {
		return f.RetryInterval
	}
	return defaultRetryInterval
}
