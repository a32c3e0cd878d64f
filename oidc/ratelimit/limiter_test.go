package ratelimit

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a settable clock for tests.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// limiterEnv is one backend under test: the limiter, a way to let time
// pass for a key, and how far its RetryAfter may drift from the exact
// value (Redis reads a real clock).
type limiterEnv struct {
	l       Limiter
	advance func(key string, d time.Duration)
	tol     time.Duration
}

// runLimiterTests is the conformance suite that every Limiter runs.
func runLimiterTests(t *testing.T, newEnv func(t *testing.T) limiterEnv) {
	rule := Rule{Limit: 3, Window: time.Minute} // one every 20s after a burst of 3

	allow := func(t *testing.T, env limiterEnv, key string) Decision {
		t.Helper()
		d, err := env.l.Allow(t.Context(), key, rule)
		if err != nil {
			t.Fatalf("Allow(%q): %v", key, err)
		}
		return d
	}
	wantDenied := func(t *testing.T, env limiterEnv, got Decision, wait time.Duration) {
		t.Helper()
		if got.Allowed || got.Remaining != 0 {
			t.Fatalf("Allow() = %+v, want denied", got)
		}
		if got.RetryAfter > wait || got.RetryAfter < wait-env.tol {
			t.Errorf("RetryAfter = %v, want %v (tolerance %v)", got.RetryAfter, wait, env.tol)
		}
	}

	t.Run("burst then limit", func(t *testing.T) {
		env := newEnv(t)
		var got []Decision
		for range 3 {
			got = append(got, allow(t, env, "k"))
		}
		want := []Decision{{Allowed: true, Remaining: 2}, {Allowed: true, Remaining: 1}, {Allowed: true, Remaining: 0}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("first three Allow mismatch (-want +got):\n%s", diff)
		}
		wantDenied(t, env, allow(t, env, "k"), 20*time.Second)
		// A denied request does not count: the wait does not grow.
		wantDenied(t, env, allow(t, env, "k"), 20*time.Second)
	})

	t.Run("window recovery", func(t *testing.T) {
		env := newEnv(t)
		for range 3 {
			allow(t, env, "k")
		}
		env.advance("k", 20*time.Second)
		if d := allow(t, env, "k"); !d.Allowed {
			t.Fatalf("after 20s: Allow() = %+v, want allowed", d)
		}
		wantDenied(t, env, allow(t, env, "k"), 20*time.Second)
		env.advance("k", time.Minute)
		for i := range 3 {
			if d := allow(t, env, "k"); !d.Allowed {
				t.Fatalf("after a full window: request %d denied: %+v", i+1, d)
			}
		}
	})

	t.Run("retry after is the real wait", func(t *testing.T) {
		env := newEnv(t)
		for range 3 {
			allow(t, env, "k")
		}
		env.advance("k", 7*time.Second)
		d := allow(t, env, "k")
		wantDenied(t, env, d, 13*time.Second)
		margin := max(env.tol, time.Millisecond)
		env.advance("k", d.RetryAfter-margin)
		if d := allow(t, env, "k"); d.Allowed {
			t.Fatalf("%v before RetryAfter: Allow() = %+v, want denied", margin, d)
		}
		env.advance("k", margin)
		if d := allow(t, env, "k"); !d.Allowed {
			t.Fatalf("at RetryAfter: Allow() = %+v, want allowed", d)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		env := newEnv(t)
		for range 4 {
			allow(t, env, "a")
		}
		if d := allow(t, env, "b"); !d.Allowed || d.Remaining != 2 {
			t.Errorf("Allow(b) after a is limited = %+v, want allowed with 2 remaining", d)
		}
	})

	t.Run("invalid rule", func(t *testing.T) {
		env := newEnv(t)
		for _, r := range []Rule{{}, {Limit: 0, Window: time.Minute}, {Limit: 5, Window: 0}, {Limit: 10, Window: 5}} {
			if _, err := env.l.Allow(t.Context(), "k", r); err == nil {
				t.Errorf("Allow(rule %+v) = nil error, want one", r)
			}
		}
	})
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in      string
		want    Rule
		wantErr bool
	}{
		{in: "20/1m", want: Rule{Limit: 20, Window: time.Minute}},
		{in: "3/15m", want: Rule{Limit: 3, Window: 15 * time.Minute}},
		{in: "1200/1m", want: Rule{Limit: 1200, Window: time.Minute}},
		{in: " 5 / 1h30m ", want: Rule{Limit: 5, Window: 90 * time.Minute}},
		{in: "10/s", want: Rule{Limit: 10, Window: time.Second}},
		{in: "100/h", want: Rule{Limit: 100, Window: time.Hour}},
		{in: "1/0.5s", want: Rule{Limit: 1, Window: 500 * time.Millisecond}},
		{in: "", wantErr: true},
		{in: "20", wantErr: true},
		{in: "20/", wantErr: true},
		{in: "/1m", wantErr: true},
		{in: "0/1m", wantErr: true},
		{in: "-1/1m", wantErr: true},
		{in: "x/1m", wantErr: true},
		{in: "20/60", wantErr: true}, // no unit
		{in: "20/0s", wantErr: true},
		{in: "20/-1m", wantErr: true},
		{in: "20/1m/2", wantErr: true},
		{in: "10/5ns", wantErr: true}, // less than a nanosecond per request
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRule(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseRule(%q) error = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseRule(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	runLimiterTests(t, func(t *testing.T) limiterEnv {
		clock := newFakeClock()
		return limiterEnv{
			l:       NewMemory(clock.Now),
			advance: func(_ string, d time.Duration) { clock.Advance(d) },
		}
	})
}

func TestMemoryExpiresIdleKeys(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	rule := Rule{Limit: 5, Window: time.Minute}
	const n = 3 * minSweepSize
	for i := range n {
		if _, err := m.Allow(t.Context(), strconv.Itoa(i), rule); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Len(); got != n {
		t.Errorf("Len() = %d while every key is active, want %d", got, n)
	}
	clock.Advance(sweepEvery + time.Minute)
	if _, err := m.Allow(t.Context(), "fresh", rule); err != nil {
		t.Fatal(err)
	}
	if got := m.Len(); got != 1 {
		t.Errorf("Len() after every other key went idle = %d, want 1", got)
	}
}
