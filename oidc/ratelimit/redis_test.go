package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultRedisURL is used when GATEHOUSE_TEST_REDIS_URL is unset.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

func redisURL() string {
	if u := os.Getenv("GATEHOUSE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return defaultRedisURL
}

// mustRedis returns a client of the test Redis, closed when the test
// ends. It skips the test with a visible message when Redis cannot be
// reached, and fails it under CI=true.
func mustRedis(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatalf("ratelimit: GATEHOUSE_TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ratelimit: Redis is required under CI=true but unreachable at %s: %v", opts.Addr, err)
		}
		t.Skipf("ratelimit: SKIPPING: Redis unreachable at %s (%v); set GATEHOUSE_TEST_REDIS_URL", opts.Addr, err)
	}
	return client
}

// mustPrefix returns a random key prefix and deletes its keys when the
// test ends, so parallel tests never share counters.
func mustPrefix(t testing.TB, client *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "gatehouse-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := client.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			client.Del(ctx, keys...)
		}
	})
	return prefix
}

// shiftTAT lets d pass for key by moving its stored TAT back, so tests
// need no sleeps though Redis reads its own clock.
func shiftTAT(t testing.TB, client *redis.Client, key string, d time.Duration) {
	t.Helper()
	if err := client.DecrBy(context.Background(), key, d.Microseconds()).Err(); err != nil {
		t.Fatalf("shift TAT of %s: %v", key, err)
	}
}

func TestRedis(t *testing.T) {
	client := mustRedis(t)
	runLimiterTests(t, func(t *testing.T) limiterEnv {
		prefix := mustPrefix(t, client)
		return limiterEnv{
			l:       NewRedis(client, prefix),
			advance: func(key string, d time.Duration) { shiftTAT(t, client, prefix+key, d) },
			tol:     500 * time.Millisecond,
		}
	})
}

// TestRedisSharedCounters checks that two instances (two clients, one
// prefix) apply one limit together.
func TestRedisSharedCounters(t *testing.T) {
	a := mustRedis(t)
	b := mustRedis(t)
	prefix := mustPrefix(t, a)
	la, lb := NewRedis(a, prefix), NewRedis(b, prefix)
	rule := Rule{Limit: 4, Window: time.Hour}
	var allowed int
	for i := range 10 {
		l := la
		if i%2 == 1 {
			l = lb
		}
		d, err := l.Allow(t.Context(), "shared", rule)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 4 {
		t.Errorf("two limiters allowed %d of 10 requests together, want 4", allowed)
	}
	ttl, err := a.PTTL(t.Context(), prefix+"shared").Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("PTTL of the key = %v, %v; want it to expire within the window", ttl, err)
	}
}

// closedRedis returns a client of a port where nothing listens.
func closedRedis(t testing.TB) *redis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { client.Close() })
	return client
}
