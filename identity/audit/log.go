package audit

import (
	"context"
	"fmt"
	"time"
)

// Log records and checks the audit trail.
type Log struct {
	Store Store
	Now   func() time.Time
}

// New returns a Log on store with the wall clock.
func New(store Store) *Log { return &Log{Store: store, Now: time.Now} }

// Record appends e. It sets e.Time from l.Now (any time the caller set is
// replaced: events are stamped when recorded) and strips secret-looking
// Details keys (see Details). The store assigns Seq and the hashes.
func (l *Log) Record(ctx context.Context, e Entry) error {
	e.Time = NormalTime(l.Now())
	e.Details = e.Details.Clean()
	if err := e.Validate(); err != nil {
		return err
	}
	if err := l.Store.Append(ctx, &e); err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// List returns entries matching f, newest first. To page, pass the last
// returned entry's Seq as the next Filter's BeforeSeq.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	return l.Store.List(ctx, f)
}

// Prune deletes entries older than before, keeping the chain verifiable
// through a checkpoint. It returns how many entries it deleted.
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	return l.Store.Prune(ctx, NormalTime(before))
}
