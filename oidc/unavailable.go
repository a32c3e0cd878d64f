package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/migrations/dberr"
	"gatehouse/templates"
)

// RetryAfter is the Retry-After value, in seconds, of every 503 answer:
// the database is down, the server is starting or shutting down, or a
// request ran out of time.
const RetryAfter = "5"

// OutageReporter is told of each request that failed because the database
// could not be used, so that the outage is logged once rather than once
// per request (dberr.Outage).
type OutageReporter interface {
	// Report records one failure caused by err.
	Report(ctx context.Context, err error)
}

// Unavailable reports whether err means the request could not be served
// for now rather than that it was wrong: the database could not be used,
// or the request's own context ended (its deadline passed, or the server
// cancelled it while shutting down).
func Unavailable(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if dberr.IsUnavailable(err) {
		return true
	}
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// unavailableBody is the OAuth error object of a 503. RFC 6749 §4.1.2.1
// defines temporarily_unavailable for the authorization endpoint; the
// protocol endpoints (token, introspection, revocation, UserInfo,
// registration, discovery) answer with the same code and status, which
// clients that only know §5.2 treat as an error to retry later.
var unavailableBody, _ = json.Marshal(map[string]string{
	"error":             "temporarily_unavailable",
	"error_description": "The service is temporarily unable to handle the request. Retry after the time in the Retry-After header.",
})

// WriteUnavailable answers 503 with Retry-After in the format of the
// route: an OAuth error object on the protocol endpoints, a page
// elsewhere. It works before the provider is built (pages may be nil
// only then: a plain-text body is written instead of a page).
func WriteUnavailable(w http.ResponseWriter, r *http.Request, pages *templates.Renderer, requestID string) {
	h := w.Header()
	h.Set("Retry-After", RetryAfter)
	h.Set("Cache-Control", "no-store")
	if strings.HasPrefix(r.URL.Path, PathAdminAPI) {
		writeProblem(w, http.StatusServiceUnavailable, "The service is temporarily unable to handle the request.")
		return
	}
	if JSONRoute(r.URL.Path) {
		h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(unavailableBody)
		return
	}
	if pages == nil {
		http.Error(w, "Temporarily unavailable. Please try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = pages.Error(w, templates.ErrorPage{
		Title:     "Temporarily unavailable",
		Message:   "The service cannot handle your request right now. Please try again in a moment.",
		RequestID: requestID, Status: http.StatusServiceUnavailable,
	})
}

// JSONRoute reports whether path is a protocol endpoint whose answers,
// errors included, are JSON and never rendered as a document: the error
// handler, the 503 answer and the security headers all follow it.
func JSONRoute(path string) bool {
	switch {
	case path == PathDiscovery, path == PathJWKS, path == PathToken, path == PathIntrospect,
		path == PathRevoke, path == PathUserinfo, strings.HasPrefix(path, PathClientRegistration),
		strings.HasPrefix(path, PathAdminAPI):
		return true
	}
	return false
}

// unavailable answers a request that failed because the database could
// not be used or the request ran out of time, and reports a database
// outage once.
func (h *Handler) unavailable(c echo.Context, err error) error {
	h.reportOutage(c.Request().Context(), err)
	WriteUnavailable(c.Response(), c.Request(), h.Pages, c.Response().Header().Get(echo.HeaderXRequestID))
	return nil
}

// reportOutage tells Outage of a failure that the database caused.
func (h *Handler) reportOutage(ctx context.Context, err error) {
	if h.Outage != nil && databaseFailed(ctx, err) {
		h.Outage.Report(ctx, err)
	}
}

// databaseFailed reports whether err is the database's failure rather
// than the request's: a cancelled request (its client went away, or a
// shutdown) fails its queries too.
func databaseFailed(ctx context.Context, err error) bool {
	return dberr.IsUnavailable(err) && !errors.Is(ctx.Err(), context.Canceled)
}

// writeProblem answers an admin API request that failed before reaching
// the API (routing, size limits, deadlines) as RFC 9457 problem details,
// like the API's own errors.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	w.Header().Set(echo.HeaderContentType, "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
