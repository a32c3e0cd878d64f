package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// KeyedRule is one limit on a route: Rule applied per Key. Name keeps the
// keys of different rules apart ("login_ip", "login_account").
type KeyedRule struct {
	Name string
	Rule Rule
	// Key returns what the rule counts for this request; "" skips the
	// rule (the field is absent, say).
	Key func(c echo.Context) string
}

// Middleware counts each request against every rule whose key is set.
// When any rule denies, it sets Retry-After and calls onLimited with the
// longest wait; nil onLimited means Respond as a page. A limiter error is
// returned, so the error handler logs it.
func Middleware(l Limiter, rules []KeyedRule, onLimited func(c echo.Context, d Decision) error) echo.MiddlewareFunc {
	if onLimited == nil {
		onLimited = func(c echo.Context, d Decision) error { return Respond(c, d, false) }
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			denied := Decision{Allowed: true}
			for _, kr := range rules {
				k := kr.Key(c)
				if k == "" {
					continue
				}
				// Every rule counts, so a denial by one does not leave
				// another's budget untouched.
				d, err := l.Allow(ctx, storeKey(kr.Name, k), kr.Rule)
				if err != nil {
					return fmt.Errorf("ratelimit: %s: %w", kr.Name, err)
				}
				if !d.Allowed && (denied.Allowed || d.RetryAfter > denied.RetryAfter) {
					denied = d
				}
			}
			if denied.Allowed {
				return next(c)
			}
			c.Response().Header().Set("Retry-After", retryAfterSeconds(denied.RetryAfter))
			return onLimited(c, denied)
		}
	}
}

// storeKey names a key by rule and a hash of its value, so that e-mail
// addresses and IPs are not kept in Redis and an oversized value cannot
// make an oversized key.
func storeKey(name, key string) string {
	sum := sha256.Sum256([]byte(key))
	return name + ":" + hex.EncodeToString(sum[:16])
}

// retryAfterSeconds formats a wait for the Retry-After header (RFC 9110
// §10.2.3): whole seconds, rounded up, at least one.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(retryAfterSecs(d)), 10)
}

func retryAfterSecs(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// ByIP keys a rule by the client IP (echo's RealIP, which believes
// X-Forwarded-For only from trusted proxies when the IPExtractor says so).
func ByIP(c echo.Context) string {
	return c.RealIP()
}

// ByFormField keys a rule by a form field, trimmed and lower-cased, so that
// "Alice@Example.com" and "alice@example.com" share one budget. It parses
// the form into the request (r.Form), which later handlers read again.
func ByFormField(name string) func(c echo.Context) string {
	return func(c echo.Context) string {
		return strings.ToLower(strings.TrimSpace(c.FormValue(name)))
	}
}

// ByClient keys a rule by the OAuth client: the HTTP Basic user name
// (RFC 6749 §2.3.1: form-encoded) or else the client_id form field.
func ByClient(c echo.Context) string {
	if user, _, ok := c.Request().BasicAuth(); ok && user != "" {
		if u, err := url.QueryUnescape(user); err == nil {
			return u
		}
		return user
	}
	return c.FormValue("client_id")
}

// LimitedError is a request refused for going over a limit. It carries the
// wait; errors.As finds an *echo.HTTPError with status 429 inside it, so
// an error handler that knows only echo's errors still answers 429.
type LimitedError struct {
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string {
	return "ratelimit: too many requests; retry after " + e.RetryAfter.String()
}

// Unwrap returns an *echo.HTTPError with status 429.
func (e *LimitedError) Unwrap() error {
	return echo.NewHTTPError(http.StatusTooManyRequests, e.Message())
}

// StatusCode is 429 Too Many Requests.
func (e *LimitedError) StatusCode() int { return http.StatusTooManyRequests }

// Title is the heading of the page shown for the error.
func (e *LimitedError) Title() string { return "Too many attempts" }

// Message tells the person how long to wait, in words fit for a page.
func (e *LimitedError) Message() string {
	return "Too many requests. Try again in " + waitPhrase(e.RetryAfter) + "."
}

func waitPhrase(d time.Duration) string {
	if s := retryAfterSecs(d); s != 1 {
		return strconv.Itoa(s) + " seconds"
	}
	return "1 second"
}

// Respond answers a limited request (RFC 6585 §4: 429 with Retry-After).
// With asJSON (OAuth and API endpoints) it writes
// {"error":"too_many_requests","error_description":"Too many requests. Try again in N seconds."}
// itself and returns its write error. Otherwise it returns a *LimitedError
// for the central error handler to render as a page. Either way the
// response carries Retry-After and must not be cached.
func Respond(c echo.Context, d Decision, asJSON bool) error {
	h := c.Response().Header()
	h.Set("Retry-After", retryAfterSeconds(d.RetryAfter))
	h.Set("Cache-Control", "no-store")
	e := &LimitedError{RetryAfter: d.RetryAfter}
	if !asJSON {
		return e
	}
	return c.JSON(http.StatusTooManyRequests, map[string]string{
		"error":             "too_many_requests",
		"error_description": e.Message(),
	})
}
