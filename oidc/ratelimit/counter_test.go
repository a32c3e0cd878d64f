package ratelimit

import (
	"context"
	"testing"
	"time"
)

func TestMemoryCounter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := &MemoryCounter{Now: func() time.Time { return now }}
	ctx := context.Background()
	for range 3 {
		if err := c.Add(ctx, "ip:1", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := c.Count(ctx, "ip:1", time.Minute); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	if n, _ := c.Count(ctx, "ip:2", time.Minute); n != 0 {
		t.Errorf("other key count = %d, want 0", n)
	}
	if n, _ := c.Count(ctx, "ip:1", time.Minute); n != 3 {
		t.Errorf("Count counted: %d", n)
	}
	now = now.Add(time.Minute)
	if n, _ := c.Count(ctx, "ip:1", time.Minute); n != 0 {
		t.Errorf("count after the window = %d, want 0", n)
	}
}

func TestRedisCounterSharedAndFailover(t *testing.T) {
	client := mustRedis(t)
	prefix := mustPrefix(t, client)
	a1, a2 := &RedisCounter{Client: client, Prefix: prefix}, &RedisCounter{Client: client, Prefix: prefix}
	ctx := context.Background()
	a1.Add(ctx, "acct:x", time.Minute)
	a2.Add(ctx, "acct:x", time.Minute)
	if n, err := a1.Count(ctx, "acct:x", time.Minute); err != nil || n != 2 {
		t.Errorf("shared count = %d, %v; want 2", n, err)
	}
	dead := closedRedis(t)
	mem := &MemoryCounter{Now: time.Now}
	f := &FailoverCounter{Primary: &RedisCounter{Client: dead, Prefix: prefix}, Fallback: mem}
	f.Add(ctx, "k", time.Minute)
	if n, err := f.Count(ctx, "k", time.Minute); err != nil || n != 1 {
		t.Errorf("failover count = %d, %v; want 1 from memory", n, err)
	}
}
