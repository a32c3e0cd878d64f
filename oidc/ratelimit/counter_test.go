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
	f := &FailoverCounter{Primary: &RedisCounter{Client: dead, Prefix: prefix}, Fallback: mem, Breaker: &Breaker{}}
	f.Add(ctx, "k", time.Minute)
	if n, err := f.Count(ctx, "k", time.Minute); err != nil || n != 1 {
		t.Errorf("failover count = %d, %v; want 1 from memory", n, err)
	}
}

func TestCounterWindowLeft(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_000_000, 0)
	m := &MemoryCounter{Now: func() time.Time { return now }}
	if d, _ := m.WindowLeft(ctx, "k", time.Minute); d != 0 {
		t.Errorf("window left without events = %v, want 0", d)
	}
	m.Add(ctx, "k", time.Minute)
	now = now.Add(20 * time.Second)
	if d, _ := m.WindowLeft(ctx, "k", time.Minute); d != 40*time.Second {
		t.Errorf("memory window left = %v, want 40s", d)
	}

	client := mustRedis(t)
	r := &RedisCounter{Client: client, Prefix: mustPrefix(t, client)}
	r.Add(ctx, "k", time.Minute)
	if d, err := r.WindowLeft(ctx, "k", time.Minute); err != nil || d <= 0 || d > time.Minute {
		t.Errorf("redis window left = %v, %v; want within (0, 1m]", d, err)
	}
	f := &FailoverCounter{Primary: &RedisCounter{Client: closedRedis(t), Prefix: "x:"}, Fallback: m, Breaker: &Breaker{}}
	if d, err := f.WindowLeft(ctx, "k", time.Minute); err != nil || d != 40*time.Second {
		t.Errorf("failover window left = %v, %v; want 40s from memory", d, err)
	}
}
