// Package janitor deletes what has expired, table by table: codes,
// tokens, flows, sessions, one-time tokens, spent CAPTCHA challenges,
// unused dynamically registered clients, delivered messages and audit
// entries past their retention. Each Task purges one table in bounded
// batches (see migrations/dbpurge), so no request waits long behind it.
// The janitor runs every task on each pass and keeps going past a
// table's error, so one broken table does not let the others grow, and it
// reports each table's outcome: one log line per pass with the rows
// deleted from each table, each table's error through Failed, and both to
// Observe for the metrics.
package janitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Task purges one table.
type Task struct {
	// Table names the table in logs and metrics.
	Table string
	// Purge deletes the table's rows expired at now and returns how many
	// it deleted, also when it stops on an error.
	Purge func(ctx context.Context, now time.Time) (int64, error)
}

// Janitor runs its Tasks.
type Janitor struct {
	Tasks []Task
	// Logger records each pass's deletions, by table; nil discards them.
	Logger *slog.Logger
	// Failed, when set, is told of a table's error instead of the log
	// (cmd reports a database outage once, not per table).
	Failed func(ctx context.Context, msg string, err error)
	// Observe, when set, is told each table's outcome: the rows deleted
	// and the error, nil on success. cmd feeds it to the metrics.
	Observe func(table string, deleted int64, err error)
}

// Result is one table's outcome in a pass.
type Result struct {
	Table   string
	Deleted int64
	Err     error
}

// Run makes one pass at now: every task in order, each whatever the
// others' errors. It stops early only when ctx ends. It returns each
// table's result and their errors joined.
func (j *Janitor) Run(ctx context.Context, now time.Time) ([]Result, error) {
	results := make([]Result, 0, len(j.Tasks))
	var errs []error
	for _, task := range j.Tasks {
		if err := ctx.Err(); err != nil {
			return results, errors.Join(append(errs, err)...)
		}
		n, err := task.Purge(ctx, now)
		if err != nil {
			err = fmt.Errorf("janitor: %s: %w", task.Table, err)
			errs = append(errs, err)
		}
		results = append(results, Result{Table: task.Table, Deleted: n, Err: err})
		j.report(ctx, task.Table, n, err)
	}
	j.logDeleted(ctx, results)
	return results, errors.Join(errs...)
}

// logDeleted writes a pass's one log line: rows in all, then per table.
func (j *Janitor) logDeleted(ctx context.Context, results []Result) {
	total := Total(results)
	if total == 0 || j.Logger == nil {
		return
	}
	var tables []any
	for _, r := range results {
		if r.Deleted > 0 {
			tables = append(tables, slog.Int64(r.Table, r.Deleted))
		}
	}
	j.Logger.InfoContext(ctx, "purged expired records", "rows", total, slog.Group("tables", tables...))
}

func (j *Janitor) report(ctx context.Context, table string, n int64, err error) {
	if j.Observe != nil {
		j.Observe(table, n, err)
	}
	if err == nil || ctx.Err() != nil {
		return
	}
	if j.Failed != nil {
		j.Failed(ctx, "purging expired records failed", err)
		return
	}
	if j.Logger != nil {
		j.Logger.ErrorContext(ctx, "purging expired records failed", "table", table, "error", err)
	}
}

// Total is the number of rows results deleted.
func Total(results []Result) int64 {
	var n int64
	for _, r := range results {
		n += r.Deleted
	}
	return n
}
