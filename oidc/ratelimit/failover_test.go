package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeLimiter is a Limiter whose answer a test sets.
type fakeLimiter struct {
	calls int
	allow func(ctx context.Context, key string, r Rule) (Decision, error)
}

func (f *fakeLimiter) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	f.calls++
	return f.allow(ctx, key, r)
}

func countLines(log *bytes.Buffer, msg string) int {
	return strings.Count(log.String(), msg)
}

// TestFailoverToMemory points the primary at a closed port: the fallback
// must still limit, and the outage is logged once however often Redis is
// retried.
func TestFailoverToMemory(t *testing.T) {
	clock := newFakeClock()
	var log bytes.Buffer
	f := &Failover{
		Primary:  NewRedis(closedRedis(t), "gatehouse-test:"),
		Fallback: NewMemory(clock.Now),
		Breaker:  &Breaker{Threshold: 1, Logger: slog.New(slog.NewTextHandler(&log, nil)), Now: clock.Now},
	}
	rule := Rule{Limit: 3, Window: time.Hour}
	var got []bool
	for range 5 {
		d, err := f.Allow(t.Context(), "k", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		got = append(got, d.Allowed)
		clock.Advance(DefaultBreakerCooldown + time.Second) // Redis is probed every time
	}
	if want := []bool{true, true, true, false, false}; !slices.Equal(got, want) {
		t.Errorf("Allowed per request = %v, want %v (fallback must still limit)", got, want)
	}
	if n := countLines(&log, "rate limiter degraded"); n != 1 {
		t.Errorf("logged degraded %d times, want once:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("degraded is not logged as an error:\n%s", log.String())
	}
}

// TestBreaker walks the breaker through an outage with a fake primary:
// it opens after Threshold failures in a row, leaves the primary alone
// while open, lets one probe through after the cool-down (refusing the
// calls made meanwhile), opens again when the probe fails and closes when
// one succeeds. Each change is logged once and shows in Fallback.
func TestBreaker(t *testing.T) {
	clock := newFakeClock()
	var log bytes.Buffer
	down := true
	b := &Breaker{Threshold: 3, Cooldown: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(&log, nil)), Now: clock.Now}
	var nested error // what a call made during the probe got
	primary := &fakeLimiter{allow: func(ctx context.Context, _ string, _ Rule) (Decision, error) {
		if b.state == halfOpen {
			nested = b.Do(ctx, func(context.Context) error { t.Error("a call went to the primary during the probe"); return nil })
		}
		if down {
			return Decision{}, errors.New("i/o timeout")
		}
		return Decision{Allowed: true, Remaining: 99}, nil
	}}
	f := &Failover{Primary: primary, Fallback: NewMemory(clock.Now), Breaker: b}
	rule := Rule{Limit: 100, Window: time.Minute}
	allow := func() Decision {
		t.Helper()
		d, err := f.Allow(t.Context(), "k", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return d
	}
	step := func(name string, wantCalls int, wantFallback bool) {
		t.Helper()
		if primary.calls != wantCalls || b.Fallback() != wantFallback {
			t.Errorf("%s: primary called %d times, fallback %v; want %d, %v", name, primary.calls, b.Fallback(), wantCalls, wantFallback)
		}
	}

	allow()
	allow()
	step("two failures", 2, false)
	allow()
	step("third failure", 3, true)
	for range 20 {
		allow()
	}
	clock.Advance(9 * time.Second)
	allow()
	step("open for the cool-down", 3, true)
	if got := b.Fallbacks(); got != 21 {
		t.Errorf("Fallbacks() = %d, want 21", got)
	}

	clock.Advance(2 * time.Second)
	allow() // the probe fails
	step("failed probe", 4, true)
	if !errors.Is(nested, ErrBreakerOpen) {
		t.Errorf("a call during the probe got %v, want ErrBreakerOpen", nested)
	}
	allow()
	step("open again after a failed probe", 4, true)

	down = false
	clock.Advance(11 * time.Second)
	if d := allow(); d.Remaining != 99 {
		t.Errorf("after recovery Allow() = %+v, want the primary's answer", d)
	}
	step("successful probe", 5, false)
	allow()
	step("closed", 6, false)

	if n := countLines(&log, "rate limiter degraded"); n != 1 {
		t.Errorf("logged degraded %d times, want once:\n%s", n, log.String())
	}
	if n := countLines(&log, "rate limiter recovered"); n != 1 {
		t.Errorf("logged recovered %d times, want once:\n%s", n, log.String())
	}
}

// TestBreakerIgnoresCallerContext: requests whose own context ended (the
// client went away) are not failures of the shared store.
func TestBreakerIgnoresCallerContext(t *testing.T) {
	b := &Breaker{Threshold: 1, Now: newFakeClock().Now}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 5 {
		err := b.Do(ctx, func(ctx context.Context) error { return ctx.Err() })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Do = %v, want the call's own error", err)
		}
	}
	if b.Fallback() {
		t.Error("cancelled callers opened the breaker")
	}
	err := b.Do(t.Context(), func(ctx context.Context) error {
		<-ctx.Done() // a store that does not answer: the breaker's deadline ends it
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || !b.Fallback() {
		t.Errorf("Do on a store that does not answer = %v, fallback %v; want DeadlineExceeded and open", err, b.Fallback())
	}
}
