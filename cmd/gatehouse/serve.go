package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"gatehouse/config"
)

func cmdServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("serve [--config FILE]", "Runs the provider. With no configuration it starts a development\nsetup: issuer http://localhost:8080, SQLite in ./data, a generated master key.", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := loadConfig(*cfgPath, stderr)
	if err != nil {
		return err
	}
	// Listen first: health checks get an answer while the database is
	// still being reached.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	admin, err := listenAdmin(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	started := []any{"version", version, "listen", ln.Addr().String()}
	if admin != nil {
		started = append(started, "admin_listen", admin.Addr().String())
	}
	log.Info("gatehouse started", append(started, "issuer", cfg.Issuer)...)
	if cfg.DevelopmentMode() {
		fmt.Fprintf(stdout, "\n*** DEVELOPMENT SETUP: the master key was generated and is kept in %s.\n"+
			"*** Anyone who can read that directory can decrypt the signing keys. For production set\n"+
			"*** GATEHOUSE_MASTER_KEY (openssl rand -base64 32), an https issuer and PostgreSQL.\n", cfg.DataDir)
	}
	fmt.Fprintf(stdout, "\nGatehouse is running.\n  Sign in or create an account: %s/\n  Discovery:                    %s/.well-known/openid-configuration\n\n", cfg.Issuer, cfg.Issuer)
	// Only the process of its own tunes the runtime: tests run servers
	// inside theirs.
	tune := func(ctx context.Context, a *App) { tuneRuntime(ctx, a.Config, a.Identity.Core.Hasher, a.Logger) }
	return serve(ctx, cfg, log, ln, admin, nil, tune)
}

// Serve runs the HTTP server of an App already built on ln, and its
// background jobs, until ctx ends; then it shuts down as serve does and
// closes the App. admin, when not nil, is the admin listener. Callers
// pass listeners they opened rather than addresses, so that a test can
// take free ports (127.0.0.1:0) and know them before the server starts.
func (a *App) Serve(ctx context.Context, ln, admin net.Listener) error {
	return serve(ctx, a.Config, a.Logger, ln, admin, a, nil)
}

// listenAdmin opens the admin listener on admin_listen; nil when it is
// empty (turned off).
func listenAdmin(cfg *config.Config) (net.Listener, error) {
	if cfg.AdminListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return nil, fmt.Errorf("admin_listen: %w", err)
	}
	return ln, nil
}

// serve answers on ln at once: /healthz, /readyz and 503 for the rest
// until the App is built (openApp retries while the database is
// unreachable), then the App. When ctx ends it shuts down in order:
//
//  1. drain for http.shutdown_delay (see serveHTTP), then stop
//     accepting; in-flight requests get most of the shutdown timeout
//     to finish;
//  2. then their contexts are cancelled, so that work waiting on the
//     database ends and is answered 503;
//  3. the background jobs, stopped from the start one at a time (see
//     jobGroup), are waited for;
//  4. the database is closed last.
//
// admin, when not nil, is the admin listener (see newAdminHTTP); it
// starts and stops with ln. A shutdown returns nil even when requests had
// to be cancelled. ready, when set, is called with the App once it
// serves.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, ln, admin net.Listener, a *App, ready func(context.Context, *App)) error {
	starting, st, err := newStartingEcho(cfg, log)
	if err != nil {
		ln.Close()
		if admin != nil {
			admin.Close()
		}
		return err
	}
	s := newServer(ctx, cfg, log, starting, admin != nil)
	defer s.cancelRequests()
	served := make(chan error, 2)
	go func() { served <- s.http.Serve(ln) }()
	if admin != nil {
		go func() { served <- s.admin.Serve(admin) }()
	}

	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	opened := make(chan openResult, 1)
	if a != nil {
		opened <- openResult{app: a}
	} else {
		go func() { opened <- openApp(jobs, cfg, log, st) }()
	}
	var runErr error
	select {
	case r := <-opened:
		opened = nil
		if r.err != nil {
			if ctx.Err() == nil {
				runErr = r.err
			}
			break
		}
		s.use(jobs, r.app)
		if ready != nil {
			ready(jobs, r.app)
		}
		select {
		case runErr = <-served:
		case <-ctx.Done():
		}
	case runErr = <-served:
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopJobs()
	s.shutdown(opened)
	log.Info("shut down")
	return runErr
}

