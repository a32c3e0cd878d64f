package oidc

import (
	"time"

	"github.com/labstack/echo/v4"

	"gatehouse/oidc/ratelimit"
)

// ClientAuthLimit stops secret guessing at the token, revocation and
// introspection endpoints: once a client ID, or an address, has failed
// client authentication Limit times within a Window, further attempts
// are refused with 429 before any secret or assertion is checked, until
// the window ends. Successful authentications are not counted.
type ClientAuthLimit struct {
	// Failures counts failed authentications; through Redis when
	// configured, so every instance sees the same counts.
	Failures  ratelimit.Counter
	PerClient ratelimit.Rule
	PerIP     ratelimit.Rule
}

type failureKey struct {
	key  string
	rule ratelimit.Rule
}

// keys are the counters a request's failure adds to: its client ID (HTTP
// Basic user or client_id) and its address.
func (l *ClientAuthLimit) keys(c echo.Context) []failureKey {
	var out []failureKey
	if id := ratelimit.ByClient(c); id != "" {
		out = append(out, failureKey{"client_auth_client:" + id, l.PerClient})
	}
	if ip := ratelimit.ByIP(c); ip != "" {
		out = append(out, failureKey{"client_auth_ip:" + ip, l.PerIP})
	}
	return out
}

// clientAuthRefused answers 429 with Retry-After and an OAuth-style JSON
// error when the request's client ID or address is over its limit, and
// reports whether it did. The wait is what is left of the counter's
// window (fixed windows: the count starts again when it ends).
func (h *Handler) clientAuthRefused(c echo.Context) (bool, error) {
	l := h.ClientAuthLimit
	if l == nil {
		return false, nil
	}
	ctx := c.Request().Context()
	var wait time.Duration
	for _, k := range l.keys(c) {
		n, err := l.Failures.Count(ctx, k.key, k.rule.Window)
		if err != nil {
			h.Logger.WarnContext(ctx, "client authentication failure counter unavailable", "error", err)
			continue
		}
		if n >= k.rule.Limit {
			wait = max(wait, h.windowLeft(c, k))
		}
	}
	if wait == 0 {
		return false, nil
	}
	return true, ratelimit.Respond(c, ratelimit.Decision{RetryAfter: wait}, true)
}

// windowLeft is the wait until k's window ends, or the whole window when
// the counter cannot tell.
func (h *Handler) windowLeft(c echo.Context, k failureKey) time.Duration {
	wc, ok := h.ClientAuthLimit.Failures.(ratelimit.WindowCounter)
	if !ok {
		return k.rule.Window
	}
	d, err := wc.WindowLeft(c.Request().Context(), k.key, k.rule.Window)
	if err != nil || d <= 0 {
		return k.rule.Window
	}
	return d
}

// clientAuthFailed counts a failed client authentication.
func (h *Handler) clientAuthFailed(c echo.Context) {
	l := h.ClientAuthLimit
	if l == nil {
		return
	}
	ctx := c.Request().Context()
	for _, k := range l.keys(c) {
		if err := l.Failures.Add(ctx, k.key, k.rule.Window); err != nil {
			h.Logger.WarnContext(ctx, "client authentication failure counter unavailable", "error", err)
		}
	}
}
