package main

import (
	"context"
	"time"

	"gatehouse/migrations/dberr"
	captchasql "gatehouse/oidc/captcha/sqlstore"
)

// purgeEvery is how often expired records are purged after the purge that
// runs at start.
const purgeEvery = 10 * time.Minute

// startJobs runs the background jobs until the group is stopped: the
// outage watch, signing-key reloads, the message worker and the purge of
// expired records. They stop in the reverse order, so that the outage
// watch, which the others report to, is the last to go.
func (a *App) startJobs(ctx context.Context) *jobGroup {
	g := newJobGroup(ctx)
	g.start(func(ctx context.Context) error { a.Outage.Run(ctx); return nil })
	g.start(func(ctx context.Context) error {
		a.Keys.Run(ctx, time.Minute, func(err error) { a.jobFailed(ctx, "reloading signing keys failed", err) })
		return nil
	})
	g.start(func(ctx context.Context) error { a.Worker.Run(ctx); return nil })
	g.start(func(ctx context.Context) error { a.purgeExpired(ctx, purgeEvery); return nil })
	return g
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

// purgeExpired purges at once, so that instances restarted more often
// than every is long still purge, and then every is.
func (a *App) purgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for first := true; ; first = false {
		n, err := a.purge(ctx, time.Now())
		if err != nil && ctx.Err() == nil {
			a.jobFailed(ctx, "purging expired records failed", err)
		} else if n > 0 {
			a.Logger.InfoContext(ctx, "purged expired records", "rows", n)
		}
		if first {
			close(a.purgedAtStart)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge deletes, in bounded batches, what has expired at now: codes,
// tokens, flows and sessions, one-time tokens, spent CAPTCHA challenges,
// unused dynamically registered clients and audit entries past their
// retention. It returns how many rows went, also on error.
func (a *App) purge(ctx context.Context, now time.Time) (int64, error) {
	steps := []func() (int64, error){
		func() (int64, error) { return a.Store.DeleteExpired(ctx, now) },
		func() (int64, error) { return a.Users.Tokens.DeleteExpiredTokens(ctx, now) },
		func() (int64, error) { return captchasql.NewSpentStore(a.DB.Gorm()).Purge(ctx) },
	}
	if l := a.Config.Registration.UnusedClientLifetime.Std(); l > 0 {
		steps = append(steps, func() (int64, error) { return a.Store.DeleteUnusedClients(ctx, now.Add(-l)) })
	}
	if r := a.Config.Audit.Retention.Std(); r > 0 {
		// The pruned head is checkpointed, so the rest still verifies.
		steps = append(steps, func() (int64, error) { return a.Audit.Prune(ctx, now.Add(-r)) })
	}
	var total int64
	for _, step := range steps {
		n, err := step()
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
