package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counter counts events per key in fixed windows and can be read without
// counting, unlike a Limiter. The login page uses it to ask for a CAPTCHA
// once an address or an account has seen several failed sign-ins.
type Counter interface {
	// Add counts one event for key in the current window of length w.
	Add(ctx context.Context, key string, w time.Duration) error
	// Count returns the events for key in the current window of length w.
	Count(ctx context.Context, key string, w time.Duration) (int, error)
}

// MemoryCounter is a Counter for one process.
type MemoryCounter struct {
	Now func() time.Time

	mu      sync.Mutex
	windows map[string]counterWindow
	swept   time.Time
}

type counterWindow struct {
	start time.Time
	n     int
}

func (m *MemoryCounter) window(key string, w time.Duration, now time.Time) counterWindow {
	cw := m.windows[key]
	if now.Sub(cw.start) >= w {
		cw = counterWindow{start: now}
	}
	return cw
}

// Add implements Counter.
func (m *MemoryCounter) Add(_ context.Context, key string, w time.Duration) error {
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.windows == nil {
		m.windows = map[string]counterWindow{}
	}
	// Forget old windows now and then, so memory stays bounded.
	if now.Sub(m.swept) > time.Minute {
		for k, cw := range m.windows {
			if now.Sub(cw.start) > 24*time.Hour {
				delete(m.windows, k)
			}
		}
		m.swept = now
	}
	cw := m.window(key, w, now)
	cw.n++
	m.windows[key] = cw
	return nil
}

// Count implements Counter.
func (m *MemoryCounter) Count(_ context.Context, key string, w time.Duration) (int, error) {
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.window(key, w, now).n, nil
}

// RedisCounter is a Counter shared by every instance through Redis; keys
// expire with their window. Keys are hashed, so no address or login name
// is stored.
type RedisCounter struct {
	Client *redis.Client
	Prefix string
}

func (r *RedisCounter) key(key string) string {
	sum := sha256.Sum256([]byte(key))
	return r.Prefix + hex.EncodeToString(sum[:16])
}

// Add implements Counter: INCR, and a TTL set with the first event.
func (r *RedisCounter) Add(ctx context.Context, key string, w time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	k := r.key(key)
	pipe := r.Client.TxPipeline()
	pipe.Incr(ctx, k)
	pipe.ExpireNX(ctx, k, w)
	_, err := pipe.Exec(ctx)
	return err
}

// Count implements Counter.
func (r *RedisCounter) Count(ctx context.Context, key string, _ time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := r.Client.Get(ctx, r.key(key)).Int()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// FailoverCounter uses Primary through Breaker and, when the call fails
// or the breaker is open, Fallback: a Redis outage must neither stop nor
// slow down sign-ins. Breaker is required.
type FailoverCounter struct {
	Primary, Fallback Counter
	Breaker           *Breaker
}

// Add implements Counter.
func (f *FailoverCounter) Add(ctx context.Context, key string, w time.Duration) error {
	err := f.Breaker.Do(ctx, func(ctx context.Context) error { return f.Primary.Add(ctx, key, w) })
	if err != nil {
		return f.Fallback.Add(ctx, key, w)
	}
	return nil
}

// Count implements Counter.
func (f *FailoverCounter) Count(ctx context.Context, key string, w time.Duration) (int, error) {
	var n int
	err := f.Breaker.Do(ctx, func(ctx context.Context) error {
		var err error
		n, err = f.Primary.Count(ctx, key, w)
		return err
	})
	if err != nil {
		return f.Fallback.Count(ctx, key, w)
	}
	return n, nil
}

// WindowCounter is a Counter that can also tell when a key's current
// window ends, for a real Retry-After.
type WindowCounter interface {
	Counter
	// WindowLeft returns how long the current window of key (of length w)
	// still runs; zero when the key has no events.
	WindowLeft(ctx context.Context, key string, w time.Duration) (time.Duration, error)
}

var (
	_ WindowCounter = (*MemoryCounter)(nil)
	_ WindowCounter = (*RedisCounter)(nil)
	_ WindowCounter = (*FailoverCounter)(nil)
)

// WindowLeft implements WindowCounter.
func (m *MemoryCounter) WindowLeft(_ context.Context, key string, w time.Duration) (time.Duration, error) {
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	cw := m.window(key, w, now)
	if cw.n == 0 {
		return 0, nil
	}
	return cw.start.Add(w).Sub(now), nil
}

// WindowLeft implements WindowCounter: the key's remaining TTL.
func (r *RedisCounter) WindowLeft(ctx context.Context, key string, _ time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	d, err := r.Client.PTTL(ctx, r.key(key)).Result()
	if err != nil || d < 0 {
		return 0, err
	}
	return d, nil
}

// WindowLeft implements WindowCounter; a Primary or Fallback that cannot
// tell answers the whole window.
func (f *FailoverCounter) WindowLeft(ctx context.Context, key string, w time.Duration) (time.Duration, error) {
	var d time.Duration
	err := f.Breaker.Do(ctx, func(ctx context.Context) error {
		if wc, ok := f.Primary.(WindowCounter); ok {
			var err error
			d, err = wc.WindowLeft(ctx, key, w)
			return err
		}
		d = w
		_, err := f.Primary.Count(ctx, key, w)
		return err
	})
	if err == nil {
		return d, nil
	}
	if wc, ok := f.Fallback.(WindowCounter); ok {
		return wc.WindowLeft(ctx, key, w)
	}
	return w, nil
}
