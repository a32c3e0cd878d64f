package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"gatehouse/oidc"
)

// newAdminHTTP is the server of the admin listener (admin_listen), kept
// off the public one so that the metrics are not served to the internet:
// GET /metrics once the App serves (503 before), and /healthz and /readyz
// answered by the public handler, so that both listeners agree on them,
// the drain included; with admin_pprof, Go's profiler under /debug/pprof/.
// Anything else is 404. Its requests share the public server's base
// context, so a shutdown cancels them alike.
func (s *server) newAdminHTTP(requests context.Context) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.HandleFunc("GET /healthz", s.serveHTTP)
	mux.HandleFunc("GET /readyz", s.serveHTTP)
	writeTimeout := 30 * time.Second
	if s.cfg.AdminPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles under it
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		// A CPU profile or trace takes ?seconds= (30 by default) to
		// write, and pprof refuses one that would outlast WriteTimeout.
		writeTimeout = pprofWriteTimeout
	}
	return &http.Server{
		Handler:           mux,
		BaseContext:       func(net.Listener) context.Context { return requests },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// pprofWriteTimeout bounds an admin answer when the profiler is on: a
// profile or trace may be asked for up to just under this long.
const pprofWriteTimeout = 2 * time.Minute

// serveMetrics serves the App's metrics, or 503 while it is being built.
func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	h := s.metrics.Load()
	if h == nil {
		w.Header().Set("Retry-After", oidc.RetryAfter)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "starting\n")
		return
	}
	(*h).ServeHTTP(w, r)
}

// shutdownAdmin stops the admin server, if any, by deadline: a scrape in
// flight may finish, then its connection is closed.
func (s *server) shutdownAdmin(deadline time.Time) {
	if s.admin == nil {
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := s.admin.Shutdown(ctx); err != nil {
		s.log.Warn("admin listener: requests still running at the shutdown deadline; closing their connections", "error", err)
		s.admin.Close()
	}
}
