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
	allow func(key string, r Rule) (Decision, error)
}

func (f *fakeLimiter) Allow(_ context.Context, key string, r Rule) (Decision, error) {
	f.calls++
	return f.allow(key, r)
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
		Logger:   slog.New(slog.NewTextHandler(&log, nil)),
		Now:      clock.Now,
	}
	rule := Rule{Limit: 3, Window: time.Hour}
	var got []bool
	for range 5 {
		d, err := f.Allow(t.Context(), "k", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		got = append(got, d.Allowed)
		clock.Advance(defaultRetryInterval + time.Second) // Redis is tried every time
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

func TestFailoverRecovers(t *testing.T) {
	clock := newFakeClock()
	var log bytes.Buffer
	down := true
	primary := &fakeLimiter{allow: func(string, Rule) (Decision, error) {
		if down {
			return Decision{}, errors.New("connection refused")
		}
		return Decision{Allowed: true, Remaining: 99}, nil
	}}
	f := &Failover{
		Primary:       primary,
		Fallback:      NewMemory(clock.Now),
		Logger:        slog.New(slog.NewTextHandler(&log, nil)),
		RetryInterval: 10 * time.Second,
		Now:           clock.Now,
	}
	rule := Rule{Limit: 100, Window: time.Minute}
	allow := func() Decision {
		t.Helper()
		d, err := f.Allow(t.Context(), "k", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return d
	}

	allow()
	allow() // within the retry interval: the primary is left alone
	if primary.calls != 1 {
		t.Errorf("primary called %d times during the retry interval, want 1", primary.calls)
	}
	down = false
	clock.Advance(11 * time.Second)
	if d := allow(); d.Remaining != 99 {
		t.Errorf("after recovery Allow() = %+v, want the primary's answer", d)
	}
	allow()
	down = true
	clock.Advance(time.Second)
	allow()

	if n := countLines(&log, "rate limiter degraded"); n != 2 {
		t.Errorf("logged degraded %d times, want 2 (two outages):\n%s", n, log.String())
	}
	if n := countLines(&log, "rate limiter recovered"); n != 1 {
		t.Errorf("logged recovered %d times, want 1:\n%s", n, log.String())
	}
}
