package ratelimit

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"gatehouse/internal/proxytest"
)

// TestBreakerStalledRedis puts a loopback proxy between the limiter and
// the test Redis and stalls it: connections are accepted and nothing is
// answered, as with a Redis stopped by SIGSTOP. Three calls time out and
// open the breaker; from then on the limiter and the failure counter
// answer from memory, still limiting, without sending Redis a byte or
// opening a connection. Once Redis answers again, the first call after
// the cool-down probes it, closes the breaker and lands in Redis.
func TestBreakerStalledRedis(t *testing.T) {
	direct := mustRedis(t)
	prefix := mustPrefix(t, direct)
	opts, err := RedisOptions(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := proxytest.Start(t, opts.Addr, proxytest.Forward)
	opts.Addr = proxy.Addr()
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })

	clock := newFakeClock()
	var log bytes.Buffer
	b := &Breaker{Timeout: 50 * time.Millisecond, Threshold: 3, Cooldown: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&log, nil)), Now: clock.Now}
	limiter := &Failover{Primary: NewRedis(client, prefix), Fallback: NewMemory(clock.Now), Breaker: b}
	counter := &FailoverCounter{Primary: &RedisCounter{Client: client, Prefix: prefix + "lf:"},
		Fallback: &MemoryCounter{Now: clock.Now}, Breaker: b}
	rule := Rule{Limit: 5, Window: time.Hour}
	ctx := t.Context()
	inRedis := func(key string) bool {
		t.Helper()
		n, err := direct.Exists(ctx, key).Result()
		if err != nil {
			t.Fatalf("EXISTS %s: %v", key, err)
		}
		return n == 1
	}

	if _, err := limiter.Allow(ctx, "before", rule); err != nil || !inRedis(prefix+"before") {
		t.Fatalf("healthy Redis: Allow = %v, key in Redis %v; want it stored there", err, inRedis(prefix+"before"))
	}

	proxy.Set(proxytest.Stall)
	for i := 1; i <= 3; i++ {
		if _, err := limiter.Allow(ctx, "stalled", rule); err != nil {
			t.Fatalf("Allow while stalled: %v", err)
		}
		if got, want := b.Fallback(), i == 3; got != want {
			t.Fatalf("after %d timed-out calls the breaker is open: %v, want %v", i, got, want)
		}
	}
	sent, conns := proxy.Received(), proxy.Accepted()
	var allowed int
	for range 10 {
		d, err := limiter.Allow(ctx, "open", rule)
		if err != nil {
			t.Fatalf("Allow while open: %v", err)
		}
		if d.Allowed {
			allowed++
		}
		if err := counter.Add(ctx, "failures", time.Hour); err != nil {
			t.Fatalf("Add while open: %v", err)
		}
	}
	n, err := counter.Count(ctx, "failures", time.Hour)
	if err != nil || n != 10 {
		t.Errorf("Count while open = %d, %v; want 10 from memory", n, err)
	}
	if allowed != rule.Limit {
		t.Errorf("while open %d of 10 requests were allowed, want %d: the fallback must still limit", allowed, rule.Limit)
	}
	if d, c := proxy.Received()-sent, proxy.Accepted()-conns; d != 0 || c != 0 {
		t.Errorf("while open Redis got %d bytes on %d new connections; want none", d, c)
	}
	if got := b.Fallbacks(); got != 21 {
		t.Errorf("Fallbacks() = %d, want 21 (10 Allow, 10 Add, 1 Count)", got)
	}

	proxy.Set(proxytest.Forward)
	clock.Advance(5*time.Second + time.Millisecond)
	if _, err := limiter.Allow(ctx, "after", rule); err != nil {
		t.Fatalf("Allow after the cool-down: %v", err)
	}
	if b.Fallback() || !inRedis(prefix+"after") {
		t.Errorf("after the probe: fallback %v, key in Redis %v; want closed and stored in Redis", b.Fallback(), inRedis(prefix+"after"))
	}
	if err := counter.Add(ctx, "failures", time.Hour); err != nil || !inRedis(counter.Primary.(*RedisCounter).key("failures")) {
		t.Errorf("Add after recovery = %v; want it counted in Redis", err)
	}
	if got := b.Fallbacks(); got != 21 {
		t.Errorf("Fallbacks() after recovery = %d, want still 21", got)
	}
	if n := countLines(&log, "rate limiter degraded"); n != 1 {
		t.Errorf("logged degraded %d times, want once:\n%s", n, log.String())
	}
	if n := countLines(&log, "rate limiter recovered"); n != 1 {
		t.Errorf("logged recovered %d times, want once:\n%s", n, log.String())
	}
}
