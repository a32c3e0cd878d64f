package oidc

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/oidc/ratelimit"
	"gatehouse/templates"
)

// PageError is an error shown to a person as a page. Handlers of hosted
// pages return it; ErrorHandler renders it.
type PageError struct {
	Status  int
	Title   string
	Message string
	Err     error // the cause, logged for 5xx, never shown
}

func (e *PageError) Error() string {
	if e.Err != nil {
		return e.Title + ": " + e.Err.Error()
	}
	return e.Title
}

func (e *PageError) Unwrap() error { return e.Err }

// msgBusy is the page text of a request refused with identity.ErrBusy.
const msgBusy = "We are very busy right now, please try again in a moment."

// busyRetryAfter is the Retry-After of that answer, in seconds: about the
// default time a request waits for a hashing worker.
const busyRetryAfter = "2"

func pageError(status int, title, message string) *PageError {
	return &PageError{Status: status, Title: title, Message: message}
}

// ErrorHandler is echo's one error handler: it maps errors to a page or to
// JSON for API paths, and logs every 5xx once with the request ID. It
// never shows internal error text. An unavailable database, or a request
// whose context ended, is 503 with Retry-After (see Unavailable); a
// database outage is reported to outage (nil: logged per request).
func ErrorHandler(pages *templates.Renderer, log *slog.Logger, outage OutageReporter) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if ctx := c.Request().Context(); Unavailable(ctx, err) {
			switch {
			case !databaseFailed(ctx, err):
				// The request ran out of time or was cancelled (by a
				// shutdown, or its client left): not an outage.
			case outage != nil:
				outage.Report(ctx, err)
			default:
				log.ErrorContext(ctx, "request failed: database unavailable", "error", err)
			}
			WriteUnavailable(c.Response(), c.Request(), pages, c.Response().Header().Get(echo.HeaderXRequestID))
			return
		}
		status, title, message := http.StatusInternalServerError, "Something went wrong", "An unexpected error occurred. Please try again in a moment."
		var pe *PageError
		var he *echo.HTTPError
		var le *ratelimit.LimitedError
		switch {
		case errors.Is(err, identity.ErrBusy):
			// Every password hashing worker stayed busy: nothing was
			// checked, and the same request will do in a moment.
			c.Response().Header().Set("Retry-After", busyRetryAfter)
			status, title, message = http.StatusServiceUnavailable, "Very busy", msgBusy
		case errors.As(err, &pe):
			status, title, message = pe.Status, pe.Title, pe.Message
		case errors.As(err, &le):
			status, title, message = le.StatusCode(), le.Title(), le.Message()
		case errors.As(err, &he):
			status = he.Code
			title = http.StatusText(status)
			message = "The request could not be handled."
			if status == http.StatusNotFound {
				title, message = "Page not found", "There is nothing at this address."
			}
			switch status {
			case http.StatusRequestEntityTooLarge:
				message = "The request was too large."
			case http.StatusRequestHeaderFieldsTooLarge:
				message = "The request headers were too large."
			}
		}
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		if errors.Is(err, identity.ErrBusy) {
			log.WarnContext(c.Request().Context(), "request refused: password hashing busy",
				"method", c.Request().Method, "path", c.Request().URL.Path)
		} else if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "error", err, "status", status,
				"method", c.Request().Method, "path", c.Request().URL.Path)
		}
		if strings.HasPrefix(c.Request().URL.Path, PathAdminAPI) {
			writeProblem(c.Response(), status, message)
			return
		}
		if wantsJSON(c) {
			code := "invalid_request"
			if status == http.StatusServiceUnavailable {
				code = "temporarily_unavailable"
			} else if status >= 500 {
				code = "server_error"
			} else if status == http.StatusNotFound {
				code = "not_found"
			}
			_ = c.JSON(status, map[string]string{"error": code, "error_description": message})
			return
		}
		_ = pages.Error(StartPage(c, status), templates.ErrorPage{Title: title, Message: message, RequestID: reqID, Status: status})
	}
}

func wantsJSON(c echo.Context) bool { return JSONRoute(c.Request().URL.Path) }

// StartPage writes the headers of a hosted page and its status, and returns
// the writer for the body. Pages show personal data and carry CSRF tokens:
// no cache may keep them.
func StartPage(c echo.Context, status int) io.Writer {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return c.Response()
}
