package adminapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"gatehouse/identity"
	"gatehouse/identity/access"
	"gatehouse/oidc"
)

// Handler serves the admin API.
type Handler struct {
	// Issuer is the provider's issuer URL: the served document's server
	// and OAuth endpoints hang off it, and it is the bearer realm.
	Issuer string
	// Verify checks bearer access tokens.
	Verify TokenVerifier
	// Users reads users.
	Users UserReader
	// Search searches users and looks them up in batches.
	Search identity.UserSearcher
	// Admin creates, changes, deactivates and deletes users.
	Admin UserAdmin
	// Roles grants roles and lists them.
	Roles RoleService
	// Clients manages OAuth clients.
	Clients ClientAdmin
	// Audit reads the audit trail.
	Audit AuditLister
	// Usage makes usage reports.
	Usage UsageReporter
	// Outage is told of database failures; may be nil.
	Outage oidc.OutageReporter
	Logger *slog.Logger
	// CheckResponses validates every answer against the document and
	// turns one that does not match into a 500: for tests.
	CheckResponses bool

	doc *document
}

// UserReader reads one user; *identity.Accounts is one.
type UserReader interface {
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// RoleService is what the API needs of identity.Roles.
type RoleService interface {
	SetRoles(ctx context.Context, actor identity.Actor, userID string, roles []string) (*identity.User, error)
	ListRoles(ctx context.Context) ([]access.Role, error)
}

// Mount adds the API's routes to e: the document, and every operation
// of it behind guard. It fails when the document is not valid.
func (h *Handler) Mount(e *echo.Echo) error {
	doc, err := loadDocument(h.Issuer)
	if err != nil {
		return err
	}
	h.doc = doc
	e.GET(PathDocument, func(c echo.Context) error {
		doc.serveDocument(c.Response())
		return nil
	})
	// guard comes first: echo gives a route the group's middleware as it
	// stands when the route is added. Use also routes every other path
	// under the prefix through guard, which answers it with a 404 problem.
	g := e.Group(Path, noStore)
	g.Use(h.guard)
	RegisterHandlers(g, h)
	return nil
}

// noStore keeps every answer out of caches: they hold personal data.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// answer writes the problem a handler returned, if any.
func (h *Handler) answer(c echo.Context, err error) error {
	if err == nil {
		return nil
	}
	var p *problem
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &he) && he.Code < http.StatusInternalServerError:
		// The generated parameter binding, should the document let
		// through a value it cannot read.
		p = newProblem(he.Code, "The request does not match the API document.")
	default:
		p = h.failure(c, err)
	}
	if c.Response().Committed {
		return nil
	}
	return p.write(c)
}

// failure is the problem for an error no handler expected: 503 with
// Retry-After when the database could not be used, else 500, logged
// without the request's content.
func (h *Handler) failure(c echo.Context, err error) *problem {
	ctx := c.Request().Context()
	if oidc.Unavailable(ctx, err) {
		if h.Outage != nil {
			h.Outage.Report(ctx, err)
		}
		c.Response().Header().Set("Retry-After", oidc.RetryAfter)
		return newProblem(http.StatusServiceUnavailable, "The service is temporarily unable to handle the request.")
	}
	h.Logger.ErrorContext(ctx, "admin API request failed", "error", err,
		"method", c.Request().Method, "route", c.Path())
	return newProblem(http.StatusInternalServerError, "An unexpected error occurred.")
}

// checked runs next with its answer held back, checks the answer against
// the document, and sends it, or a 500 naming the mismatch.
func (h *Handler) checked(c echo.Context, in *openapi3filter.RequestValidationInput, next echo.HandlerFunc) error {
	res := c.Response()
	real := res.Writer
	rec := &recorder{header: http.Header{}}
	res.Writer = rec
	err := h.answer(c, next(c))
	res.Writer = real
	if err != nil {
		return err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.status, Header: rec.header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	out.SetBodyBytes(rec.body.Bytes())
	if verr := openapi3filter.ValidateResponse(c.Request().Context(), out); verr != nil {
		for k := range real.Header() {
			real.Header().Del(k)
		}
		real.Header().Set(echo.HeaderContentType, "text/plain; charset=utf-8")
		real.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(real, "answer %d does not match openapi.yaml: %v", rec.status, verr)
		return nil
	}
	for k, v := range rec.header {
		real.Header()[k] = v
	}
	real.WriteHeader(rec.status)
	_, _ = real.Write(rec.body.Bytes())
	return nil
}

// recorder holds an answer back for checked.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
