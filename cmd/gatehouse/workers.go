package main

import (
	"context"
	"time"

	"gatehouse/identity/message"
	"gatehouse/migrations/dberr"
	"gatehouse/migrations/janitor"
	captchasql "gatehouse/oidc/captcha/sqlstore"
)

// purgeEvery is how often expired records are purged after the purge that
// runs at start.
const purgeEvery = 10 * time.Minute

// startJobs runs the background jobs until the group is stopped: the
// outage watch, signing-key reloads, the message worker, the purge of
// expired records and the usage worker (which flushes its token counts
// when stopped, first of all). They stop in the reverse order, so that the outage
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
	g.start(func(ctx context.Context) error { a.Usage.Worker.Run(ctx); return nil })
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
// than every is long still purge, and then every is. The janitor reports
// each table's outcome itself.
func (a *App) purgeExpired(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for first := true; ; first = false {
		_, _ = a.purge(ctx, time.Now())
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

// purge deletes, in bounded batches, what has expired at now, table by
// table (migrations/janitor): codes, tokens, flows and sessions, one-time
// tokens, spent CAPTCHA challenges, delivered and failed messages,
// unused dynamically registered clients and audit entries past their
// retention. One table's error does not stop the others; each is logged
// (or reported as an outage) and counted in the metrics. It returns how
// many rows went and the tables' errors.
func (a *App) purge(ctx context.Context, now time.Time) (int64, error) {
	j := &janitor.Janitor{Tasks: a.janitorTasks(), Logger: a.Logger, Failed: a.jobFailed}
	if a.Metrics != nil {
		j.Observe = a.Metrics.observeJanitor
	}
	results, err := j.Run(ctx, now)
	return janitor.Total(results), err
}

// janitorTasks lists every table with an expiry, with its purge.
func (a *App) janitorTasks() []janitor.Task {
	tasks := append(a.Store.Purge.ExpiryTasks(),
		janitor.Task{Table: "one_time_tokens", Purge: a.Identity.Core.Tokens.DeleteExpiredTokens},
		janitor.Task{Table: "captcha_spent_challenges", Purge: func(ctx context.Context, now time.Time) (int64, error) {
			s := captchasql.NewSpentStore(a.DB.Gorm())
			s.Now = func() time.Time { return now }
			return s.Purge(ctx)
		}},
		janitor.Task{Table: "webauthn_ceremonies", Purge: a.Passkeys.Ceremonies.DeleteExpiredCeremonies},
		janitor.Task{Table: "outbound_messages", Purge: func(ctx context.Context, now time.Time) (int64, error) {
			return a.Messages.Purge(ctx, now.Add(-message.DefaultRetention))
		}},
		janitor.Task{Table: "mfa_remembered_browsers", Purge: a.MFA.Browsers.DeleteExpiredBrowsers},
	)
	if l := a.Config.Registration.UnusedClientLifetime.Std(); l > 0 {
		tasks = append(tasks, janitor.Task{Table: "oauth_clients", Purge: func(ctx context.Context, now time.Time) (int64, error) {
			return a.Store.Purge.DeleteUnusedClients(ctx, now.Add(-l))
		}})
	}
	if r := a.Config.Audit.Retention.Std(); r > 0 {
		// The pruned head is checkpointed, so the rest still verifies.
		tasks = append(tasks, janitor.Task{Table: "audit_entries", Purge: func(ctx context.Context, now time.Time) (int64, error) {
			return a.Audit.Prune(ctx, now.Add(-r))
		}})
	}
	return tasks
}
