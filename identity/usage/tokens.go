package usage

import (
	"context"
	"sync"
	"time"
)

// Adder adds deltas to the aggregates in one transaction.
type Adder interface {
	// AddCounts adds each delta's N to its count.
	AddCounts(ctx context.Context, ds []Delta) error
}

type tokenKey struct{ day, client, grant string }

// Tokens counts issued tokens in memory per (day, client, grant type)
// and adds the counts to the aggregates on Flush: the token endpoint is
// a hot path, which gets no database write of its own. Counts of a
// Flush that failed are kept for the next one; counts not yet flushed
// when the process dies are lost (at most one flush interval's worth).
type Tokens struct {
	Store Adder
	Now   func() time.Time

	mu     sync.Mutex
	counts map[tokenKey]int64
}

// maxTokenKeys bounds the pending counts, should the database be away
// for long: beyond it, new (day, client, grant) keys are dropped.
const maxTokenKeys = 100_000

// Issued counts one token issued to clientID through grant (e.g.
// "authorization_code", "refresh_token", "client_credentials").
func (t *Tokens) Issued(clientID, grant string) {
	k := tokenKey{day: DayKey(t.Now()), client: clientID, grant: grant}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[tokenKey]int64{}
	}
	if _, ok := t.counts[k]; !ok && len(t.counts) >= maxTokenKeys {
		return
	}
	t.counts[k]++
}

// Flush adds the counts so far to the aggregates; on failure they are
// put back for the next Flush.
func (t *Tokens) Flush(ctx context.Context) error {
	t.mu.Lock()
	counts := t.counts
	t.counts = nil
	t.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	if err := t.Store.AddCounts(ctx, tokenDeltas(counts)); err != nil {
		t.mu.Lock()
		if t.counts == nil {
			t.counts = map[tokenKey]int64{}
		}
		for k, n := range counts {
			t.counts[k] += n
		}
		t.mu.Unlock()
		return err
	}
	return nil
}
