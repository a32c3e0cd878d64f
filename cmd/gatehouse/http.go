package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"gatehouse/config"
	"gatehouse/migrations"
	"gatehouse/migrations/dberr"
	"gatehouse/oidc"
	"gatehouse/oidc/account"
	"gatehouse/oidc/inputguard"
	"gatehouse/static"
	"gatehouse/templates"
)

type ctxKey int

const requestIDKey ctxKey = 0

// requestIDHandler adds the request ID carried by the context to every
// log record, so a line can be traced to its request.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}

func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}

// baseEcho is the part of the HTTP stack that needs no database, shared
// by the server while it starts and the full provider. outage, when not
// nil, is told of requests the database failed.
func baseEcho(cfg *config.Config, log *slog.Logger, pages *templates.Renderer, captchaHosts string, outage oidc.OutageReporter) (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = oidc.ErrorHandler(pages, log, outage)

	prefixes, err := cfg.HTTP.TrustedProxyPrefixes()
	if err != nil {
		return nil, err
	}
	if len(prefixes) == 0 {
		e.IPExtractor = echo.ExtractIPDirect()
	} else {
		var opts []echo.TrustOption
		opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
		for _, p := range prefixes {
			_, n, _ := net.ParseCIDR(p.String())
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}

	// Outermost, so that the error handler, which the logger calls, still
	// sees whether the request ran out of time.
	e.Use(requestDeadline(cfg.HTTP.RequestTimeout.Std()))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		RequestIDHandler: func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), requestIDKey, id)))
		},
	}))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogURIPath: true, LogLatency: true, LogRemoteIP: true, LogError: false,
		// The error handler writes the response before the line is
		// logged, so the line carries the status the client received.
		HandleError: true,
		// Only the path is logged: query strings carry codes and tokens.
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP))
			return nil
		},
	}))
	// Inside the logger, so that a panic is answered and logged as a 500.
	e.Use(middleware.Recover())
	e.Use(securityHeaders(pages.StyleHash(), strings.HasPrefix(cfg.Issuer, "https://"), captchaHosts))
	e.Use(middleware.BodyLimit(strconv.FormatInt(cfg.HTTP.MaxBodyBytes, 10) + "B"))
	e.Use(inputguard.New(cfg.HTTP.MaxHeaderBytes, map[string][]string{
		account.Path + "/profile": {"street_address"},
	}))
	return e, nil
}

// requestDeadline gives every request a deadline: work still waiting on
// the database when it passes fails, and is answered 503, instead of
// holding the client.
func requestDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// newEcho assembles the HTTP stack: the request deadline, request ID and
// logging, recover, the client IP (from trusted proxies only), security
// headers, body limit, the input guard (baseEcho), then the in-flight
// count, CORS on the protocol endpoints, rate limits and the routes.
func newEcho(a *App, pages *templates.Renderer, captchaHosts string) (*echo.Echo, error) {
	e, err := baseEcho(a.Config, a.Logger, pages, captchaHosts, a.Outage)
	if err != nil {
		return nil, err
	}
	limits, err := rateLimits(a.Limiter, a.Config.RateLimits)
	if err != nil {
		return nil, err
	}
	e.Use(a.Metrics.countInFlight)
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		// Only cross-origin requests need CORS headers; with a wildcard
		// origin the answer does not vary by Origin, so same-origin and
		// server-to-server calls skip the middleware entirely.
		Skipper: func(c echo.Context) bool {
			if c.Request().Header.Get(echo.HeaderOrigin) == "" {
				return true
			}
			switch c.Request().URL.Path {
			case oidc.PathDiscovery, oidc.PathJWKS, oidc.PathToken, oidc.PathUserinfo, oidc.PathRevoke:
				return false
			}
			return true
		},
		AllowOrigins: []string{"*"},
		AllowMethods: []string{http.MethodGet, http.MethodPost},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType},
	}))

	e.Use(limits)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", a.ready)
	e.GET(pathCaptchaChallenge, a.PoW.ServeChallenge)
	e.StaticFS("/static", static.FS)
	a.Handler.Mount(e)
	a.SignIn.Mount(e.Group(""))
	a.ClientRegistration.Mount(e.Group(""))
	a.Recovery.Mount(e.Group(""))
	a.Account.Mount(e)
	a.MFAPages.Mount(e)
	if err := a.AdminAPI.Mount(e); err != nil {
		return nil, err
	}
	a.Console.Mount(e)
	mountUsagePage(e, a, pages)
	return e, nil
}

// ready reports whether the database answers and its schema is current.
// An unreachable database is reported to the outage log (once per
// outage), not logged at every poll.
func (a *App) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	err := a.DB.Ping(ctx, 2*time.Second)
	if err == nil {
		err = dberr.Mark(a.DB.Current(ctx))
	}
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	case errors.Is(err, migrations.ErrPending):
		a.Logger.WarnContext(ctx, "not ready: migrations pending")
		return notReady(c, "migrations pending")
	case dberr.IsUnavailable(err):
		a.Outage.Report(ctx, err)
		return notReady(c, "database unreachable")
	}
	a.Logger.ErrorContext(ctx, "not ready", "error", err)
	return notReady(c, "database unreachable")
}

// notReady answers a readiness probe with 503 and the reason.
func notReady(c echo.Context, status string) error {
	c.Response().Header().Set("Retry-After", oidc.RetryAfter)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": status})
}

// securityHeaders sets the headers every response carries (OWASP ASVS
// V14.4). Handlers may tighten or widen the CSP for one response.
// captchaHosts are a third-party CAPTCHA's origins, allowed to run their
// script and frame; empty for the built-in proof of work.
func securityHeaders(styleHash string, secure bool, captchaHosts string) echo.MiddlewareFunc {
	third := ""
	if captchaHosts != "" {
		third = " " + captchaHosts
	}
	// Scripts only from this origin (the proof-of-work solver), which
	// fetches its challenge from here too; no inline script anywhere.
	csp := "default-src 'none'; style-src 'self' " + styleHash + "; img-src 'self' https: data:; " +
		"script-src 'self'" + third + "; connect-src 'self'" + third + "; frame-src" + orNone(third) + "; frame-ancestors 'none'; base-uri 'none'"
	// Values are built once; the keys are already canonical, so they are
	// assigned directly instead of through Header.Set.
	var (
		nosniff = []string{"nosniff"}
		cspVal  = []string{csp}
		deny    = []string{"DENY"}
		noRef   = []string{"no-referrer"}
		coop    = []string{"same-origin"}
		hsts    = []string{"max-age=31536000; includeSubDomains"}
	)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h["X-Content-Type-Options"] = nosniff
			// The JSON protocol endpoints are never rendered as documents:
			// the page headers would only cost time on the hottest paths.
			if !oidc.JSONRoute(c.Request().URL.Path) {
				h["Content-Security-Policy"] = cspVal
				h["X-Frame-Options"] = deny
				h["Referrer-Policy"] = noRef
				h["Cross-Origin-Opener-Policy"] = coop
			}
			if secure {
				h["Strict-Transport-Security"] = hsts
			}
			return next(c)
		}
	}
}

// pathCaptchaChallenge serves proof-of-work challenges to the pages.
const pathCaptchaChallenge = "/captcha/challenge"

func orNone(sources string) string {
	if sources == "" {
		return " 'none'"
	}
	return sources
}
