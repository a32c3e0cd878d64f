package oidc

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/ory/fosite"

	"gatehouse/identity"
	"gatehouse/templates"
)

// Users is what the protocol endpoints need of the identity service.
type Users interface {
	// GetUser returns the user or identity.ErrNotFound.
	GetUser(ctx context.Context, id string) (*identity.User, error)
}

// MaxLoginLength bounds a login name that is looked up: longer is never
// a valid login.
const MaxLoginLength = 320

// Handler serves the protocol endpoints: discovery, JWKS, authorization,
// token, userinfo, revocation, introspection and logout. The interactive
// part of the authorization endpoint is SignIn's (package authflow).
type Handler struct {
	Provider *Provider
	Users    Users
	// SignIn runs the sign-in flow of each authorization request.
	SignIn SignIn
	// Browser signs browsers in and out.
	Browser *Browser
	Pages   *templates.Renderer
	// LogoutKey keys the MAC of a logout request kept across its
	// confirmation page.
	LogoutKey []byte
	Logger    *slog.Logger
	Now       func() time.Time
	// RolesClaim names the claim of the user's roles (scope "roles");
	// empty means DefaultRolesClaim.
	RolesClaim string
	// Roles gives the custom roles a user's admin scopes are granted by
	// (see grantUserScopes); nil: only the built-in roles count.
	Roles RoleLister
	// Auditor records security events (nil records nothing).
	Auditor AuditRecorder
	// Tokens counts the token endpoint's issued tokens for the usage
	// figures (nil counts nothing).
	Tokens TokenCounter
	// Outage is told of requests that failed because the database could
	// not be used (nil: nobody is told).
	Outage OutageReporter
	// SelfSignup lets a client ask for the sign-up (prompt=create).
	SelfSignup bool
	// ClientAuthLimit refuses client authentication after repeated
	// failures; nil never does.
	ClientAuthLimit *ClientAuthLimit
	// RegistrationEnabled announces the client registration endpoint
	// (package clientreg) in the discovery document.
	RegistrationEnabled bool
	// discovery is the pre-serialised discovery document.
	discovery []byte
	// jwksCache is the JWKS Cache-Control value: relying parties refetch
	// within the time a rotation waits after publishing the next key.
	jwksCache []string
}

// Mount registers every route on e.
func (h *Handler) Mount(e *echo.Echo) {
	h.discovery = h.buildDiscovery()
	h.jwksCache = []string{"public, max-age=" + strconv.FormatInt(int64(h.Provider.Keys.JWKSMaxAge/time.Second), 10)}

	e.GET(PathDiscovery, h.serveDiscovery)
	e.GET(PathJWKS, h.serveJWKS)
	e.GET(PathAuthorize, h.authorize)
	e.POST(PathAuthorize, h.authorize)
	e.POST(PathToken, tokenEndpoint{h}.serve)
	e.GET(PathUserinfo, h.userinfo)
	e.POST(PathUserinfo, h.userinfo)
	e.POST(PathRevoke, h.revoke)
	e.POST(PathIntrospect, h.introspect)

	// CSRF protection on the hosted pages only (a Group with middleware
	// would also catch every unknown path).
	csrf := CSRF(h.Browser.Secure)
	e.POST(PathLogout, endSession{h}.logoutConfirm, csrf)
	// A POSTed logout request comes from another site without a CSRF
	// token; its confirmation page gets one (see endSession.post).
	e.GET(PathEndSession, endSession{h}.get, csrf)
	e.POST(PathEndSession, endSession{h}.post)
}

func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfContextKey).(string)
	return s
}

// CSRF returns the middleware that protects every hosted form: a token in
// an HttpOnly, SameSite=Lax cookie that each POST must echo in its "csrf"
// field. Pages read the token with CSRFToken.
func CSRF(secure bool) echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:csrf",
		CookieName:     cookieName(csrfCookie, secure),
		CookiePath:     "/",
		CookieMaxAge:   csrfMaxAge,
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteLaxMode,
		ContextKey:     csrfContextKey,
		ErrorHandler: func(err error, c echo.Context) error {
			return &PageError{Status: http.StatusForbidden, Title: "This form has expired",
				Message: "Please go back, reload the page and try again.", Err: err}
		},
	})
}

// CSRFToken returns the token a page must put in its forms.
func CSRFToken(c echo.Context) string { return csrfToken(c) }

func (h *Handler) rolesClaim() string {
	if h.RolesClaim != "" {
		return h.RolesClaim
	}
	return DefaultRolesClaim
}

// sessionRoles returns the roles a session carries, and whether it
// carries any: only a user's grant with the "roles" scope does. An empty
// list is a user without roles.
func sessionRoles(s fosite.Session) ([]string, bool) {
	sess, ok := s.(*Session)
	if !ok || sess.Roles == nil {
		return nil, false
	}
	return sess.Roles, true
}
