package usage

import (
	"context"
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
	// factor, as of day, unless day already has them.
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
	// Failed reports a run's error; the worker carries on.
	Failed func(ctx context.Context, msg string, err error)
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
	if err := w.Store.Snapshot(ctx, Day(w.Now())); err != nil {
		w.fail(ctx, "usage: user snapshot failed", err)
	}
	if w.Tokens != nil {
		if err := w.Tokens.Flush(ctx); err != nil {
			w.fail(ctx, "usage: flushing token counts failed", err)
		}
	}
}

func (w *Worker) fail(ctx context.Context, msg string, err error) {
	if w.Failed != nil && ctx.Err() == nil {
		w.Failed(ctx, msg, err)
	}
}
