package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/config"
	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/oidc"
	"gatehouse/static"
	"gatehouse/templates"
)

// Retry delays while the database cannot be reached at start: doubling
// from the first to the cap, so that the server is ready soon after the
// database is.
const (
	firstRetry = 250 * time.Millisecond
	maxRetry   = time.Second
	// Past the first few attempts a failure is logged at most this often.
	retryLogEvery = 30 * time.Second
)

// startState is what /readyz says while the App is being built.
type startState struct{ status atomic.Pointer[string] }

func (s *startState) set(status string) { s.status.Store(&status) }

// newStartingEcho is the server before the App is built: /healthz answers
// 200, /readyz 503 with the reason, the stylesheet is served, and every
// other route 503 with Retry-After in its format.
func newStartingEcho(cfg *config.Config, log *slog.Logger) (*echo.Echo, *startState, error) {
	pages, err := templates.New(templates.Theme{ProductName: cfg.Theme.ProductName, LogoURL: cfg.Theme.LogoURL, PrimaryColor: cfg.Theme.PrimaryColor})
	if err != nil {
		return nil, nil, err
	}
	e, err := baseEcho(cfg, log, pages, "", nil)
	if err != nil {
		return nil, nil, err
	}
	st := &startState{}
	st.set("starting")
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", func(c echo.Context) error { return notReady(c, *st.status.Load()) })
	e.StaticFS("/static", static.FS)
	unavailable := func(c echo.Context) error {
		oidc.WriteUnavailable(c.Response(), c.Request(), pages, c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
	e.Any("/", unavailable)
	e.Any("/*", unavailable)
	return e, st, nil
}

// openApp builds the App, retrying with capped backoff while the database
// is unreachable or its schema is not yet migrated; each attempt to reach
// it is bounded by database.connect_timeout. Any other error ends it, and
// so does ctx.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, st *startState) openResult {
	box, err := openBox(cfg, log) // once: it logs the development warning
	if err != nil {
		return openResult{err: err}
	}
	delay := firstRetry
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		a, err := openServerWith(ctx, cfg, log, box)
		if err == nil {
			if attempt > 1 {
				log.InfoContext(ctx, "database reached", "attempts", attempt)
			}
			return openResult{app: a}
		}
		if ctx.Err() != nil {
			return openResult{err: ctx.Err()}
		}
		pending := errors.Is(err, migrations.ErrPending)
		if !pending && !dberr.IsUnavailable(err) {
			return openResult{err: err}
		}
		status := "database unreachable"
		if pending {
			status = "migrations pending"
		}
		st.set(status)
		next := time.Now().Add(delay)
		if attempt <= 5 || time.Since(lastLog) >= retryLogEvery {
			lastLog = time.Now()
			log.WarnContext(ctx, "cannot start yet: "+status+"; retrying", "error", err, "attempt", attempt,
				"next_attempt", next.UTC().Format(time.RFC3339Nano))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return openResult{err: ctx.Err()}
		case <-t.C:
		}
		delay = min(2*delay, maxRetry)
	}
}
