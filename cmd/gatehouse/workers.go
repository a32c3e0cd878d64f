package main

import (
	"context"
	"sync"
	"time"

	"gatehouse/migrations/dberr"
	captchasql "gatehouse/oidc/captcha/sqlstore"
)

// startWorkers runs the background jobs until ctx ends: signing-key
// reloads, the purge of expired records, the message worker and the
// outage watch. wg is done when all of them have returned.
func (a *App) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	jobs := []func(){
		func() {
			a.Keys.Run(ctx, time.Minute, func(err error) { a.jobFailed(ctx, "reloading signing keys failed", err) })
		},
		func() { a.purgeExpired(ctx, 10*time.Minute) },
		func() { a.Worker.Run(ctx) },
		func() { a.Outage.Run(ctx) },
	}
	wg.Add(len(jobs))
	for _, job := range jobs {
		go func() {
			defer wg.Done()
			job()
		}()
	}
}

// jobFailed logs a background job's error, or reports it to the outage
// log when the database was unavailable.
func (a *App) jobFailed(ctx context.Context, msg string, err error) {
	if dberr.IsUnavailable(err) {
		a.Outage.Report(ctx, err)
		return
	}
	a.Logger.ErrorContext(ctx, msg, "error", err)
}

func (a *App) purgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.Store.DeleteExpired(ctx, time.Now())
			if err == nil {
				var m int64
				m, err = a.Users.Tokens.DeleteExpiredTokens(ctx, time.Now())
				n += m
			}
			if err == nil {
				var m int64
				m, err = captchasql.NewSpentStore(a.DB).Purge(ctx)
				n += m
			}
			if err == nil && a.Config.Audit.Retention.Std() > 0 {
				// The pruned head is checkpointed, so the rest still verifies.
				var m int64
				m, err = a.Audit.Prune(ctx, time.Now().Add(-a.Config.Audit.Retention.Std()))
				n += m
			}
			if err != nil && ctx.Err() == nil {
				a.jobFailed(ctx, "purging expired records failed", err)
			} else if n > 0 {
				a.Logger.InfoContext(ctx, "purged expired records", "rows", n)
			}
		}
	}
}
