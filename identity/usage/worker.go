package usage

import (
	"context"
	"sync"
	"time"
)

// Aggregator keeps the aggregates (implementation: usage/sqlstore).
type Aggregator interface {
	Adder
	// Aggregate counts up to limit audit entries after the stored cursor
	// into the aggregates (Tally) and moves the cursor past them, all in
	// one transaction that holds the cursor against other instances. It
	// returns how many entries it counted.
	Aggregate(ctx context.Context, limit int) (int, error)
	// Snapshot records the number of users, and of users with a second
	// factor, now, as day's figures (replacing earlier ones of day).
	Snapshot(ctx context.Context, day time.Time) error
}

// Worker keeps the aggregates up to date: every Interval it counts the
// new audit entries, records the day's user snapshot and flushes the
// token counts. Several instances may run one each.
type Worker struct {
	Store  Aggregator
	Tokens *Tokens // may be nil
	Now    func() time.Time
	// Interval between runs; 0 means 10 s.
	Interval time.Duration
	// Batch is how many entries one transaction counts; 0 means 1000.
	Batch int
	// SnapshotEvery is how often the day's user counts are taken again,
	// so that a day's figures are those of its end, give or take; 0
	// means an hour. They are counts over the users: not every run.
	SnapshotEvery time.Duration
	// Failed reports a run's error; the worker carries on.
	Failed func(ctx context.Context, msg string, err error)

	mu         sync.Mutex // Step may be called beside Run
	snapshotAt time.Time  // of the last snapshot
}

// Run works until ctx ends, and then flushes the token counts once more.
func (w *Worker) Run(ctx context.Context) {
	every := w.Interval
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.Step(ctx)
		select {
		case <-ctx.Done():
			// The last counts of tokens outlive the request contexts.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if w.Tokens != nil {
				if err := w.Tokens.Flush(fctx); err != nil {
					w.fail(fctx, "usage: flushing token counts failed", err)
				}
			}
			return
		case <-t.C:
		}
	}
}

// Step runs once: counts every audit entry there is so far, takes the
// day's snapshot and flushes the token counts.
func (w *Worker) Step(ctx context.Context) {
	batch := w.Batch
	if batch <= 0 {
		batch = 1000
	}
	for ctx.Err() == nil {
		n, err := w.Store.Aggregate(ctx, batch)
		if err != nil {
			w.fail(ctx, "usage: counting audit entries failed", err)
			break
		}
		if n < batch {
			break
		}
	}
	w.snapshot(ctx)
	if w.Tokens != nil {
		if err := w.Tokens.Flush(ctx); err != nil {
			w.fail(ctx, "usage: flushing token counts failed", err)
		}
	}
}

// snapshot takes the user counts at the first run of a day, and again
// every SnapshotEvery.
func (w *Worker) snapshot(ctx context.Context) {
	every := w.SnapshotEvery
	if every <= 0 {
		every = time.Hour
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.Now()
	if !w.snapshotAt.IsZero() && Day(now).Equal(Day(w.snapshotAt)) && now.Sub(w.snapshotAt) < every {
		return
	}
	if err := w.Store.Snapshot(ctx, Day(now)); err != nil {
		w.fail(ctx, "usage: user snapshot failed", err)
		return
	}
	w.snapshotAt = now
}

func (w *Worker) fail(ctx context.Context, msg string, err error) {
	if w.Failed != nil && ctx.Err() == nil {
		w.Failed(ctx, msg, err)
	}
}
