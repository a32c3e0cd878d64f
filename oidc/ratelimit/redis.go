package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ Limiter = (*Redis)(nil)

// gcraScript is GCRA in one atomic step on the server's clock, in
// microseconds (well inside a double's exact integers). KEYS[1] holds the
// TAT and expires with it. ARGV: emission interval, window.
// Returns {allowed, remaining, retry_after_us}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - window
if now < allow_at then
  return {0, 0, allow_at - now}
end
local used = nxt - now
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil(used / 1000))
return {1, math.floor((window - used) / interval), 0}
`)

// Redis is a Limiter whose counters live in Redis, shared by every
// instance that uses the same prefix.
type Redis struct {
	client redis.Scripter
	prefix string
	// Timeout bounds each call to Redis; NewRedis sets one second.
	Timeout time.Duration
}

// NewRedis returns a limiter that stores its keys in client under prefix
// (such as "gatehouse:rl:").
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, Timeout: time.Second}
}

// Allow implements Limiter.
func (l *Redis) Allow(ctx context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	interval := r.interval().Microseconds()
	if interval < 1 {
		return Decision{}, fmt.Errorf("ratelimit: rule %v: redis needs at least a microsecond per request", r)
	}
	res, err := gcraScript.Run(ctx, l.client, []string{l.prefix + key}, interval, r.Window.Microseconds()).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values, want 3", len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
	}, nil
}

// RedisOptions parses a redis:// or rediss:// URL into client options
// under which each command ends at its context's deadline (a Breaker's
// Timeout). Without ContextTimeoutEnabled, go-redis waits for its own read
// timeout (3 s, then retries) whatever the context says, so a Redis that
// has stopped answering would hold every request for seconds.
func RedisOptions(url string) (*redis.Options, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
