package ratelimit

import (
	"context"
	"time"
)

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is, for a denied request, the real wait until the same
	// request would be allowed; zero when allowed.
	RetryAfter time.Duration
}

// Limiter decides whether the request identified by key may go ahead under
// rule r, and counts it when it may. A key must belong to one rule only:
// the same key under two rules shares one state.
type Limiter interface {
	// Allow counts a request for key under r. An error means the limiter
	// could not decide (Redis unreachable); the Decision is then zero.
	Allow(ctx context.Context, key string, r Rule) (Decision, error)
}

// gcra applies the generic cell rate algorithm to one key whose
// theoretical arrival time is tat (zero or past: idle). It returns the
// decision and, when allowed, the new TAT to store.
func gcra(now, tat time.Time, r Rule) (Decision, time.Time) {
	t := r.interval()
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(t)
	// The request passes if, after it, the bucket holds at most a window.
	if allowAt := next.Add(-r.Window); now.Before(allowAt) {
		return Decision{RetryAfter: allowAt.Sub(now)}, tat
	}
	used := next.Sub(now)
	return Decision{Allowed: true, Remaining: int((r.Window - used) / t)}, next
}
