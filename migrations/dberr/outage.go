package dberr

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Outage logs a database outage once when it starts and once when it
// ends, however many requests fail meanwhile. Report records a failure;
// Run watches the database during an outage to log its end.
type Outage struct {
	Logger *slog.Logger
	// Ping checks the database; Run calls it every Interval while the
	// database is down, each call bounded by Interval.
	Ping     func(ctx context.Context) error
	Interval time.Duration
	Now      func() time.Time

	mu       sync.Mutex
	since    time.Time // zero while the database answers
	failures int
	wake     chan struct{}
}

// Report records a request or job that failed because the database was
// unavailable; the first failure of an outage is logged with its error.
func (o *Outage) Report(ctx context.Context, err error) {
	o.mu.Lock()
	first := o.since.IsZero()
	if first {
		o.since = o.Now()
		o.failures = 0
		select {
		case o.wakeChan() <- struct{}{}:
		default:
		}
	}
	o.failures++
	o.mu.Unlock()
	if first {
		o.Logger.ErrorContext(ctx, "database unavailable: answering 503 until it is back", "error", err)
	}
}

// Down reports whether an outage is under way.
func (o *Outage) Down() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.since.IsZero()
}

func (o *Outage) wakeChan() chan struct{} {
	if o.wake == nil {
		o.wake = make(chan struct{}, 1)
	}
	return o.wake
}

// Run waits for outages and, during one, pings the database until it
// answers, then logs how long it was down. It returns when ctx ends.
func (o *Outage) Run(ctx context.Context) {
	o.mu.Lock()
	wake := o.wakeChan()
	o.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		if !o.watch(ctx) {
			return
		}
	}
}

// watch pings until the database answers (true) or ctx ends (false).
func (o *Outage) watch(ctx context.Context) bool {
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, o.Interval)
		err := o.Ping(pctx)
		cancel()
		if err != nil {
			continue
		}
		o.mu.Lock()
		down, failures := o.Now().Sub(o.since), o.failures
		o.since = time.Time{}
		o.mu.Unlock()
		o.Logger.InfoContext(ctx, "database available again", "down_for", down.Round(time.Millisecond).String(), "failed_requests", failures)
		return true
	}
}