// server is the HTTP server of serve and what it runs: the starting
// handler, then the App's with its background jobs.
type server struct {
	cfg     *config.Config
	log     *slog.Logger
	http    *http.Server
	handler atomic.Pointer[http.Handler]
	// admin serves the admin listener; nil when it is off. metrics is the
	// App's /metrics handler, nil until the App serves.
	admin   *http.Server
	metrics atomic.Pointer[http.Handler]
	// draining is set for http.shutdown_delay at the start of a shutdown.
	draining atomic.Bool
	// cancelRequests ends the context of every request.
	cancelRequests context.CancelFunc
	app            *App
	// jobs are the App's background jobs; nil until it serves.
	jobs *jobGroup
}

func newServer(ctx context.Context, cfg *config.Config, log *slog.Logger, starting http.Handler, admin bool) *server {
	s := &server{cfg: cfg, log: log}
	s.handler.Store(&starting)
	requests, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelRequests = cancel
	if admin {
		s.admin = s.newAdminHTTP(requests)
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		BaseContext:       func(net.Listener) context.Context { return requests },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Past the request deadline, so a late answer is still written.
		WriteTimeout: max(30*time.Second, cfg.HTTP.RequestTimeout.Std()+5*time.Second),
		IdleTimeout:  2 * time.Minute,
		// The transport's own cap (Go adds 4 KiB of slack and answers 431
		// above it); inputguard enforces the exact limit in the route's
		// format.
		MaxHeaderBytes: cfg.HTTP.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// serveHTTP hands r to the current handler. While draining it tells load
// balancers the instance is leaving (/readyz 503) and closes each
// connection after its answer, so that no request is left unread on a
// kept-alive connection when the listener closes.
func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/readyz" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"shutting down"}`)
			return
		}
	}
	(*s.handler.Load()).ServeHTTP(w, r)
}

// use starts a's background jobs under jobs and serves a from now on.
func (s *server) use(jobs context.Context, a *App) {
	s.app = a
	m := a.Metrics.handler()
	s.metrics.Store(&m)
	h := http.Handler(a.Echo)
	s.handler.Store(&h)
	// The jobs start once the App serves: a caller that waits for one of
	// them (the purge at start) then finds the App answering.
	s.jobs = a.startJobs(jobs)
	s.log.Info("gatehouse ready")
}

// shutdown stops the background jobs in order while it drains for
// http.shutdown_delay and shuts the HTTP server down, waits for the jobs
// and for an App still being opened, and closes the App last, all within
// http.shutdown_timeout.
func (s *server) shutdown(opened <-chan openResult) {
	deadline := time.Now().Add(s.cfg.HTTP.ShutdownTimeout.Std())
	jobsStopped := make(chan error, 1)
	if s.jobs != nil {
		go func() { jobsStopped <- s.jobs.stop(deadline) }()
	} else {
		jobsStopped <- nil
	}
	if d := s.cfg.HTTP.ShutdownDelay.Std(); d > 0 {
		s.draining.Store(true)
		s.log.Info("draining before shutdown", "delay", d.String())
		time.Sleep(d)
	}
	done := shutdownHTTP(s.http, s.cancelRequests, deadline, s.log)
	s.shutdownAdmin(deadline)
	if opened != nil {
		// Still opening: it stops as its context ended, closing what it
		// opened, or returns an App that nothing uses yet.
		if r := <-opened; r.app != nil {
			s.app = r.app
		}
	}
	switch err := <-jobsStopped; {
	case errors.Is(err, errStopDeadline):
		s.log.Error("shutdown deadline passed with background jobs still running")
		done = false
	case err != nil:
		s.log.Error("background job failed", "error", err)
	}
	switch {
	case s.app == nil:
	case done:
		s.app.Close() // last: nothing uses the database any more
	default:
		// Closing the database under running work would fail it with
		// "sql: database is closed"; the process exit ends both.
		s.log.Error("database left open: work still running at the shutdown deadline")
	}
}

// shutdownHTTP stops accepting and waits for in-flight requests: until
// most of the time to deadline has passed, then it cancels their
// contexts and waits for the rest. It reports whether every request
// ended.
func shutdownHTTP(srv *http.Server, cancelRequests context.CancelFunc, deadline time.Time, log *slog.Logger) bool {
	total := time.Until(deadline)
	grace := min(total/3, 5*time.Second)
	drain, cancel := context.WithDeadline(context.Background(), deadline.Add(-grace))
	err := srv.Shutdown(drain)
	cancel()
	if err == nil {
		return true
	}
	log.Warn("requests still running: cancelling them", "grace", grace.String())
	cancelRequests()
	final, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := srv.Shutdown(final); err != nil {
		log.Error("shutdown deadline passed with requests still running; closing their connections", "error", err)
		srv.Close()
		return false
	}
	return true
}

// openResult is what openApp ends with.
type openResult struct {
	app *App
	err error
}
