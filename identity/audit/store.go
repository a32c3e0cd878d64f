package audit

import (
	"context"
	"time"
)

// Store keeps the chain. Implementations: audit/sqlstore.
type Store interface {
	// Append validates e, refuses secret-looking Details with
	// ErrSecretDetail, and adds e at the end of the chain: while holding
	// the chain head against other writers (other instances included) it
	// calls Seal(e, head.Seq, head.Hash), inserts e and moves the head to
	// it. On return e carries its Seq, PrevHash and Hash.
	Append(ctx context.Context, e *Entry) error

	// List returns entries matching f, newest (highest Seq) first.
	List(ctx context.Context, f Filter) ([]Entry, error)

	// Chain returns up to limit entries with Seq > afterSeq in ascending
	// Seq order, as stored: Verify reads the chain through it.
	Chain(ctx context.Context, afterSeq int64, limit int) ([]Entry, error)

	// Head returns the newest entry's link ({0, ""} before the first).
	Head(ctx context.Context) (Link, error)

	// Checkpoint returns the newest retention checkpoint: the link of the
	// last pruned entry, {0, ""} when nothing was ever pruned.
	Checkpoint(ctx context.Context) (Link, error)

	// Prune deletes the longest prefix of the chain whose entries are all
	// older than before, in one transaction that first records the last
	// deleted entry as a checkpoint. It returns how many entries went.
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Link is a position in the chain: an entry's sequence number and hash.
type Link struct {
	Seq  int64
	Hash string
}

// Filter selects entries for List. Zero fields do not filter.
type Filter struct {
	UserID    string    // matches Subject or ActorID
	ActorID   string    // matches ActorID
	Action    string    // matches Action exactly
	Since     time.Time // Time >= Since
	Until     time.Time // Time < Until
	BeforeSeq int64     // Seq < BeforeSeq: the next page after an entry
	Limit     int       // <= 0: DefaultLimit; at most MaxLimit
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// PageLimit returns f.Limit bounded to (0, MaxLimit], DefaultLimit when unset.
func (f Filter) PageLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}
