package ratelimit

import (
	"context"
)

var _ Limiter = (*Failover)(nil)

// Failover asks Primary (Redis) through Breaker and, when the call fails
// or the breaker is open, Fallback (in-process): limits stay on per
// instance instead of failing open, and a Redis that does not answer
// costs a few short timeouts, not every request's wait. Use it by
// pointer. Breaker is required; it may be shared with a FailoverCounter of
// the same Redis.
type Failover struct {
	Primary  Limiter
	Fallback Limiter
	Breaker  *Breaker
}

// Allow implements Limiter.
func (f *Failover) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err // a bad rule says nothing about the primary
	}
	var d Decision
	err := f.Breaker.Do(ctx, func(ctx context.Context) error {
		var err error
		d, err = f.Primary.Allow(ctx, key, r)
		return err
	})
	if err == nil {
		return d, nil
	}
	return f.Fallback.Allow(ctx, key, r)
}
